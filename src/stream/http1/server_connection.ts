/**
 * HTTP/1.1 server stream connection: parses requests from one downstream connection and
 * writes the proxy's responses back, one exchange at a time (pipelined requests wait their
 * turn, so answers stay in order). Malformed input gets 400/413/414/431 and the connection is
 * closed; nothing else is affected.
 */

import { log } from "../../common/logger.ts";
import { type Connection, FilterStatus, type ReadFilter } from "../../network/connection.ts";
import type { HeaderMap } from "../../protocol/header_map.ts";
import { HeaderMap as Headers } from "../../protocol/header_map.ts";
import { encodeResponseHead, encodeTrailers, LAST_CHUNK } from "../../protocol/http1/encoder.ts";
import { Http1Parser } from "../../protocol/http1/parser.ts";
import { writeBodyChunk } from "./body_writer.ts";
import { Http1Tunnel } from "./tunnel.ts";
import {
  Http1ParseError,
  type ParserHandler,
  type ParserLimits,
  type RequestHead,
} from "../../protocol/http1/types.ts";
import type {
  NewStreamHandler,
  RequestMessage,
  RequestReceiver,
  ResponseMessage,
  ServerStream,
  StreamResetReason,
  TunnelEnd,
} from "../types.ts";
import { stripHopByHop } from "./hop_by_hop.ts";

const EMPTY = new Uint8Array(0);
const CONTINUE_100 = new TextEncoder().encode("HTTP/1.1 100 Continue\r\n\r\n");

export interface Http1ServerOptions {
  limits?: Partial<ParserLimits>;
  /** Called once per parse error, for stats. */
  onProtocolError?(e: Http1ParseError): void;
}

type Framing = "length" | "chunked" | "close" | "none";

class Http1ServerStream implements ServerStream {
  readonly id: number;
  readonly head: RequestHead;
  receiver!: RequestReceiver;
  readonly #owner: Http1ServerConnection;
  #framing: Framing = "none";
  #pendingHead: Uint8Array | undefined;
  #headersSent = false;
  #continued = false;
  responseDone = false;
  requestDone = false;
  keepAlive: boolean;

  constructor(owner: Http1ServerConnection, id: number, head: RequestHead) {
    this.#owner = owner;
    this.id = id;
    this.head = head;
    this.keepAlive = head.keepAlive;
  }

  get responseStarted(): boolean {
    return this.#headersSent;
  }

  get connection(): Connection {
    return this.#owner.conn;
  }

  continueRequest(): void {
    if (this.head.expectContinue && !this.#continued && !this.#headersSent) {
      this.#continued = true;
      this.#owner.conn.write(CONTINUE_100);
    }
  }

  sendResponseHeaders(resp: ResponseMessage, endStream: boolean): void {
    if (this.#headersSent || this.#owner.conn.closed) return;
    this.#headersSent = true;
    const h = resp.headers;
    const status = resp.status;
    const noBody = this.head.method === "HEAD" || status === 204 || status === 304 ||
      (status >= 100 && status < 200);
    if (status === 101) {
      this.#framing = "none";
      this.keepAlive = false;
      h.set("Connection", "Upgrade");
      if (this.head.upgrade) h.set("Upgrade", this.head.upgrade);
    } else if (noBody) {
      this.#framing = "none";
    } else if (endStream) {
      this.#framing = "none";
      if (resp.contentLength < 0) h.set("content-length", "0");
    } else if (resp.contentLength >= 0) {
      this.#framing = "length";
    } else if (this.head.minorVersion >= 1) {
      this.#framing = "chunked";
      h.set("transfer-encoding", "chunked");
    } else {
      this.#framing = "close";
      this.keepAlive = false;
    }
    if (!this.requestDone) this.keepAlive = false; // answered before the body was read
    if (this.#owner.draining) this.keepAlive = false;
    if (status !== 101) {
      if (!this.keepAlive) h.set("Connection", "close");
      else if (this.head.minorVersion === 0) h.set("Connection", "keep-alive");
    }
    const bytes = encodeResponseHead({
      status,
      reason: resp.reason,
      headers: h,
      minorVersion: 1,
    });
    if (status === 101) {
      // The exchange turns into a tunnel (upgradeTunnel); nothing more is HTTP here.
      this.#owner.conn.write(bytes);
      this.responseDone = true;
    } else if (endStream || noBody) {
      this.#owner.conn.write(bytes);
      this.#complete();
    } else {
      this.#pendingHead = bytes; // sent with the first body bytes: one write instead of two
    }
  }

  #flushHead(): void {
    const head = this.#pendingHead;
    if (head) {
      this.#pendingHead = undefined;
      this.#owner.conn.write(head);
    }
  }

  sendResponseData(chunk: Uint8Array, endStream: boolean): Promise<unknown> | undefined {
    if (this.responseDone) return undefined;
    const conn = this.#owner.conn;
    if (conn.closed) return undefined;
    let p: Promise<unknown> | undefined;
    if (chunk.byteLength > 0 && this.#framing !== "none") {
      p = writeBodyChunk(conn, this.#pendingHead, chunk, this.#framing === "chunked");
      this.#pendingHead = undefined;
    }
    if (endStream) {
      this.#flushHead();
      if (this.#framing === "chunked") conn.write(LAST_CHUNK);
      this.#complete();
    }
    return p;
  }

  sendResponseTrailers(trailers: HeaderMap): void {
    if (this.responseDone) return;
    this.#flushHead();
    if (this.#framing === "chunked") this.#owner.conn.write(encodeTrailers(trailers));
    this.#complete();
  }

  reset(_reason: StreamResetReason): void {
    if (this.responseDone) return;
    this.responseDone = true;
    this.#owner.conn.close("now", "local_close");
  }

  upgradeTunnel(): TunnelEnd | undefined {
    return this.#owner.tunnel();
  }

  #complete(): void {
    if (this.responseDone) return;
    this.responseDone = true;
    this.#owner.onResponseComplete(this);
  }
}

/** A wait for the current exchange to end; its promise exists only once someone awaits it. */
class Turn {
  #promise: Promise<void> | undefined;
  #resolve: (() => void) | undefined;
  #done = false;
  get promise(): Promise<void> {
    if (this.#done) return Promise.resolve();
    return this.#promise ??= new Promise<void>((r) => (this.#resolve = r));
  }
  resolve(): void {
    this.#done = true;
    this.#resolve?.();
  }
}

/** How long a draining keep-alive connection may stay idle before it is closed. */
const DRAIN_IDLE_CLOSE_MS = 1000;

export class Http1ServerConnection implements ReadFilter, ParserHandler<RequestHead> {
  readonly conn: Connection;
  readonly #newStream: NewStreamHandler;
  readonly #parser: Http1Parser<RequestHead>;
  readonly #opts: Http1ServerOptions;
  #nextId = 1;
  #current: Http1ServerStream | undefined;
  /** A receiver's promise holding the current body chunk. */
  #hold: Promise<unknown> | undefined;
  /** Resolves when the current exchange completes (parsing waits for it). */
  /**
   * Set while the parser waits for the current exchange to finish. The promise behind it is
   * made only when bytes are actually waiting (pipelining), not for every request.
   */
  #turn: Turn | undefined;
  #trailersSeen = false;
  readonly #tunnel = new Http1Tunnel();
  draining = false;

  constructor(conn: Connection, newStream: NewStreamHandler, opts: Http1ServerOptions = {}) {
    this.conn = conn;
    this.#newStream = newStream;
    this.#opts = opts;
    this.#parser = Http1Parser.request(this, opts.limits);
    conn.drainHandler = () => this.drain();
    conn.onClose(() => {
      const s = this.#current;
      if (s && !s.responseDone) {
        s.responseDone = true;
        s.receiver.onResetStream("connection_termination");
      }
      this.#turn?.resolve();
    });
  }

  /** 1 while a request is being answered (for the connection listing), else 0. */
  get activeStreams(): number {
    const s = this.#current;
    return s !== undefined && !s.responseDone ? 1 : 0;
  }

  // ---- ReadFilter ----

  onData(data: Uint8Array, endStream: boolean): FilterStatus | Promise<unknown> {
    if (this.#tunnel.active) return this.#tunnel.forward(data, endStream);
    if (endStream) {
      this.#onEof();
      return FilterStatus.Stop;
    }
    return this.#execute(data, 0);
  }

  #execute(data: Uint8Array, from: number): FilterStatus | Promise<unknown> {
    let off = from;
    while (off < data.byteLength && !this.conn.closed) {
      // One exchange at a time: wait for the current response before the next request.
      if (this.#turn) return this.#turn.promise.then(() => this.#execute(data, off));
      let n: number;
      try {
        n = this.#parser.execute(off === 0 ? data : data.subarray(off));
      } catch (e) {
        this.#protocolError(e);
        return FilterStatus.Stop;
      }
      off += n;
      if (this.#parser.upgraded) {
        // Bytes after an Upgrade request's head belong to the tunnel; reading waits until the
        // tunnel exists (or the upgrade is refused and the connection closes).
        this.#tunnel.buffered = data.slice(off);
        // (the parser callbacks above may have set #turn; TS cannot see that)
        const turn = this.#turn as { promise: Promise<void> } | undefined;
        return turn ? turn.promise : FilterStatus.Stop;
      }
      const hold = this.#hold;
      if (hold) {
        this.#hold = undefined;
        return hold.then(() => this.#execute(data, off));
      }
    }
    return FilterStatus.Stop;
  }

  #onEof(): void {
    const s = this.#current;
    if (s && !s.requestDone) {
      // Truncated request: the client gave up.
      s.responseDone = true;
      s.receiver.onResetStream("connection_termination");
      this.conn.close("now", "remote_close");
      return;
    }
    // Client half-closed after a complete request: finish the response, then close.
    if (s && !s.responseDone) s.keepAlive = false;
    else this.conn.close("flush", "remote_close");
  }

  #protocolError(e: unknown): void {
    if (!(e instanceof Http1ParseError)) {
      log.error("http1 server: unexpected parser failure", { err: e, conn: this.conn.id });
      this.conn.close("now");
      return;
    }
    this.#opts.onProtocolError?.(e);
    log.debug("http1 server: malformed request", { code: e.code, conn: this.conn.id });
    const s = this.#current;
    if (s && !s.responseDone) {
      s.responseDone = true;
      s.receiver.onResetStream("protocol_error");
      if (s.responseStarted) {
        this.conn.close("now");
        return;
      }
    }
    const body = `${e.message}\n`;
    const h = new Headers([
      "content-type",
      "text/plain; charset=utf-8",
      "content-length",
      String(new TextEncoder().encode(body).byteLength),
      "connection",
      "close",
    ]);
    this.conn.write(
      encodeResponseHead({ status: e.status, reason: "", headers: h, minorVersion: 1 }),
    );
    this.conn.write(new TextEncoder().encode(body));
    this.conn.close("flush");
  }

  // ---- ParserHandler ----

  onHead(head: RequestHead): void {
    const s = new Http1ServerStream(this, this.#nextId++, head);
    this.#current = s;
    this.#trailersSeen = false;
    // An Upgrade request's later bytes wait for the tunnel (or the refusal).
    if (head.upgrade) this.#waitTurn();
    const headers = head.headers;
    const upgrade = head.upgrade;
    stripHopByHop(headers);
    const req: RequestMessage = {
      method: head.method,
      path: head.target,
      authority: headers.get("host") ?? "",
      scheme: "http",
      protocol: head.minorVersion === 1 ? "HTTP/1.1" : "HTTP/1.0",
      headers,
      contentLength: head.bodyKind === "none"
        ? 0
        : head.bodyKind === "length"
        ? head.contentLength
        : -1,
      upgrade,
    };
    s.receiver = this.#newStream(s);
    const end = head.bodyKind === "none" && !upgrade;
    if (end) s.requestDone = true;
    s.receiver.onRequestHeaders(req, end);
  }

  onBody(chunk: Uint8Array): void {
    const s = this.#current;
    if (!s || s.responseDone) return;
    const p = s.receiver.onRequestData(chunk, false);
    if (p) {
      this.#hold = p;
      this.#parser.pause();
    }
  }

  onTrailers(trailers: HeaderMap): void {
    const s = this.#current;
    if (!s || s.responseDone) return;
    this.#trailersSeen = true;
    s.requestDone = true;
    s.receiver.onRequestTrailers(trailers);
  }

  onMessageComplete(): void {
    const s = this.#current;
    if (!s) return;
    if (!s.requestDone) {
      s.requestDone = true;
      if (!this.#trailersSeen && !s.responseDone) {
        const p = s.receiver.onRequestData(EMPTY, true);
        if (p) this.#hold = p;
      }
    }
    if (s.responseDone) this.#endTurn(s);
    else {
      // The next pipelined request waits until this response is written.
      this.#waitTurn();
      this.#parser.pause();
    }
  }

  #waitTurn(): void {
    this.#turn ??= new Turn();
  }

  /** The current response has been fully written. */
  onResponseComplete(s: Http1ServerStream): void {
    if (!s.keepAlive) {
      this.conn.close("flush");
      this.#turn?.resolve();
      return;
    }
    if (s.requestDone) this.#endTurn(s);
  }

  #endTurn(s: Http1ServerStream): void {
    if (this.#current !== s) return;
    this.#current = undefined;
    const t = this.#turn;
    this.#turn = undefined;
    t?.resolve();
  }

  /**
   * Stops reuse: the next response carries `Connection: close` (graceful drain). An idle
   * connection is not closed at once: a keep-alive client may be sending its next request right
   * now and would see a reset. A busy client gets `Connection: close` on that request's answer;
   * a connection still idle after DRAIN_IDLE_CLOSE_MS is closed.
   */
  drain(): void {
    if (this.draining) return;
    this.draining = true;
    if (this.#current) return;
    const t = setTimeout(() => {
      if (!this.#current) this.conn.close("flush");
    }, DRAIN_IDLE_CLOSE_MS);
    this.conn.onClose(() => clearTimeout(t));
  }

  tunnel(): TunnelEnd | undefined {
    if (!this.#parser.upgraded) return undefined;
    this.#current = undefined;
    return this.#tunnel.end(this.conn, () => {
      const t = this.#turn;
      this.#turn = undefined;
      t?.resolve();
    });
  }
}
