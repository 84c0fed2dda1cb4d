/** A typed registry per extension point, keyed by the config `type` string; duplicates are fatal. */

import { MosnError } from "./errors.ts";

export class Registry<T> {
  readonly #kind: string;
  readonly #items = new Map<string, T>();

  constructor(kind: string) {
    this.#kind = kind;
  }

  register(name: string, item: T): void {
    const key = name.toLowerCase();
    if (this.#items.has(key)) {
      throw new MosnError("REGISTRY_DUPLICATE", `${this.#kind} "${name}" is registered twice`);
    }
    this.#items.set(key, item);
  }

  /** Case-insensitive, like MOSN's config keys. */
  get(name: string): T | undefined {
    return this.#items.get(name.toLowerCase());
  }

  has(name: string): boolean {
    return this.#items.has(name.toLowerCase());
  }

  names(): string[] {
    return [...this.#items.keys()];
  }
}
