/**
 * Cuts a byte stream into frames of one xprotocol. Frames handed out own their bytes (the
 * connection's read buffer is reused, frames live on while proxied). A partial frame waits in
 * a buffer that doubles when full, so a large frame arriving in many reads costs linear copying.
 */

import type { XFrame, XProtocol } from "../../protocol/xprotocol/types.ts";

export class FrameReader {
  readonly #proto: XProtocol;
  /** Bytes of a partial frame: #pending[0, #pendingLen). */
  #pending: Uint8Array | undefined;
  #pendingLen = 0;

  constructor(proto: XProtocol) {
    this.#proto = proto;
  }

  /**
   * Decodes every complete frame in `pending + data` and calls `onFrame` for each.
   * Throws XProtocolError on malformed bytes.
   */
  push(data: Uint8Array, onFrame: (f: XFrame) => void): void {
    let buf = data;
    if (this.#pending) {
      this.#append(data);
      buf = this.#pending.subarray(0, this.#pendingLen);
    }
    let off = 0;
    while (off < buf.byteLength) {
      const view = off === 0 ? buf : buf.subarray(off);
      const r = this.#proto.decode(view);
      if (r === "again") break;
      // Own the frame's bytes: `raw` and `body` are views into `buf`; move them onto one copy
      // (headers are strings already, meta holds no views).
      const f = r.frame;
      const own = view.slice(0, r.consumed);
      const bodyAt = f.body.byteOffset - f.raw.byteOffset;
      f.body = own.subarray(bodyAt, bodyAt + f.body.byteLength);
      f.raw = own;
      off += r.consumed;
      onFrame(f);
    }
    const rest = buf.byteLength - off;
    if (rest === 0) {
      this.#pending = undefined;
      this.#pendingLen = 0;
    } else if (buf === data) {
      // A partial frame at the end of a lent buffer: keep a copy, with room to grow.
      this.#pending = new Uint8Array(Math.max(rest * 2, 4096));
      this.#pending.set(data.subarray(off), 0);
      this.#pendingLen = rest;
    } else if (off > 0) {
      this.#pending!.copyWithin(0, off, this.#pendingLen);
      this.#pendingLen = rest;
    }
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
