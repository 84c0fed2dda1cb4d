/** HPACK header block decoding (RFC 7541) with the dynamic table. */

import { HpackError } from "../errors.ts";
import { huffmanDecode } from "./huffman.ts";
import { STATIC_TABLE } from "./tables.ts";

const STATIC_LEN = STATIC_TABLE.length;

function latin1(src: Uint8Array, start: number, end: number): string {
  if (end - start < 64) {
    let s = "";
    for (let i = start; i < end; i++) s += String.fromCharCode(src[i]!);
    return s;
  }
  return String.fromCharCode.apply(null, src.subarray(start, end) as unknown as number[]);
}

export class HpackDecoder {
  /** Newest entry last; names and values as latin-1 strings. */
  readonly #names: string[] = [];
  readonly #values: string[] = [];
  #size = 0;
  /** Index of the oldest live entry (entries before it are evicted, awaiting compaction). */
  #head = 0;
  /** The limit the peer chose with a size update (≤ #maxAllowed). */
  #limit: number;
  /** Our SETTINGS_HEADER_TABLE_SIZE. */
  #maxAllowed: number;
  #pos = 0;

  constructor(maxTableSize = 4096) {
    this.#limit = maxTableSize;
    this.#maxAllowed = maxTableSize;
  }

  get tableSize(): number {
    return this.#size;
  }

  /**
   * Decodes one complete header block into flat [name, value, …] pairs. Throws HpackError
   * (a connection error) on malformed input; `maxListSize` bounds the decoded size (names +
   * values + 32 per field, RFC 9113 §6.5.2) and throws a RangeError past it.
   */
  decode(block: Uint8Array, maxListSize = Infinity): string[] {
    const out: string[] = [];
    let listSize = 0;
    this.#pos = 0;
    const end = block.byteLength;
    let first = true;
    while (this.#pos < end) {
      const b = block[this.#pos]!;
      if (b & 0x80) {
        // Indexed field.
        const idx = this.#int(block, 7);
        if (idx === 0) throw new HpackError("index 0");
        this.#push(out, idx, true);
      } else if ((b & 0xc0) === 0x40) {
        // Literal with incremental indexing.
        const idx = this.#int(block, 6);
        const name = idx === 0 ? this.#str(block) : this.#name(idx);
        const value = this.#str(block);
        out.push(name, value);
        this.#insert(name, value);
      } else if ((b & 0xe0) === 0x20) {
        // Dynamic table size update: only at the start of a block.
        if (!first) throw new HpackError("table size update after a field");
        const size = this.#int(block, 5);
        if (size > this.#maxAllowed) throw new HpackError("table size update above the limit");
        this.#limit = size;
        this.#evict(0);
        continue;
      } else {
        // Literal without indexing (0000) or never indexed (0001).
        const idx = this.#int(block, 4);
        const name = idx === 0 ? this.#str(block) : this.#name(idx);
        out.push(name, this.#str(block));
      }
      first = false;
      const n = out.length;
      listSize += out[n - 2]!.length + out[n - 1]!.length + 32;
      if (listSize > maxListSize) throw new RangeError("header list too large");
    }
    return out;
  }

  #int(src: Uint8Array, prefix: number): number {
    const mask = (1 << prefix) - 1;
    let v = src[this.#pos++]! & mask;
    if (v < mask) return v;
    let shift = 0;
    for (;;) {
      if (this.#pos >= src.byteLength) throw new HpackError("truncated integer");
      const b = src[this.#pos++]!;
      v += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if ((b & 0x80) === 0) break;
      if (shift > 28) throw new HpackError("integer too large");
    }
    return v;
  }

  #str(src: Uint8Array): string {
    if (this.#pos >= src.byteLength) throw new HpackError("truncated string");
    const huff = (src[this.#pos]! & 0x80) !== 0;
    const len = this.#int(src, 7);
    const start = this.#pos;
    const end = start + len;
    if (end > src.byteLength) throw new HpackError("string past the block end");
    this.#pos = end;
    return huff ? huffmanDecode(src, start, end) : latin1(src, start, end);
  }

  #name(idx: number): string {
    if (idx <= STATIC_LEN) return STATIC_TABLE[idx - 1]![0];
    const d = idx - STATIC_LEN;
    const n = this.#names.length;
    if (d > n - this.#head) throw new HpackError(`index ${idx} out of range`);
    return this.#names[n - d]!;
  }

  #push(out: string[], idx: number, _indexed: boolean): void {
    if (idx <= STATIC_LEN) {
      const e = STATIC_TABLE[idx - 1]!;
      out.push(e[0], e[1]);
      return;
    }
    const d = idx - STATIC_LEN;
    const n = this.#names.length;
    if (d > n - this.#head) throw new HpackError(`index ${idx} out of range`);
    out.push(this.#names[n - d]!, this.#values[n - d]!);
  }

  #insert(name: string, value: string): void {
    const size = name.length + value.length + 32;
    if (size > this.#limit) {
      // Larger than the whole table: the table empties (RFC 7541 §4.4).
      this.#names.length = 0;
      this.#values.length = 0;
      this.#head = 0;
      this.#size = 0;
      return;
    }
    this.#evict(size);
    this.#names.push(name);
    this.#values.push(value);
    this.#size += size;
  }

  /**
   * Evicts oldest entries until `room` more bytes fit under the limit. Evicted slots are
   * skipped by an offset and compacted in bulk: a full table evicts on almost every insert.
   */
  #evict(room: number): void {
    const names = this.#names;
    const values = this.#values;
    let head = this.#head;
    while (this.#size + room > this.#limit && head < names.length) {
      this.#size -= names[head]!.length + values[head]!.length + 32;
      head++;
    }
    if (head > 64 || (head > 0 && head === names.length)) {
      names.splice(0, head);
      values.splice(0, head);
      head = 0;
    }
    this.#head = head;
  }
}
