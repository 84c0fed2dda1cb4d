/**
 * The byte pipe an HTTP/1 connection becomes after `101 Switching Protocols` (WebSocket):
 * bytes that came after the head wait in `buffered`; once `pipeTo` names the other side,
 * every later read is forwarded (zero-copy, with backpressure) and EOF becomes a half-close.
 */

import { type Connection, FilterStatus } from "../../network/connection.ts";
import type { TunnelEnd } from "../types.ts";

const EMPTY = new Uint8Array(0);

export class Http1Tunnel {
  #peer: Connection | undefined;
  /** Bytes read after the HTTP head, before the tunnel was set up. */
  buffered: Uint8Array = EMPTY;

  get active(): boolean {
    return this.#peer !== undefined;
  }

  /** Forwards one read of this side to the peer. */
  forward(data: Uint8Array, endStream: boolean): FilterStatus | Promise<unknown> {
    const peer = this.#peer!;
    if (endStream) {
      peer.closeWrite();
      return FilterStatus.Stop;
    }
    return peer.writeLent(data);
  }

  /** This side's end of the tunnel; `onPiped` runs once the peer is known. */
  end(conn: Connection, onPiped?: () => void): TunnelEnd {
    return {
      conn,
      buffered: this.buffered,
      pipeTo: (peer: Connection) => {
        this.#peer = peer;
        onPiped?.();
      },
    };
  }
}
