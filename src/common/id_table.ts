/**
 * A map from integer ids (HTTP/2 stream ids, RPC request ids) to the objects in flight, for
 * tables that gain and lose an entry on every request.
 *
 * Why not a `Map`: V8 keeps a Map's entries in a table that it replaces (rehashes) once deleted
 * entries pile up, and a replaced table keeps pointing at every value it held, including the
 * requests that were in flight at that moment. When the Map has lived long enough to sit in
 * the old generation, its tables are allocated there too, and the young-generation collector
 * treats every pointer from an old object into the young generation as live, without asking
 * whether the old object (a discarded table) is itself still reachable. So each discarded
 * table keeps whole finished requests (their messages, headers, attempts) alive through every
 * scavenge until the next full collection: under load a quarter or more of all per-request
 * memory was promoted that way, and the scavenges that copy it took tens of milliseconds.
 *
 * Here the entries live in arrays that are reused in place (open addressing, linear probing,
 * deletion by shifting back, so no tombstones): a removed entry's slot is overwritten at once,
 * and arrays replaced on growth are cleared, so nothing stale points at a finished request.
 */

const MIN_CAPACITY = 8;

export class IdTable<V> {
  #keys: Float64Array;
  #vals: (V | undefined)[];
  #mask: number;
  #shift: number;
  #size = 0;

  constructor(capacity = MIN_CAPACITY) {
    let cap = MIN_CAPACITY;
    while (cap < capacity) cap *= 2;
    this.#keys = new Float64Array(cap);
    this.#vals = new Array<V | undefined>(cap).fill(undefined);
    this.#mask = cap - 1;
    this.#shift = 32 - Math.log2(cap);
  }

  get size(): number {
    return this.#size;
  }

  /** Fibonacci hashing: sequential ids (stride 1 or 2) spread over the whole table. */
  #home(key: number): number {
    return Math.imul(key | 0, 0x9e3779b1) >>> this.#shift;
  }

  #find(key: number): number {
    const keys = this.#keys;
    const vals = this.#vals;
    const mask = this.#mask;
    for (let i = this.#home(key);; i = (i + 1) & mask) {
      if (vals[i] === undefined) return -1;
      if (keys[i] === key) return i;
    }
  }

  get(key: number): V | undefined {
    const i = this.#find(key);
    return i < 0 ? undefined : this.#vals[i];
  }

  has(key: number): boolean {
    return this.#find(key) >= 0;
  }

  /** Adds or replaces the entry for `key` (`value` must not be undefined). */
  set(key: number, value: V): void {
    const i = this.#find(key);
    if (i >= 0) {
      this.#vals[i] = value;
      return;
    }
    if ((this.#size + 1) * 2 > this.#vals.length) this.#grow();
    this.#insert(key, value);
    this.#size++;
  }

  #insert(key: number, value: V): void {
    const keys = this.#keys;
    const vals = this.#vals;
    const mask = this.#mask;
    let i = this.#home(key);
    while (vals[i] !== undefined) i = (i + 1) & mask;
    keys[i] = key;
    vals[i] = value;
  }

  delete(key: number): boolean {
    let i = this.#find(key);
    if (i < 0) return false;
    const keys = this.#keys;
    const vals = this.#vals;
    const mask = this.#mask;
    vals[i] = undefined;
    this.#size--;
    // Shift later members of the probe run back, so lookups never need tombstones.
    for (let j = (i + 1) & mask; vals[j] !== undefined; j = (j + 1) & mask) {
      const h = this.#home(keys[j]!);
      // Entry j may move to the hole at i unless its home lies cyclically in (i, j].
      const stays = i <= j ? h > i && h <= j : h > i || h <= j;
      if (stays) continue;
      keys[i] = keys[j]!;
      vals[i] = vals[j];
      vals[j] = undefined;
      i = j;
    }
    return true;
  }

  #grow(): void {
    const oldKeys = this.#keys;
    const oldVals = this.#vals;
    const cap = oldVals.length * 2;
    this.#keys = new Float64Array(cap);
    this.#vals = new Array<V | undefined>(cap).fill(undefined);
    this.#mask = cap - 1;
    this.#shift--;
    for (let i = 0; i < oldVals.length; i++) {
      const v = oldVals[i];
      if (v !== undefined) this.#insert(oldKeys[i]!, v);
    }
    // The old array may already be in the old generation: leave it pointing at nothing.
    oldVals.fill(undefined);
  }

  /**
   * The values in ascending id order (the order they were added in, for ids handed out in
   * sequence), as a copy: the table may change while the caller goes through them.
   */
  values(): V[] {
    const keys = this.#keys;
    const vals = this.#vals;
    const at: number[] = [];
    for (let i = 0; i < vals.length; i++) if (vals[i] !== undefined) at.push(i);
    at.sort((a, b) => keys[a]! - keys[b]!);
    return at.map((i) => vals[i]!);
  }

  clear(): void {
    this.#vals.fill(undefined);
    this.#size = 0;
  }
}

/**
 * A set of objects that carry a unique numeric `id` (connections), for sets that gain and lose
 * a member per connection: the same reasoning as {@link IdTable}, with a Set's surface.
 * Iteration goes over a copy, in ascending id order (the order they were added in).
 */
export class IdSet<T extends { readonly id: number }> implements Iterable<T> {
  readonly #table = new IdTable<T>();

  get size(): number {
    return this.#table.size;
  }

  add(v: T): this {
    this.#table.set(v.id, v);
    return this;
  }

  has(v: T): boolean {
    return this.#table.get(v.id) === v;
  }

  delete(v: T): boolean {
    return this.#table.get(v.id) === v && this.#table.delete(v.id);
  }

  values(): T[] {
    return this.#table.values();
  }

  [Symbol.iterator](): Iterator<T> {
    return this.#table.values()[Symbol.iterator]();
  }

  clear(): void {
    this.#table.clear();
  }
}
