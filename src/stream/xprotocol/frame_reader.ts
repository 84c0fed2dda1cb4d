/**
 * Cuts a byte stream into frames of one xprotocol. Frames handed out own their bytes (the
 * connection's read buffer is reused, frames live on while proxied), and partial frames wait
 * in a buffer that grows only as far as the protocol's frame limit.
 */

import type { XFrame, XProtocol } from "../../protocol/xprotocol/types.ts";

export class FrameReader {
  readonly #proto: XProtocol;
  #pending: Uint8Array | undefined;

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
      const joined = new Uint8Array(this.#pending.byteLength + data.byteLength);
      joined.set(this.#pending, 0);
      joined.set(data, this.#pending.byteLength);
      buf = joined;
      this.#pending = undefined;
    }
    let off = 0;
    while (off < buf.byteLength) {
      const view = off === 0 ? buf : buf.subarray(off);
      const r = this.#proto.decode(view);
      if (r === "again") break;
      // Own the frame's bytes: `raw` and `body` are views into the lent read buffer; move
      // them onto one copy (headers are strings already, meta holds no views).
      const f = r.frame;
      const own = view.slice(0, r.consumed);
      const bodyAt = f.body.byteOffset - f.raw.byteOffset;
      f.body = own.subarray(bodyAt, bodyAt + f.body.byteLength);
      f.raw = own;
      off += r.consumed;
      onFrame(f);
    }
    if (off < buf.byteLength) this.#pending = buf.slice(off);
  }
}
