/**
 * An ordered header list that keeps each name's original case (HTTP/1 peers see exactly what was
 * sent) and looks names up case-insensitively. Stored flat: [name0, value0, name1, value1, …].
 * Lookups compare lower-cased names, computed once per entry and cached.
 */

export class HeaderMap {
  /** Flat name/value pairs, names in their original case. */
  readonly raw: string[];
  #lower: (string | undefined)[];

  constructor(raw: string[] = []) {
    this.raw = raw;
    this.#lower = [];
  }

  static from(init: Record<string, string> | [string, string][]): HeaderMap {
    const h = new HeaderMap();
    const entries = Array.isArray(init) ? init : Object.entries(init);
    for (const [k, v] of entries) h.add(k, v);
    return h;
  }

  get size(): number {
    return this.raw.length >> 1;
  }

  #lowerAt(i: number): string {
    const j = i >> 1;
    let l = this.#lower[j];
    if (l === undefined) this.#lower[j] = l = this.raw[i]!.toLowerCase();
    return l;
  }

  #index(name: string, from = 0): number {
    const lname = name.toLowerCase();
    const r = this.raw;
    for (let i = from; i < r.length; i += 2) {
      if (r[i]!.length === lname.length && this.#lowerAt(i) === lname) return i;
    }
    return -1;
  }

  /** The first value of `name`, or undefined. */
  get(name: string): string | undefined {
    const i = this.#index(name);
    return i < 0 ? undefined : this.raw[i + 1];
  }

  /** Every value of `name` in order. */
  getAll(name: string): string[] {
    const out: string[] = [];
    for (let i = this.#index(name); i >= 0; i = this.#index(name, i + 2)) {
      out.push(this.raw[i + 1]!);
    }
    return out;
  }

  has(name: string): boolean {
    return this.#index(name) >= 0;
  }

  /** Appends a value (keeps existing ones). */
  add(name: string, value: string): void {
    this.raw.push(name, value);
  }

  /** Replaces every value of `name` with one (at the first one's position, keeping its case). */
  set(name: string, value: string): void {
    const i = this.#index(name);
    if (i < 0) {
      this.raw.push(name, value);
      return;
    }
    this.raw[i + 1] = value;
    this.#deleteFrom(name, i + 2);
  }

  /** Removes every value of `name`; returns whether any was there. */
  delete(name: string): boolean {
    return this.#deleteFrom(name, 0);
  }

  #deleteFrom(name: string, from: number): boolean {
    let found = false;
    for (let i = this.#index(name, from); i >= 0; i = this.#index(name, i)) {
      this.raw.splice(i, 2);
      this.#lower.splice(i >> 1, 1);
      found = true;
    }
    return found;
  }

  forEach(fn: (value: string, name: string) => void): void {
    const r = this.raw;
    for (let i = 0; i < r.length; i += 2) fn(r[i + 1]!, r[i]!);
  }

  /** A plain object with lower-cased names (values of repeated names joined by ", "). */
  toObject(): Record<string, string> {
    const out: Record<string, string> = {};
    const r = this.raw;
    for (let i = 0; i < r.length; i += 2) {
      const k = this.#lowerAt(i);
      out[k] = k in out ? `${out[k]}, ${r[i + 1]}` : r[i + 1]!;
    }
    return out;
  }

  clone(): HeaderMap {
    const h = new HeaderMap(this.raw.slice());
    h.#lower = this.#lower.slice();
    return h;
  }
}
