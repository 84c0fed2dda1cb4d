/**
 * Multiplexed RPC client stream connection: many requests in flight on one upstream
 * connection. Each request gets an id unique on this connection (the downstream's ids could
 * collide across clients); responses are matched back by that id.
 */

import { log } from "../../common/logger.ts";
import { type Connection, FilterStatus, type ReadFilter } from "../../network/connection.ts";
import { HeaderMap } from "../../protocol/header_map.ts";
import type { XFrame, XProtocol } from "../../protocol/xprotocol/types.ts";
import type {
  ClientStream,
  RequestMessage,
  ResponseReceiver,
  StreamResetReason,
} from "../types.ts";
import { FrameReader } from "./frame_reader.ts";

/** Ids wrap below 2^31 so they stay valid for every protocol (bolt's are u32). */
const MAX_ID = 0x7fffffff;

class XClientStream implements ClientStream {
  readonly #owner: XClientConnection;
  readonly receiver: ResponseReceiver;
  id = 0;
  done = false;
  /** Never true: an RPC answer arrives whole, so "started" and "done" coincide. */
  readonly responseStarted = false;

  constructor(owner: XClientConnection, receiver: ResponseReceiver) {
    this.#owner = owner;
    this.receiver = receiver;
  }

  sendRequestHeaders(req: RequestMessage, _endStream: boolean): void {
    const f = req.frame;
    if (!f) {
      this.#fail("protocol_error");
      return;
    }
    this.#owner.send(this, f);
  }

  sendRequestData(): undefined {
    return undefined; // the frame carried everything
  }

  sendRequestTrailers(): void {}

  reset(_reason: StreamResetReason): void {
    if (this.done) return;
    this.done = true;
    this.#owner.forget(this);
  }

  #fail(reason: StreamResetReason): void {
    if (this.done) return;
    this.done = true;
    this.#owner.forget(this);
    this.receiver.onResetStream(reason);
  }
}

export class XClientConnection implements ReadFilter {
  readonly conn: Connection;
  readonly proto: XProtocol;
  readonly #reader: FrameReader;
  readonly #inflight = new Map<number, XClientStream>();
  #nextId = 1;
  #onDrained: (() => void) | undefined;

  constructor(conn: Connection, proto: XProtocol) {
    this.conn = conn;
    this.proto = proto;
    this.#reader = new FrameReader(proto);
    conn.addReadFilter(this);
    conn.onClose(() => {
      // The upstream went away: every pending call ends now, each with its own error.
      const pending = [...this.#inflight.values()];
      this.#inflight.clear();
      for (const s of pending) {
        if (s.done) continue;
        s.done = true;
        s.receiver.onResetStream("connection_termination");
      }
    });
  }

  get inflight(): number {
    return this.#inflight.size;
  }

  newStream(receiver: ResponseReceiver): XClientStream {
    return new XClientStream(this, receiver);
  }

  send(s: XClientStream, f: XFrame): void {
    let id = this.#nextId;
    while (this.#inflight.has(id)) id = id >= MAX_ID ? 1 : id + 1;
    this.#nextId = id >= MAX_ID ? 1 : id + 1;
    s.id = id;
    this.proto.setRequestId(f, id);
    this.conn.write(f.raw);
    if (f.kind === "oneway") {
      // Forwarded without waiting: the stream ends as soon as the frame is queued.
      s.done = true;
      s.receiver.onResponseHeaders(
        { status: 200, reason: "", headers: new HeaderMap(), contentLength: 0 },
        true,
      );
      return;
    }
    this.#inflight.set(id, s);
  }

  forget(s: XClientStream): void {
    if (this.#inflight.get(s.id) === s) this.#inflight.delete(s.id);
    if (this.#inflight.size === 0) this.#onDrained?.();
  }

  /** Called once nothing is in flight (graceful pool drain). */
  onDrained(cb: () => void): void {
    this.#onDrained = cb;
  }

  onData(data: Uint8Array, endStream: boolean): FilterStatus {
    if (endStream) {
      this.conn.close("now", "remote_close");
      return FilterStatus.Stop;
    }
    try {
      this.#reader.push(data, (f) => this.#onFrame(f));
    } catch (e) {
      log.debug("xprotocol client: bad frame from upstream, closing", {
        conn: this.conn.id,
        err: e,
      });
      this.conn.close("now");
    }
    return FilterStatus.Stop;
  }

  #onFrame(f: XFrame): void {
    if (f.kind === "heartbeat") {
      this.conn.write(this.proto.encode(this.proto.heartbeatReply(f)));
      return;
    }
    if (f.kind !== "response") return; // heartbeat acks and strays
    const s = this.#inflight.get(f.requestId);
    if (!s) return; // answered after a timeout: nobody waits any more
    this.#inflight.delete(f.requestId);
    s.done = true;
    s.receiver.onResponseHeaders({
      status: this.proto.statusToHttp(f.status),
      reason: "",
      headers: f.headers,
      contentLength: f.body.byteLength,
      frame: f,
    }, true);
    if (this.#inflight.size === 0) this.#onDrained?.();
  }
}
