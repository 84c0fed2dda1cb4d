/** One level's request or response header edits (remove first, then add), compiled once. */

import type { HeaderValueOption } from "../config/router_model.ts";
import type { HeaderMap } from "../protocol/header_map.ts";
import type { HeaderVariables } from "./types.ts";

const VARIABLE = /^%([A-Za-z_][A-Za-z0-9_]*)%$/;

export class HeaderMutations {
  readonly #remove: readonly string[];
  readonly #names: string[] = [];
  readonly #values: string[] = [];
  readonly #variables: (string | undefined)[] = [];
  readonly #append: boolean[] = [];

  private constructor(add: readonly HeaderValueOption[], remove: readonly string[]) {
    this.#remove = remove;
    for (const a of add) {
      this.#names.push(a.key);
      this.#values.push(a.value);
      this.#variables.push(VARIABLE.exec(a.value)?.[1]);
      this.#append.push(a.append);
    }
  }

  /** undefined when there is nothing to do, so callers can skip the level entirely. */
  static of(
    add: readonly HeaderValueOption[],
    remove: readonly string[],
  ): HeaderMutations | undefined {
    return add.length === 0 && remove.length === 0 ? undefined : new HeaderMutations(add, remove);
  }

  /**
   * Removes listed headers, then adds: `append` adds one more field line (Envoy; a joined value
   * would corrupt Set-Cookie), otherwise replaces every existing value.
   */
  apply(h: HeaderMap, vars: HeaderVariables | undefined): void {
    const rm = this.#remove;
    for (let i = 0; i < rm.length; i++) h.delete(rm[i]!);
    const names = this.#names;
    for (let i = 0; i < names.length; i++) {
      let value = this.#values[i]!;
      const variable = this.#variables[i];
      if (variable !== undefined && vars !== undefined) {
        const v = vars(variable);
        if (v === "") continue; // an empty variable adds nothing (Envoy)
        if (v !== undefined) value = v;
      }
      if (this.#append[i]) h.add(names[i]!, value);
      else h.set(names[i]!, value);
    }
  }
}
