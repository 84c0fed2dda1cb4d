/**
 * HPACK header block encoding (RFC 7541). Repeated fields (the same :path, user-agent,
 * content-type… on every request) become one-byte indexed references through the dynamic
 * table; literals are sent raw (no Huffman: it would cost CPU to save loopback bytes).
 */

import { STATIC_TABLE } from "./tables.ts";

const STATIC_LEN = STATIC_TABLE.length;
/** "name\0value" → static index, and name → its first static index. */
const STATIC_FULL = new Map<string, number>();
const STATIC_NAME = new Map<string, number>();
STATIC_TABLE.forEach(([n, v], i) => {
  if (!STATIC_FULL.has(`${n}\0${v}`)) STATIC_FULL.set(`${n}\0${v}`, i + 1);
  if (!STATIC_NAME.has(n)) STATIC_NAME.set(n, i + 1);
});

/** Values longer than this are not indexed (they rarely repeat and would flush the table). */
const MAX_INDEXED_VALUE = 256;
/** Fields never put in the table (RFC 7541 §7.1.3: secrets). */
const NEVER_INDEX = new Set(["authorization", "proxy-authorization", "cookie", "set-cookie"]);

export class HpackEncoder {
  /** Insertion number → entry; entry k lives while k >= #evicted. */
  readonly #entryNames: string[] = [];
  readonly #entrySizes: number[] = [];
  readonly #full = new Map<string, number>();
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
    const key = `${name}\0${value}`;
    const s = STATIC_FULL.get(key);
    if (s !== undefined) {
      this.#int(s, 7, 0x80);
      return;
    }
    const d = this.#full.get(key);
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
      this.#insert(name, key, size);
      return;
    }
    if (nameIdx === 0) this.#str(name);
    this.#str(value);
  }

  /** The encoded block (a copy the caller owns). */
  finish(): Uint8Array {
    return this.#buf.slice(0, this.#pos);
  }

  #insert(name: string, key: string, size: number): void {
    this.#evict(size);
    const k = this.#inserted++;
    this.#entryNames.push(name);
    this.#entrySizes.push(size);
    this.#full.set(key, k);
    this.#byName.set(name, k);
    this.#size += size;
  }

  #evict(room: number): void {
    let drop = 0;
    const names = this.#entryNames;
    const sizes = this.#entrySizes;
    while (this.#size + room > this.#limit && drop < names.length) {
      this.#size -= sizes[drop]!;
      drop++;
    }
    if (drop === 0) return;
    names.splice(0, drop);
    sizes.splice(0, drop);
    this.#evicted += drop;
    // Stale map entries are recognised by k < #evicted; prune when the maps grow large.
    if (this.#full.size > 1024) {
      for (const [key, k] of this.#full) if (k < this.#evicted) this.#full.delete(key);
      for (const [key, k] of this.#byName) if (k < this.#evicted) this.#byName.delete(key);
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
