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
      // Own the frame's bytes, then decode the copy so body and headers point into it.
      const own = view.slice(0, r.consumed);
      const again = this.#proto.decode(own);
      if (again === "again") throw new Error("xprotocol decoder is not deterministic");
      off += r.consumed;
      onFrame(again.frame);
    }
    if (off < buf.byteLength) this.#pending = buf.slice(off);
  }
}
