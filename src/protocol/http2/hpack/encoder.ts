/**
 * HPACK header block encoding (RFC 7541). Repeated fields (the same :path, user-agent,
 * content-type… on every request) become one-byte indexed references through the dynamic
 * table; literals are sent raw (no Huffman: it would cost CPU to save loopback bytes).
 */

import { STATIC_TABLE } from "./tables.ts";

const STATIC_LEN = STATIC_TABLE.length;
/**
 * name → (value → static index), and name → its first static index. Two levels rather than a
 * "name\0value" key: no string is built per field, and the decoder's table strings (the same
 * objects request after request) keep their cached hashes.
 */
const STATIC_FULL = new Map<string, Map<string, number>>();
const STATIC_NAME = new Map<string, number>();
STATIC_TABLE.forEach(([n, v], i) => {
  let byValue = STATIC_FULL.get(n);
  if (!byValue) STATIC_FULL.set(n, byValue = new Map());
  if (!byValue.has(v)) byValue.set(v, i + 1);
  if (!STATIC_NAME.has(n)) STATIC_NAME.set(n, i + 1);
});

/** Values longer than this are not indexed (they rarely repeat and would flush the table). */
const MAX_INDEXED_VALUE = 256;
/** Fields never put in the table (RFC 7541 §7.1.3: secrets). */
const NEVER_INDEX = new Set(["authorization", "proxy-authorization", "cookie", "set-cookie"]);

export class HpackEncoder {
  /** Sizes of live entries from #head on, oldest first; entry k lives while k >= #evicted. */
  readonly #entrySizes: number[] = [];
  #head = 0;
  readonly #full = new Map<string, Map<string, number>>();
  #fullCount = 0;
  readonly #byName = new Map<string, number>();
  #inserted = 0;
  #evicted = 0;
  #size = 0;
  #limit: number;
  /** A size update to announce at the start of the next block. */
  #pendingUpdate = -1;
  #buf = new Uint8Array(4096);
  #pos = 0;

  constructor(tableSize = 4096) {
    this.#limit = tableSize;
  }

  /** The peer's SETTINGS_HEADER_TABLE_SIZE changed: use at most that (we cap at 4096). */
  setMaxTableSize(size: number): void {
    const next = Math.min(size, 4096);
    if (next === this.#limit) return;
    this.#limit = next;
    this.#pendingUpdate = this.#pendingUpdate < 0 ? next : Math.min(this.#pendingUpdate, next);
    this.#evict(0);
  }

  /**
   * Starts a block; then call field() per header and finish() for the bytes. Names must be
   * lower-case already.
   */
  begin(): void {
    this.#pos = 0;
    if (this.#pendingUpdate >= 0) {
      this.#int(this.#pendingUpdate, 5, 0x20);
      this.#pendingUpdate = -1;
    }
  }

  field(name: string, value: string): void {
    const s = STATIC_FULL.get(name)?.get(value);
    if (s !== undefined) {
      this.#int(s, 7, 0x80);
      return;
    }
    const byValue = this.#full.get(name);
    const d = byValue?.get(value);
    if (d !== undefined && d >= this.#evicted) {
      this.#int(STATIC_LEN + this.#inserted - d, 7, 0x80);
      return;
    }
    let nameIdx = STATIC_NAME.get(name) ?? 0;
    if (nameIdx === 0) {
      const dn = this.#byName.get(name);
      if (dn !== undefined && dn >= this.#evicted) nameIdx = STATIC_LEN + this.#inserted - dn;
    }
    const size = name.length + value.length + 32;
    if (NEVER_INDEX.has(name)) {
      this.#int(nameIdx, 4, 0x10);
    } else if (value.length > MAX_INDEXED_VALUE || size > this.#limit) {
      this.#int(nameIdx, 4, 0x00);
    } else {
      this.#int(nameIdx, 6, 0x40);
      if (nameIdx === 0) this.#str(name);
      this.#str(value);
      this.#insert(name, value, size);
      return;
    }
    if (nameIdx === 0) this.#str(name);
    this.#str(value);
  }

  /** The encoded block (a copy the caller owns). */
  finish(): Uint8Array {
    return this.#buf.slice(0, this.#pos);
  }

  /** The encoded block, lent: valid until the next begin(). */
  finishLent(): Uint8Array {
    return this.#buf.subarray(0, this.#pos);
  }

  #insert(name: string, value: string, size: number): void {
    if (size > this.#limit) return;
    this.#evict(size);
    const k = this.#inserted++;
    this.#entrySizes.push(size);
    let byValue = this.#full.get(name);
    if (!byValue) this.#full.set(name, byValue = new Map());
    if (!byValue.has(value)) this.#fullCount++;
    byValue.set(value, k);
    this.#byName.set(name, k);
    this.#size += size;
  }

  #evict(room: number): void {
    const sizes = this.#entrySizes;
    let head = this.#head;
    while (this.#size + room > this.#limit && head < sizes.length) {
      this.#size -= sizes[head]!;
      head++;
    }
    const dropped = head - this.#head;
    if (dropped === 0) return;
    this.#evicted += dropped;
    // Evicted slots are skipped by an offset and compacted in bulk.
    if (head > 64 || head === sizes.length) {
      sizes.splice(0, head);
      head = 0;
    }
    this.#head = head;
    // Stale map entries are recognised by k < #evicted; prune when the maps grow large.
    if (this.#fullCount > 1024) {
      let count = 0;
      for (const [name, byValue] of this.#full) {
        for (const [value, k] of byValue) if (k < this.#evicted) byValue.delete(value);
        if (byValue.size === 0) this.#full.delete(name);
        count += byValue.size;
      }
      this.#fullCount = count;
      for (const [name, k] of this.#byName) if (k < this.#evicted) this.#byName.delete(name);
    }
  }

  #ensure(n: number): void {
    if (this.#pos + n <= this.#buf.byteLength) return;
    let size = this.#buf.byteLength * 2;
    while (size < this.#pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#pos));
    this.#buf = next;
  }

  #int(v: number, prefix: number, flags: number): void {
    this.#ensure(6);
    const max = (1 << prefix) - 1;
    const b = this.#buf;
    if (v < max) {
      b[this.#pos++] = flags | v;
      return;
    }
    b[this.#pos++] = flags | max;
    v -= max;
    while (v >= 128) {
      b[this.#pos++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    b[this.#pos++] = v;
  }

  #str(s: string): void {
    const len = s.length;
    this.#int(len, 7, 0);
    this.#ensure(len);
    const b = this.#buf;
    let p = this.#pos;
    for (let i = 0; i < len; i++) b[p++] = s.charCodeAt(i);
    this.#pos = p;
  }
}
