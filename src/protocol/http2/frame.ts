/**
 * HTTP/2 framing (RFC 9113 §4, §6): the 9-byte frame header, a reader that cuts a byte
 * stream into frames, and encoders for every frame the proxy sends.
 */

import { allocBytes } from "../../common/slab.ts";
import { H2Code, H2ConnectionError } from "./errors.ts";

export const PREFACE = new TextEncoder().encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

export const enum FrameType {
  DATA = 0x0,
  HEADERS = 0x1,
  PRIORITY = 0x2,
  RST_STREAM = 0x3,
  SETTINGS = 0x4,
  PUSH_PROMISE = 0x5,
  PING = 0x6,
  GOAWAY = 0x7,
  WINDOW_UPDATE = 0x8,
  CONTINUATION = 0x9,
}

export const enum Flag {
  END_STREAM = 0x1,
  ACK = 0x1,
  END_HEADERS = 0x4,
  PADDED = 0x8,
  PRIORITY = 0x20,
}

export const enum Setting {
  HEADER_TABLE_SIZE = 0x1,
  ENABLE_PUSH = 0x2,
  MAX_CONCURRENT_STREAMS = 0x3,
  INITIAL_WINDOW_SIZE = 0x4,
  MAX_FRAME_SIZE = 0x5,
  MAX_HEADER_LIST_SIZE = 0x6,
}

export const DEFAULT_WINDOW = 65535;
export const DEFAULT_MAX_FRAME = 16384;
export const MAX_WINDOW = 0x7fffffff;

/** Called per complete frame; `payload` is lent (valid during the call only). */
export type FrameHandler = (
  type: number,
  flags: number,
  streamId: number,
  payload: Uint8Array,
) => void;

/** Cuts bytes into frames; a partial frame waits in a buffer that doubles when full. */
export class FrameReader {
  #pending: Uint8Array | undefined;
  #pendingLen = 0;
  /** Our SETTINGS_MAX_FRAME_SIZE: larger frames are a FRAME_SIZE_ERROR. */
  maxFrameSize: number;

  constructor(maxFrameSize = DEFAULT_MAX_FRAME) {
    this.maxFrameSize = maxFrameSize;
  }

  push(data: Uint8Array, onFrame: FrameHandler): void {
    let buf = data;
    if (this.#pending) {
      this.#append(data);
      buf = this.#pending.subarray(0, this.#pendingLen);
    }
    let off = 0;
    const total = buf.byteLength;
    while (total - off >= 9) {
      const len = (buf[off]! << 16) | (buf[off + 1]! << 8) | buf[off + 2]!;
      if (len > this.maxFrameSize) {
        throw new H2ConnectionError(H2Code.FRAME_SIZE_ERROR, `frame of ${len} bytes`);
      }
      if (total - off < 9 + len) break;
      const type = buf[off + 3]!;
      const flags = buf[off + 4]!;
      const sid = ((buf[off + 5]! & 0x7f) << 24 | (buf[off + 6]! << 16) | (buf[off + 7]! << 8) |
        buf[off + 8]!) >>> 0;
      const start = off + 9;
      off = start + len;
      onFrame(type, flags, sid, buf.subarray(start, off));
      // A handler may have torn the connection down (GOAWAY, protocol error).
      if (this.#dead) return;
    }
    const rest = total - off;
    if (rest === 0) {
      this.#pending = undefined;
      this.#pendingLen = 0;
    } else if (buf === data) {
      const p = new Uint8Array(Math.max(rest * 2, 16 * 1024 + 9));
      p.set(data.subarray(off), 0);
      this.#pending = p;
      this.#pendingLen = rest;
    } else if (off > 0) {
      this.#pending!.copyWithin(0, off, this.#pendingLen);
      this.#pendingLen = rest;
    }
  }

  #dead = false;
  /** Stops delivering frames (the connection is closing). */
  stop(): void {
    this.#dead = true;
    this.#pending = undefined;
  }

  #append(data: Uint8Array): void {
    let p = this.#pending!;
    const need = this.#pendingLen + data.byteLength;
    if (need > p.byteLength) {
      const bigger = new Uint8Array(Math.max(need, p.byteLength * 2));
      bigger.set(p.subarray(0, this.#pendingLen), 0);
      p = this.#pending = bigger;
    }
    p.set(data, this.#pendingLen);
    this.#pendingLen = need;
  }
}

export function writeFrameHeader(
  out: Uint8Array,
  at: number,
  len: number,
  type: number,
  flags: number,
  sid: number,
): void {
  out[at] = len >>> 16;
  out[at + 1] = (len >>> 8) & 0xff;
  out[at + 2] = len & 0xff;
  out[at + 3] = type;
  out[at + 4] = flags;
  out[at + 5] = (sid >>> 24) & 0x7f;
  out[at + 6] = (sid >>> 16) & 0xff;
  out[at + 7] = (sid >>> 8) & 0xff;
  out[at + 8] = sid & 0xff;
}

/** One frame with `payload` copied in (small frames come from the shared slab). */
export function encodeFrame(
  type: number,
  flags: number,
  sid: number,
  payload?: Uint8Array,
  from = 0,
  to = payload ? payload.byteLength : 0,
): Uint8Array {
  const len = to - from;
  const out = allocBytes(9 + len);
  writeFrameHeader(out, 0, len, type, flags, sid);
  if (payload && len > 0) {
    out.set(from === 0 && to === payload.byteLength ? payload : payload.subarray(from, to), 9);
  }
  return out;
}

/**
 * A header block as HEADERS (+ CONTINUATION when larger than `maxFrame`), in one buffer.
 */
export function encodeHeaderBlock(
  sid: number,
  block: Uint8Array,
  endStream: boolean,
  maxFrame: number,
): Uint8Array {
  const n = Math.max(1, Math.ceil(block.byteLength / maxFrame));
  const out = allocBytes(block.byteLength + 9 * n);
  let off = 0;
  let at = 0;
  for (let i = 0; i < n; i++) {
    const len = Math.min(maxFrame, block.byteLength - off);
    const last = i === n - 1;
    const type = i === 0 ? FrameType.HEADERS : FrameType.CONTINUATION;
    let flags = last ? Flag.END_HEADERS : 0;
    if (i === 0 && endStream) flags |= Flag.END_STREAM;
    writeFrameHeader(out, at, len, type, flags, sid);
    out.set(block.subarray(off, off + len), at + 9);
    off += len;
    at += 9 + len;
  }
  return out;
}

export function encodeSettings(settings: readonly (readonly [number, number])[]): Uint8Array {
  const p = new Uint8Array(settings.length * 6);
  settings.forEach(([id, v], i) => {
    const o = i * 6;
    p[o] = id >>> 8;
    p[o + 1] = id & 0xff;
    p[o + 2] = v >>> 24;
    p[o + 3] = (v >>> 16) & 0xff;
    p[o + 4] = (v >>> 8) & 0xff;
    p[o + 5] = v & 0xff;
  });
  return encodeFrame(FrameType.SETTINGS, 0, 0, p);
}

export const SETTINGS_ACK = encodeFrame(FrameType.SETTINGS, Flag.ACK, 0);

function u32(v: number): Uint8Array {
  return new Uint8Array([(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff]);
}

export function encodeWindowUpdate(sid: number, increment: number): Uint8Array {
  return encodeFrame(FrameType.WINDOW_UPDATE, 0, sid, u32(increment & MAX_WINDOW));
}

export function encodeRstStream(sid: number, code: number): Uint8Array {
  return encodeFrame(FrameType.RST_STREAM, 0, sid, u32(code));
}

export function encodeGoaway(lastStreamId: number, code: number, debug = ""): Uint8Array {
  const d = new TextEncoder().encode(debug);
  const p = new Uint8Array(8 + d.byteLength);
  p.set(u32(lastStreamId & MAX_WINDOW), 0);
  p.set(u32(code), 4);
  p.set(d, 8);
  return encodeFrame(FrameType.GOAWAY, 0, 0, p);
}

export function encodePing(payload: Uint8Array, ack: boolean): Uint8Array {
  return encodeFrame(FrameType.PING, ack ? Flag.ACK : 0, 0, payload);
}

export function readU32(p: Uint8Array, at: number): number {
  return ((p[at]! << 24) | (p[at + 1]! << 16) | (p[at + 2]! << 8) | p[at + 3]!) >>> 0;
}
