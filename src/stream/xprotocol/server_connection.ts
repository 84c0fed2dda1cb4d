/**
 * Multiplexed RPC server stream connection (bolt, dubbo, any xprotocol): every request frame
 * from the downstream becomes a stream; responses go back with the downstream's own request id,
 * in whatever order the upstream answers. Heartbeats are answered here, never forwarded.
 */

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
 * A draining connection with nothing in flight closes after this long without a call. A busy
 * client is closed sooner: right after an answer, the moment its next call is furthest away.
 */
const DRAIN_IDLE_CLOSE_MS = 1000;

export class XServerConnection implements ReadFilter {
  readonly conn: Connection;
  readonly proto: XProtocol;
  readonly #newStream: NewStreamHandler;
  readonly #reader: FrameReader;
  readonly #streams = new Set<XServerStream>();
  readonly #opts: XServerOptions;
  #nextId = 1;
  #draining = false;

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
      for (const s of [...this.#streams]) {
        s.done = true;
        s.receiver.onResetStream("connection_termination");
      }
      this.#streams.clear();
    });
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
    const s = new XServerStream(this, this.#nextId++, f);
    this.#streams.add(s);
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
    this.#streams.delete(s);
    // The answer is written right after this returns; close once it is out.
    if (this.#draining && this.#streams.size === 0) queueMicrotask(() => this.#closeIfIdle());
  }

  /**
   * Graceful drain (upgrade, stop): GoAway where enabled; calls in flight finish; then the
   * connection closes between calls, so that the client reconnects (to the new process).
   */
  drain(): void {
    if (this.#draining) return;
    this.#draining = true;
    const goAway = this.#opts.goAway;
    if (goAway) this.conn.write(goAway());
    const t = setTimeout(() => this.#closeIfIdle(), DRAIN_IDLE_CLOSE_MS);
    this.conn.onClose(() => clearTimeout(t));
  }

  #closeIfIdle(): void {
    if (this.#streams.size === 0) this.conn.close("flush");
  }
}
