/**
 * Multiplexed RPC client stream connection: many requests in flight on one upstream
 * connection. Each request gets an id unique on this connection (the downstream's ids could
 * collide across clients); responses are matched back by that id.
 */

import { IdTable } from "../../common/id_table.ts";
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

export interface KeepaliveOptions {
  /** Send a heartbeat after this long without traffic; 0 = never. Default 15 s. */
  intervalMs?: number;
  /** Close the connection after this many heartbeats in a row go unanswered. Default 3. */
  maxFailures?: number;
}

export class XClientConnection implements ReadFilter {
  readonly conn: Connection;
  readonly proto: XProtocol;
  readonly #reader: FrameReader;
  /** Calls awaiting an answer by request id (not a Map: see src/common/id_table.ts). */
  readonly #inflight = new IdTable<XClientStream>();
  #nextId = 1;
  #onDrained: (() => void) | undefined;
  /** Keep-alive: reads since the last tick, the heartbeat awaiting its ack, misses in a row. */
  #reads = 0;
  #heartbeatId = 0;
  #misses = 0;
  readonly #maxMisses: number;
  #keepalive: ReturnType<typeof setInterval> | undefined;

  constructor(conn: Connection, proto: XProtocol, keepalive: KeepaliveOptions = {}) {
    this.conn = conn;
    this.proto = proto;
    this.#reader = new FrameReader(proto);
    this.#maxMisses = keepalive.maxFailures ?? 3;
    const every = keepalive.intervalMs ?? 15_000;
    if (every > 0 && proto.heartbeat) {
      const t = setInterval(() => this.#tick(), every);
      Deno.unrefTimer(t);
      this.#keepalive = t;
    }
    conn.addReadFilter(this);
    conn.onClose(() => {
      if (this.#keepalive !== undefined) clearInterval(this.#keepalive);
      // The upstream went away: every pending call ends now, each with its own error.
      const pending = this.#inflight.values();
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

  #allocId(): number {
    let id = this.#nextId;
    while (this.#inflight.has(id) || id === this.#heartbeatId) id = id >= MAX_ID ? 1 : id + 1;
    this.#nextId = id >= MAX_ID ? 1 : id + 1;
    return id;
  }

  /** Keeps an idle connection alive, and closes it when the upstream stops answering. */
  #tick(): void {
    // Any bytes from the upstream prove it alive (some peers answer heartbeats oddly, e.g.
    // apache-dubbo-service with a non-standard frame of id 0).
    if (this.#reads > 0) {
      this.#heartbeatId = 0;
      this.#misses = 0;
    }
    const busy = this.#reads > 0 || this.#inflight.size > 0;
    this.#reads = 0;
    if (this.#heartbeatId !== 0) {
      // The last heartbeat is still unanswered.
      if (++this.#misses >= this.#maxMisses) {
        log.debug("xprotocol client: heartbeats unanswered, closing", { conn: this.conn.id });
        this.conn.close("now");
        return;
      }
    }
    if (busy && this.#heartbeatId === 0) return;
    const id = this.#allocId();
    this.#heartbeatId = id;
    this.conn.write(this.proto.encode(this.proto.heartbeat!(id)));
  }

  send(s: XClientStream, f: XFrame): void {
    const id = this.#allocId();
    s.id = id;
    if (f.headersChanged) {
      f.raw = this.proto.encode(f);
      f.headersChanged = false;
    }
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
    this.#reads++;
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
    if (
      f.kind === "heartbeat_ack" || (f.kind === "response" && f.requestId === this.#heartbeatId)
    ) {
      if (f.requestId === this.#heartbeatId) {
        this.#heartbeatId = 0;
        this.#misses = 0;
      }
      return;
    }
    if (f.kind !== "response") return; // strays
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
