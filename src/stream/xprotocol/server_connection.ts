/**
 * Multiplexed RPC server stream connection (bolt, dubbo, any xprotocol): every request frame
 * from the downstream becomes a stream; responses go back with the downstream's own request id,
 * in whatever order the upstream answers. Heartbeats are answered here, never forwarded.
 */

import { IdTable } from "../../common/id_table.ts";
import { log } from "../../common/logger.ts";
import { type Connection, FilterStatus, type ReadFilter } from "../../network/connection.ts";
import type { Scope } from "../../observability/stats.ts";
import type { HeaderMap } from "../../protocol/header_map.ts";
import { type XFrame, type XProtocol, XProtocolError } from "../../protocol/xprotocol/types.ts";
import type {
  NewStreamHandler,
  RequestMessage,
  RequestReceiver,
  ResponseMessage,
  ServerStream,
  StreamResetReason,
} from "../types.ts";
import { FrameReader } from "./frame_reader.ts";

class XServerStream implements ServerStream {
  readonly id: number;
  readonly request: XFrame;
  /** The id the client used; the frame's own id is re-stamped for the upstream. */
  readonly downstreamId: number;
  receiver!: RequestReceiver;
  readonly #owner: XServerConnection;
  done = false;

  constructor(owner: XServerConnection, id: number, request: XFrame) {
    this.#owner = owner;
    this.id = id;
    this.request = request;
    this.downstreamId = request.requestId;
  }

  /** A proxy-made error answer to this request (no route, no host, timeout…). */
  #errorReply(httpStatus: number): Uint8Array {
    const proto = this.#owner.proto;
    proto.setRequestId(this.request, this.downstreamId);
    const reply = proto.hijack(this.request, httpStatus);
    this.#owner.countStatus(reply.status);
    return proto.encode(reply);
  }

  get connection(): Connection {
    return this.#owner.conn;
  }

  sendResponseHeaders(resp: ResponseMessage, _endStream: boolean): void {
    if (this.done) return;
    this.done = true;
    this.#owner.finish(this);
    if (this.request.kind === "oneway") return; // nobody waits for an answer
    const proto = this.#owner.proto;
    let bytes: Uint8Array;
    if (resp.frame) {
      // The upstream's answer, stamped back with the id this client used.
      proto.setRequestId(resp.frame, this.downstreamId);
      bytes = resp.frame.raw;
      this.#owner.countStatus(resp.frame.status);
    } else {
      bytes = this.#errorReply(resp.status);
    }
    this.#owner.conn.write(bytes);
  }

  sendResponseData(_chunk: Uint8Array, _endStream: boolean): undefined {
    return undefined; // the whole answer went out with the headers
  }

  sendResponseTrailers(_trailers: HeaderMap): void {}

  continueRequest(): void {}

  reset(_reason: StreamResetReason): void {
    if (this.done) return;
    this.done = true;
    this.#owner.finish(this);
    // One broken call must not break the connection's other calls: answer with an error.
    if (this.request.kind !== "oneway") this.#owner.conn.write(this.#errorReply(502));
  }
}

export interface XServerOptions {
  onProtocolError?(e: unknown): void;
  /** Protocol-level counters (type "protocol", labels listener + protocol). */
  stats?: Scope;
  /** The frame telling a client to move to a new connection (bolt GoAway), sent on drain. */
  goAway?: () => Uint8Array;
}

/**
 * Draining without GoAway support in the client (sofa-rpc-node has none) means closing between
 * calls, and a call the client sends while our FIN (or GoAway) is on its way is lost. So the
 * close waits for a quiet moment: once the client's last DRAIN_PAUSES pauses between an answer
 * and its next call were regular (each at least DRAIN_MIN_PAUSE_MS, the longest at most twice
 * the shortest), it comes half the shortest pause after an answer (a client calling every 10 ms
 * is closed mid-pause). A client calling back at once, or irregularly (a loaded machine whose
 * client reads late), is not closed until it settles. A connection without a call for
 * DRAIN_IDLE_CLOSE_MS is closed; graceful_timeout ends the rest.
 */
const DRAIN_IDLE_CLOSE_MS = 1000;
const DRAIN_PAUSES = 5;
const DRAIN_MIN_PAUSE_MS = 2;
/** A close planned mid-pause is skipped when its timer fires after this fraction of the pause. */
const DRAIN_LATE_FRACTION = 0.75;

export class XServerConnection implements ReadFilter {
  readonly conn: Connection;
  readonly proto: XProtocol;
  readonly #newStream: NewStreamHandler;
  readonly #reader: FrameReader;
  /** Calls in flight by our id (an IdTable, not a Set: see src/common/id_table.ts). */
  readonly #streams = new IdTable<XServerStream>();
  readonly #opts: XServerOptions;
  #nextId = 1;
  #draining = false;
  /** While draining: when the last answer left with nothing in flight (0: busy). */
  #idleSince = 0;
  /** While draining: the client's last pauses between an answer and its next call. */
  #pauses: number[] = [];
  #closeTimer: ReturnType<typeof setTimeout> | undefined;
  #goAwaySent = false;
  /** While draining: the latest moment of the current pause that is still safe to close in. */
  #quietUntil = Infinity;

  constructor(
    conn: Connection,
    proto: XProtocol,
    newStream: NewStreamHandler,
    opts: XServerOptions = {},
  ) {
    this.conn = conn;
    this.proto = proto;
    this.#newStream = newStream;
    this.#reader = new FrameReader(proto);
    this.#opts = opts;
    conn.drainHandler = () => this.drain();
    conn.onClose(() => {
      for (const s of this.#streams.values()) {
        s.done = true;
        s.receiver.onResetStream("connection_termination");
      }
      this.#streams.clear();
    });
  }

  /** Requests in flight on this connection (for the connection listing). */
  get activeStreams(): number {
    return this.#streams.size;
  }

  onData(data: Uint8Array, endStream: boolean): FilterStatus {
    if (endStream) {
      // The client closed its side: answers still in flight go out, then we close.
      if (this.#streams.size === 0) this.conn.close("flush", "remote_close");
      return FilterStatus.Stop;
    }
    try {
      this.#reader.push(data, (f) => this.#onFrame(f));
    } catch (e) {
      // Corrupt bytes close this connection only.
      this.#opts.onProtocolError?.(e);
      this.#opts.stats?.counter("protocol_error_total").inc();
      log.debug("xprotocol server: bad frame, closing", {
        conn: this.conn.id,
        code: e instanceof XProtocolError ? e.code : "UNKNOWN",
      });
      this.conn.close("now");
    }
    return FilterStatus.Stop;
  }

  /** response_<protocol status>_total, e.g. response_0_total for bolt success. */
  countStatus(status: number): void {
    const st = this.#opts.stats;
    if (st) st.counter(`response_${status}_total`).inc();
  }

  #onFrame(f: XFrame): void {
    const st = this.#opts.stats;
    if (st) st.counter(`${f.kind}_total`).inc();
    if (f.kind === "heartbeat") {
      this.conn.write(this.proto.encode(this.proto.heartbeatReply(f)));
      return;
    }
    if (f.kind !== "request" && f.kind !== "oneway") return; // stray responses: ignore
    if (this.#draining) this.#busy();
    const s = new XServerStream(this, this.#nextId++, f);
    this.#streams.set(s.id, s);
    const req: RequestMessage = {
      method: f.headers.get("method") ?? f.headers.get("sofa_head_method_name") ?? "",
      path: "",
      authority: "",
      scheme: "",
      protocol: this.proto.name,
      headers: f.headers,
      contentLength: f.body.byteLength,
      upgrade: "",
      frame: f,
    };
    s.receiver = this.#newStream(s);
    s.receiver.onRequestHeaders(req, true);
  }

  finish(s: XServerStream): void {
    this.#streams.delete(s.id);
    // The answer is written right after this returns.
    if (this.#draining && this.#streams.size === 0) queueMicrotask(() => this.#idle());
  }

  /**
   * Graceful drain (upgrade, stop): GoAway where enabled; calls in flight finish; then the
   * connection closes in a pause between calls, so that the client reconnects (to the new
   * process).
   */
  drain(): void {
    if (this.#draining) return;
    this.#draining = true;
    this.conn.onClose(() => clearTimeout(this.#closeTimer));
    // Idle now, but we are somewhere in the client's pause: no measurement, only the fallback.
    if (this.#streams.size === 0) {
      this.#closeTimer = setTimeout(() => this.#closeIfIdle(), DRAIN_IDLE_CLOSE_MS);
    }
  }

  /** A call arrived while draining: measure the pause it ended, cancel a pending close. */
  #busy(): void {
    if (this.#idleSince > 0) {
      this.#pauses.push(performance.now() - this.#idleSince);
      if (this.#pauses.length > DRAIN_PAUSES) this.#pauses.shift();
    }
    this.#idleSince = 0;
    clearTimeout(this.#closeTimer);
    this.#closeTimer = undefined;
  }

  /** Nothing in flight while draining: close mid-way through the client's usual pause. */
  #idle(): void {
    if (this.#streams.size > 0 || this.#closeTimer !== undefined) return;
    this.#idleSince = performance.now();
    const p = this.#pauses;
    const shortest = p.length < DRAIN_PAUSES ? 0 : Math.min(...p);
    const regular = shortest >= DRAIN_MIN_PAUSE_MS && Math.max(...p) <= 2 * shortest;
    const wait = regular ? shortest / 2 : DRAIN_IDLE_CLOSE_MS;
    // A timer that fires late (a busy event loop) is too close to the client's next call.
    this.#quietUntil = regular ? this.#idleSince + shortest * DRAIN_LATE_FRACTION : Infinity;
    this.#closeTimer = setTimeout(() => this.#closeIfIdle(), wait);
  }

  /**
   * The quiet moment: GoAway first where enabled (the client then closes the connection itself,
   * as soon as it reads the frame, and reconnects; one that ignores it is closed at the next
   * quiet moment), else close.
   */
  #closeIfIdle(): void {
    this.#closeTimer = undefined;
    if (this.#streams.size > 0) return;
    if (performance.now() > this.#quietUntil) {
      // Missed this pause: try the next one (or close after the idle fallback if none comes).
      this.#quietUntil = Infinity;
      this.#closeTimer = setTimeout(() => this.#closeIfIdle(), DRAIN_IDLE_CLOSE_MS);
      return;
    }
    const goAway = this.#opts.goAway;
    if (goAway && !this.#goAwaySent) {
      this.#goAwaySent = true;
      this.conn.write(goAway());
      this.#idleSince = 0; // the next pause measured is not a normal one
      this.#closeTimer = setTimeout(() => this.#closeIfIdle(), DRAIN_IDLE_CLOSE_MS);
      return;
    }
    this.conn.close("flush");
  }
}
