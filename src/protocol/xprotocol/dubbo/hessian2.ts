/**
 * A minimal Hessian 2.0 reader and writer: just what Dubbo routing needs. The reader reads strings,
 * skips any value without building it, and reads string→string maps (attachments); the writer
 * emits null, small ints, strings and string maps (error responses, heartbeat replies).
 *
 * Tags handled by the reader (Hessian 2.0 serialization grammar):
 * ```
 * N                          null            T F              booleans
 * 0x80-0xbf  0xc0-0xcf +1    int             0xd0-0xd7 +2     int          I +4     int
 * 0xd8-0xef  0xf0-0xff +1    long            0x38-0x3f +2     long         Y +4  L +8 long
 * 0x5b 0x5c  0x5d +1  0x5e +2  0x5f +4  D +8 double           J +8  K +4   date
 * 0x00-0x1f  0x30-0x33 +1    string, length in UTF-16 code units, then that many chars of UTF-8
 * R len16 … S len16          chunked string (R = more chunks follow, S = final chunk)
 * 0x20-0x2f  0x34-0x37 +1    binary          A len16 … B len16 chunked binary (A = more follow)
 * U type v* Z   W v* Z       variable lists (typed / untyped)
 * V type int v*   X int v*   fixed lists     0x70-0x77 type v*   0x78-0x7f v*  short fixed lists
 * M type (k v)* Z   H (k v)* Z               maps (typed / untyped)
 * C string int string*       class definition (precedes a value)
 * O int v*   0x60-0x6f v*    object of a defined class       Q int   back-reference
 * ```
 * A character is one UTF-16 code unit as in Java: 1-3 byte UTF-8 sequences count 1 (so CESU-8
 * surrogates written by Java count 1 each) and a 4-byte sequence (written by some JS peers) counts 2.
 */

/** Stable codes of malformed Hessian input. */
export type HessianErrorCode =
  | "HESSIAN_TRUNCATED"
  | "HESSIAN_BAD_TAG"
  | "HESSIAN_BAD_UTF8"
  | "HESSIAN_BAD_REF"
  | "HESSIAN_TOO_DEEP";

export class HessianError extends Error {
  readonly code: HessianErrorCode;
  /** Byte offset in the buffer where the problem was found. */
  readonly offset: number;
  constructor(code: HessianErrorCode, message: string, offset: number) {
    super(`${message} at offset ${offset}`);
    this.code = code;
    this.offset = offset;
    this.name = "HessianError";
  }
}

/** A scalar read by `readScalar`; `undefined` means a compound value that was skipped. */
export type HessianScalar = string | number | bigint | boolean | null | undefined;

/** Nesting depth after which the reader gives up (protects the stack from hostile input). */
export const MAX_DEPTH = 128;

/** Reads Hessian 2.0 values from `buf[pos, end)`; `pos` advances past what was read. */
export class Hessian2Reader {
  readonly buf: Uint8Array;
  pos: number;
  readonly end: number;
  /** Field counts of the class definitions seen so far ('C'), by definition index. */
  #classFields: number[] = [];
  /** Type names seen so far (a type may later be given as an int index into this list). */
  #types = 0;

  constructor(buf: Uint8Array, pos = 0, end = buf.length) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }

  /** Whether any byte is left. */
  get remaining(): number {
    return this.end - this.pos;
  }

  /** The next tag byte without consuming it. */
  peek(): number {
    if (this.pos >= this.end) throw this.#truncated();
    return this.buf[this.pos]!;
  }

  #truncated(): HessianError {
    return new HessianError("HESSIAN_TRUNCATED", "hessian value runs past the end", this.pos);
  }

  #byte(): number {
    if (this.pos >= this.end) throw this.#truncated();
    return this.buf[this.pos++]!;
  }

  #need(n: number): void {
    if (this.end - this.pos < n) throw this.#truncated();
  }

  #u16(): number {
    this.#need(2);
    const b = this.buf;
    const v = (b[this.pos]! << 8) | b[this.pos + 1]!;
    this.pos += 2;
    return v;
  }

  #i32(): number {
    this.#need(4);
    const b = this.buf;
    const p = this.pos;
    this.pos += 4;
    return (b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!;
  }

  #skipBytes(n: number): void {
    this.#need(n);
    this.pos += n;
  }

  /** Whether `tag` starts a string (any encoding). */
  static isStringTag(tag: number): boolean {
    return tag <= 0x1f || (tag >= 0x30 && tag <= 0x33) || tag === 0x52 || tag === 0x53;
  }

  /** Whether `tag` starts an int (any encoding). */
  static isIntTag(tag: number): boolean {
    return (tag >= 0x80 && tag <= 0xd7) || tag === 0x49;
  }

  /** Reads an int (any int encoding). */
  readInt(): number {
    const t = this.#byte();
    if (t >= 0x80 && t <= 0xbf) return t - 0x90;
    if (t >= 0xc0 && t <= 0xcf) return ((t - 0xc8) << 8) | this.#byte();
    if (t >= 0xd0 && t <= 0xd7) return ((t - 0xd4) << 16) | this.#u16();
    if (t === 0x49) return this.#i32();
    this.pos--;
    throw new HessianError("HESSIAN_BAD_TAG", `expected an int, found tag 0x${hex(t)}`, this.pos);
  }

  /** Reads a string (short, medium or chunked); `null` for 'N'. */
  readString(): string | null {
    const t = this.peek();
    if (t === 0x4e) {
      this.pos++;
      return null;
    }
    if (!Hessian2Reader.isStringTag(t)) {
      throw new HessianError(
        "HESSIAN_BAD_TAG",
        `expected a string, found tag 0x${hex(t)}`,
        this.pos,
      );
    }
    let out = "";
    for (;;) {
      const tag = this.#byte();
      let len: number;
      let last = true;
      if (tag <= 0x1f) len = tag;
      else if (tag >= 0x30 && tag <= 0x33) len = ((tag - 0x30) << 8) | this.#byte();
      else if (tag === 0x52 || tag === 0x53) {
        len = this.#u16();
        last = tag === 0x53;
      } else {
        this.pos--;
        throw new HessianError("HESSIAN_BAD_TAG", `bad string chunk tag 0x${hex(tag)}`, this.pos);
      }
      out += this.#chars(len);
      if (last) return out;
    }
  }

  /** Decodes `units` UTF-16 code units of UTF-8 from the buffer. */
  #chars(units: number): string {
    const b = this.buf;
    // Fast path: all ASCII.
    if (this.end - this.pos >= units) {
      let ascii = true;
      for (let i = 0; i < units; i++) {
        if (b[this.pos + i]! >= 0x80) {
          ascii = false;
          break;
        }
      }
      if (ascii) {
        const s = String.fromCharCode.apply(
          null,
          Array.from(b.subarray(this.pos, this.pos + units)),
        );
        this.pos += units;
        return s;
      }
    }
    const codes: number[] = [];
    let n = 0;
    while (n < units) {
      const start = this.pos;
      const c = this.#byte();
      if (c < 0x80) {
        codes.push(c);
        n++;
      } else if ((c & 0xe0) === 0xc0) {
        codes.push(((c & 0x1f) << 6) | this.#cont(start));
        n++;
      } else if ((c & 0xf0) === 0xe0) {
        const c1 = this.#cont(start);
        codes.push(((c & 0x0f) << 12) | (c1 << 6) | this.#cont(start));
        n++;
      } else if ((c & 0xf8) === 0xf0) {
        const cp = ((c & 0x07) << 18) | (this.#cont(start) << 12) | (this.#cont(start) << 6) |
          this.#cont(start);
        const v = cp - 0x10000;
        codes.push(0xd800 + (v >> 10), 0xdc00 + (v & 0x3ff));
        n += 2;
      } else {
        throw new HessianError("HESSIAN_BAD_UTF8", `bad UTF-8 lead byte 0x${hex(c)}`, start);
      }
    }
    let s = "";
    for (let i = 0; i < codes.length; i += 4096) {
      s += String.fromCharCode.apply(null, codes.slice(i, i + 4096));
    }
    return s;
  }

  #cont(start: number): number {
    const c = this.#byte();
    if ((c & 0xc0) !== 0x80) {
      throw new HessianError("HESSIAN_BAD_UTF8", "bad UTF-8 continuation byte", start);
    }
    return c & 0x3f;
  }

  /** Skips the characters of a string without decoding them. */
  #skipChars(units: number): void {
    const b = this.buf;
    let n = 0;
    while (n < units) {
      const start = this.pos;
      const c = this.#byte();
      let extra: number;
      if (c < 0x80) extra = 0;
      else if ((c & 0xe0) === 0xc0) extra = 1;
      else if ((c & 0xf0) === 0xe0) extra = 2;
      else if ((c & 0xf8) === 0xf0) {
        extra = 3;
        n++;
      } else throw new HessianError("HESSIAN_BAD_UTF8", `bad UTF-8 lead byte 0x${hex(c)}`, start);
      this.#need(extra);
      for (let i = 0; i < extra; i++) {
        if ((b[this.pos + i]! & 0xc0) !== 0x80) {
          throw new HessianError("HESSIAN_BAD_UTF8", "bad UTF-8 continuation byte", start);
        }
      }
      this.pos += extra;
      n++;
    }
  }

  /** Skips a type (a type name string, or an int index into the types seen so far). */
  #skipType(): void {
    const t = this.peek();
    if (Hessian2Reader.isStringTag(t)) {
      this.skip();
      this.#types++;
      return;
    }
    const at = this.pos;
    const ref = this.readInt();
    if (ref < 0 || ref >= this.#types) {
      throw new HessianError("HESSIAN_BAD_REF", `type reference ${ref} is undefined`, at);
    }
  }

  /** Skips one value of any kind, including everything nested inside it. */
  skip(depth = 0): void {
    if (depth > MAX_DEPTH) {
      throw new HessianError("HESSIAN_TOO_DEEP", `nesting deeper than ${MAX_DEPTH}`, this.pos);
    }
    const at = this.pos;
    const t = this.#byte();
    // Strings.
    if (t <= 0x1f) return this.#skipChars(t);
    if (t >= 0x30 && t <= 0x33) return this.#skipChars(((t - 0x30) << 8) | this.#byte());
    if (t === 0x52 || t === 0x53) {
      this.#skipChars(this.#u16());
      if (t === 0x52) this.skip(depth + 1); // the next chunk
      return;
    }
    // Binary.
    if (t >= 0x20 && t <= 0x2f) return this.#skipBytes(t - 0x20);
    if (t >= 0x34 && t <= 0x37) return this.#skipBytes(((t - 0x34) << 8) | this.#byte());
    if (t === 0x41 || t === 0x42 || t === 0x62) {
      this.#skipBytes(this.#u16());
      if (t !== 0x42) this.skip(depth + 1); // 'A' (Hessian 1: 'b') = more chunks follow
      return;
    }
    // Ints, longs.
    if (t >= 0x80 && t <= 0xbf) return;
    if (t >= 0xc0 && t <= 0xcf) return this.#skipBytes(1);
    if (t >= 0xd0 && t <= 0xd7) return this.#skipBytes(2);
    if (t >= 0xd8 && t <= 0xef) return;
    if (t >= 0xf0) return this.#skipBytes(1);
    if (t >= 0x38 && t <= 0x3f) return this.#skipBytes(2);
    switch (t) {
      case 0x4e: // N
      case 0x54: // T
      case 0x46: // F
      case 0x5b: // double 0.0
      case 0x5c: // double 1.0
        return;
      case 0x5d:
        return this.#skipBytes(1);
      case 0x5e:
        return this.#skipBytes(2);
      case 0x5f: // double as float
      case 0x49: // I
      case 0x59: // Y long as int
      case 0x4b: // K date in minutes
        return this.#skipBytes(4);
      case 0x44: // D
      case 0x4c: // L
      case 0x4a: // J date
        return this.#skipBytes(8);
      case 0x51: // Q ref
        this.readInt();
        return;
      case 0x55: // U typed variable list
        this.#skipType();
        return this.#skipUntilZ(depth, 1);
      case 0x57: // W untyped variable list
        return this.#skipUntilZ(depth, 1);
      case 0x56: // V typed fixed list
        this.#skipType();
        return this.#skipN(this.#count(), depth);
      case 0x58: // X untyped fixed list
        return this.#skipN(this.#count(), depth);
      case 0x4d: // M typed map
        this.#skipType();
        return this.#skipUntilZ(depth, 2);
      case 0x48: // H untyped map
        return this.#skipUntilZ(depth, 2);
      case 0x43: // C class definition, then the value it precedes
        this.#classDef();
        return this.skip(depth + 1);
      case 0x4f: { // O object
        const refAt = this.pos;
        return this.#skipN(this.#fieldsOf(this.readInt(), refAt), depth);
      }
    }
    if (t >= 0x60 && t <= 0x6f) return this.#skipN(this.#fieldsOf(t - 0x60, at), depth);
    if (t >= 0x70 && t <= 0x77) {
      this.#skipType();
      return this.#skipN(t - 0x70, depth);
    }
    if (t >= 0x78 && t <= 0x7f) return this.#skipN(t - 0x78, depth);
    this.pos = at;
    throw new HessianError("HESSIAN_BAD_TAG", `unknown tag 0x${hex(t)}`, at);
  }

  #count(): number {
    const at = this.pos;
    const n = this.readInt();
    if (n < 0) throw new HessianError("HESSIAN_BAD_TAG", `negative length ${n}`, at);
    return n;
  }

  #skipN(n: number, depth: number): void {
    for (let i = 0; i < n; i++) this.skip(depth + 1);
  }

  /** Skips values (`per` at a time: 1 for lists, 2 for map entries) up to and including 'Z'. */
  #skipUntilZ(depth: number, per: number): void {
    while (this.peek() !== 0x5a) this.#skipN(per, depth);
    this.pos++;
  }

  #classDef(): void {
    this.skip(); // class name
    const n = this.#count();
    for (let i = 0; i < n; i++) this.skip(); // field names
    this.#classFields.push(n);
  }

  #fieldsOf(def: number, at: number): number {
    const n = this.#classFields[def];
    if (n === undefined) {
      throw new HessianError("HESSIAN_BAD_REF", `class definition ${def} is undefined`, at);
    }
    return n;
  }

  /**
   * Reads a scalar: strings, ints, longs (number when safe, else bigint), doubles, booleans, null.
   * Compound values (lists, maps, objects, binary, dates, refs) are skipped and give `undefined`.
   */
  readScalar(): HessianScalar {
    const t = this.peek();
    if (Hessian2Reader.isStringTag(t)) return this.readString();
    if (Hessian2Reader.isIntTag(t)) return this.readInt();
    const b = this.buf;
    switch (t) {
      case 0x4e:
        this.pos++;
        return null;
      case 0x54:
        this.pos++;
        return true;
      case 0x46:
        this.pos++;
        return false;
      case 0x5b:
        this.pos++;
        return 0;
      case 0x5c:
        this.pos++;
        return 1;
      case 0x5d:
        this.pos++;
        return (this.#byte() << 24) >> 24;
      case 0x5e: {
        this.pos++;
        return (this.#u16() << 16) >> 16;
      }
      case 0x5f: {
        this.pos++;
        this.#need(4);
        const v = new DataView(b.buffer, b.byteOffset + this.pos, 4).getInt32(0) / 1000;
        this.pos += 4;
        return v;
      }
      case 0x44: {
        this.pos++;
        this.#need(8);
        const v = new DataView(b.buffer, b.byteOffset + this.pos, 8).getFloat64(0);
        this.pos += 8;
        return v;
      }
      case 0x59:
        this.pos++;
        return this.#i32();
      case 0x4c: {
        this.pos++;
        this.#need(8);
        const v = new DataView(b.buffer, b.byteOffset + this.pos, 8).getBigInt64(0);
        this.pos += 8;
        return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
          ? Number(v)
          : v;
      }
    }
    if (t >= 0xd8 && t <= 0xef) {
      this.pos++;
      return t - 0xe0;
    }
    if (t >= 0xf0) {
      this.pos++;
      return ((t - 0xf8) << 8) | this.#byte();
    }
    if (t >= 0x38 && t <= 0x3f) {
      this.pos++;
      return ((t - 0x3c) << 16) | this.#u16();
    }
    this.skip();
    return undefined;
  }

  /**
   * Reads a map into string pairs (Dubbo attachments). Accepts 'H', 'M' (type ignored) and 'N'
   * (no pairs). Keys and values that are strings are kept; numbers, longs and booleans are turned
   * into their decimal / "true" / "false" text; a pair whose key or value is null or a compound value
   * (list, map, object, binary, date, ref) is skipped and dropped.
   */
  readStringMap(): [string, string][] {
    const out: [string, string][] = [];
    const at = this.pos;
    const t = this.#byte();
    if (t === 0x4e) return out;
    if (t === 0x4d) this.#skipType();
    else if (t !== 0x48) {
      this.pos = at;
      throw new HessianError("HESSIAN_BAD_TAG", `expected a map, found tag 0x${hex(t)}`, at);
    }
    while (this.peek() !== 0x5a) {
      const k = this.readScalar();
      const v = this.readScalar();
      if (k === null || k === undefined || v === null || v === undefined) continue;
      out.push([String(k), String(v)]);
    }
    this.pos++;
    return out;
  }
}

/** Writes the few Hessian 2.0 values the proxy produces itself. */
export class Hessian2Writer {
  #buf = new Uint8Array(64);
  #len = 0;

  #ensure(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
  }

  #put(b: number): void {
    this.#ensure(1);
    this.#buf[this.#len++] = b;
  }

  writeNull(): this {
    this.#put(0x4e);
    return this;
  }

  /** Writes a 32-bit int in its most compact form. */
  writeInt(v: number): this {
    if (v >= -16 && v <= 47) this.#put(0x90 + v);
    else if (v >= -2048 && v <= 2047) {
      this.#put(0xc8 + (v >> 8));
      this.#put(v & 0xff);
    } else if (v >= -262144 && v <= 262143) {
      this.#put(0xd4 + (v >> 16));
      this.#put((v >> 8) & 0xff);
      this.#put(v & 0xff);
    } else {
      this.#put(0x49);
      this.#put((v >>> 24) & 0xff);
      this.#put((v >>> 16) & 0xff);
      this.#put((v >>> 8) & 0xff);
      this.#put(v & 0xff);
    }
    return this;
  }

  /**
   * Writes a string as Java's Hessian does: lengths in UTF-16 code units, each unit written as 1-3
   * bytes (surrogates one by one, CESU-8), chunks of at most 0x8000 units ('R' … 'S').
   */
  writeString(s: string): this {
    let i = 0;
    while (s.length - i > 0x8000) {
      this.#chunkHead(0x52, 0x8000);
      this.#units(s, i, i + 0x8000);
      i += 0x8000;
    }
    const n = s.length - i;
    if (n <= 0x1f) this.#put(n);
    else if (n <= 0x3ff) {
      this.#put(0x30 + (n >> 8));
      this.#put(n & 0xff);
    } else this.#chunkHead(0x53, n);
    this.#units(s, i, s.length);
    return this;
  }

  #chunkHead(tag: number, n: number): void {
    this.#put(tag);
    this.#put(n >> 8);
    this.#put(n & 0xff);
  }

  #units(s: string, from: number, to: number): void {
    this.#ensure((to - from) * 3);
    const b = this.#buf;
    let p = this.#len;
    for (let i = from; i < to; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x80) b[p++] = c;
      else if (c < 0x800) {
        b[p++] = 0xc0 | (c >> 6);
        b[p++] = 0x80 | (c & 0x3f);
      } else {
        b[p++] = 0xe0 | (c >> 12);
        b[p++] = 0x80 | ((c >> 6) & 0x3f);
        b[p++] = 0x80 | (c & 0x3f);
      }
    }
    this.#len = p;
  }

  /** Writes an untyped map ('H' … 'Z') of string pairs. */
  writeStringMap(pairs: Iterable<readonly [string, string]>): this {
    this.#put(0x48);
    for (const [k, v] of pairs) this.writeString(k).writeString(v);
    this.#put(0x5a);
    return this;
  }

  /** Appends already-encoded Hessian bytes. */
  writeRaw(bytes: Uint8Array): this {
    this.#ensure(bytes.length);
    this.#buf.set(bytes, this.#len);
    this.#len += bytes.length;
    return this;
  }

  /** A copy of what was written. */
  toBytes(): Uint8Array {
    return this.#buf.slice(0, this.#len);
  }
}

function hex(b: number): string {
  return b.toString(16).padStart(2, "0");
}
