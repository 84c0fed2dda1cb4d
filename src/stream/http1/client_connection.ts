/**
 * HTTP/1.1 client stream connection: one request at a time over one upstream connection,
 * kept alive for the next when both sides allow it.
 */

import { log } from "../../common/logger.ts";
import { type Connection, FilterStatus, type ReadFilter } from "../../network/connection.ts";
import type { HeaderMap } from "../../protocol/header_map.ts";
import { encodeRequestHead, encodeTrailers, LAST_CHUNK } from "../../protocol/http1/encoder.ts";
import { Http1Parser } from "../../protocol/http1/parser.ts";
import { writeBodyChunk } from "./body_writer.ts";
import { Http1Tunnel } from "./tunnel.ts";
import type { ParserHandler, ResponseHead } from "../../protocol/http1/types.ts";
import type {
  ClientStream,
  RequestMessage,
  ResponseReceiver,
  StreamResetReason,
  TunnelEnd,
} from "../types.ts";
import { stripHopByHop } from "./hop_by_hop.ts";

const EMPTY = new Uint8Array(0);

class Http1ClientStream implements ClientStream {
  readonly #owner: Http1ClientConnection;
  readonly receiver: ResponseReceiver;
  #chunked = false;
  #pendingHead: Uint8Array | undefined;
  method = "GET";
  requestKeepAlive = true;
  requestDone = false;
  responseDone = false;
  /** Any response byte seen: a failure before that may be retried on a fresh connection. */
  responseStarted = false;
  upgrade = "";

  constructor(owner: Http1ClientConnection, receiver: ResponseReceiver) {
    this.#owner = owner;
    this.receiver = receiver;
  }

  sendRequestHeaders(req: RequestMessage, endStream: boolean): void {
    const h = req.headers;
    this.method = req.method;
    this.upgrade = req.upgrade;
    if (req.upgrade) {
      h.set("Connection", "Upgrade");
      h.set("Upgrade", req.upgrade);
    } else if (!endStream && req.contentLength < 0) {
      this.#chunked = true;
      h.set("transfer-encoding", "chunked");
    } else if (endStream && req.contentLength < 0 && methodExpectsBody(req.method)) {
      h.set("content-length", "0");
    }
    this.#owner.parser.expectResponseTo(req.method);
    const bytes = encodeRequestHead({ method: req.method, target: req.path, headers: h });
    if (endStream || req.upgrade) {
      this.#owner.conn.write(bytes);
      if (endStream) this.requestDone = true;
    } else {
      this.#pendingHead = bytes;
    }
  }

  #flushHead(): void {
    const head = this.#pendingHead;
    if (head) {
      this.#pendingHead = undefined;
      this.#owner.conn.write(head);
    }
  }

  sendRequestData(chunk: Uint8Array, endStream: boolean): Promise<unknown> | undefined {
    const conn = this.#owner.conn;
    if (conn.closed || this.requestDone) return undefined;
    let p: Promise<unknown> | undefined;
    if (chunk.byteLength > 0) {
      p = writeBodyChunk(conn, this.#pendingHead, chunk, this.#chunked);
      this.#pendingHead = undefined;
    }
    if (endStream) {
      this.#flushHead();
      if (this.#chunked) conn.write(LAST_CHUNK);
      this.requestDone = true;
      this.#owner.onRequestComplete(this);
    }
    return p;
  }

  sendRequestTrailers(trailers: HeaderMap): void {
    if (this.requestDone) return;
    this.#flushHead();
    // Only a chunked body can carry trailers; a Content-Length body drops them.
    if (this.#chunked) this.#owner.conn.write(encodeTrailers(trailers));
    this.requestDone = true;
    this.#owner.onRequestComplete(this);
  }

  reset(_reason: StreamResetReason): void {
    if (this.responseDone) return;
    this.responseDone = true;
    this.#owner.conn.close("now", "local_close");
  }

  upgradeTunnel(): TunnelEnd | undefined {
    return this.#owner.tunnel();
  }
}

function methodExpectsBody(m: string): boolean {
  return m === "POST" || m === "PUT" || m === "PATCH";
}

export interface Http1ClientEvents {
  /** The connection finished an exchange and may carry another. */
  onIdle(c: Http1ClientConnection): void;
  /** The connection closed (for any reason). */
  onClose(c: Http1ClientConnection): void;
}

export class Http1ClientConnection implements ReadFilter, ParserHandler<ResponseHead> {
  readonly conn: Connection;
  readonly parser: Http1Parser<ResponseHead>;
  readonly #events: Http1ClientEvents;
  #stream: Http1ClientStream | undefined;
  #hold: Promise<unknown> | undefined;
  #trailersSeen = false;
  #responseKeepAlive = true;
  readonly #tunnel = new Http1Tunnel();
  /** Exchanges completed on this connection. */
  served = 0;

  constructor(conn: Connection, events: Http1ClientEvents) {
    this.conn = conn;
    this.#events = events;
    this.parser = Http1Parser.response(this);
    conn.addReadFilter(this);
    conn.onClose(() => {
      const s = this.#stream;
      if (s && !s.responseDone) {
        s.responseDone = true;
        s.receiver.onResetStream("connection_termination");
      }
      this.#events.onClose(this);
    });
  }

  get busy(): boolean {
    return this.#stream !== undefined;
  }

  /** Starts an exchange; the connection must be idle. */
  newStream(receiver: ResponseReceiver): ClientStream & { readonly responseStarted: boolean } {
    const s = new Http1ClientStream(this, receiver);
    this.#stream = s;
    this.#trailersSeen = false;
    this.#responseKeepAlive = true;
    return s;
  }

  onData(data: Uint8Array, endStream: boolean): FilterStatus | Promise<unknown> {
    if (this.#tunnel.active) return this.#tunnel.forward(data, endStream);
    if (endStream) {
      this.#onEof();
      return FilterStatus.Stop;
    }
    const s = this.#stream;
    if (!s) {
      // Bytes with no request outstanding: the upstream is not speaking HTTP/1 correctly.
      log.debug("http1 client: unsolicited bytes, closing", { conn: this.conn.id });
      this.conn.close("now");
      return FilterStatus.Stop;
    }
    s.responseStarted = true;
    return this.#execute(data, 0);
  }

  #execute(data: Uint8Array, from: number): FilterStatus | Promise<unknown> {
    let off = from;
    while (off < data.byteLength && !this.conn.closed && this.#stream) {
      let n: number;
      try {
        n = this.parser.execute(off === 0 ? data : data.subarray(off));
      } catch (e) {
        log.debug("http1 client: malformed response", { err: e, conn: this.conn.id });
        const s = this.#stream;
        if (s && !s.responseDone) {
          s.responseDone = true;
          s.receiver.onResetStream("protocol_error");
        }
        this.conn.close("now");
        return FilterStatus.Stop;
      }
      off += n;
      if (this.parser.upgraded) {
        this.#tunnel.buffered = data.slice(off);
        return FilterStatus.Stop;
      }
      const hold = this.#hold;
      if (hold) {
        this.#hold = undefined;
        return hold.then(() => this.#execute(data, off));
      }
      if (n === 0) break;
    }
    return FilterStatus.Stop;
  }

  #onEof(): void {
    const s = this.#stream;
    if (s && !s.responseDone) {
      try {
        this.parser.finish(); // completes a close-delimited body
      } catch {
        // truncated: reported by the close below
      }
    }
    this.conn.close("now", "remote_close");
  }

  onHead(head: ResponseHead): void {
    const s = this.#stream;
    if (!s) return;
    if (head.status >= 100 && head.status < 200 && head.status !== 101) {
      // Interim response (100 Continue, 103): the final one follows.
      this.parser.expectResponseTo(s.method);
      return;
    }
    this.#responseKeepAlive = head.keepAlive;
    const headers = head.headers;
    stripHopByHop(headers);
    const end = head.bodyKind === "none" && head.status !== 101;
    s.receiver.onResponseHeaders({
      status: head.status,
      reason: head.reason,
      headers,
      contentLength: head.bodyKind === "none"
        ? 0
        : head.bodyKind === "length"
        ? head.contentLength
        : -1,
    }, end);
  }

  onBody(chunk: Uint8Array): void {
    const s = this.#stream;
    if (!s || s.responseDone) return;
    const p = s.receiver.onResponseData(chunk, false);
    if (p) {
      this.#hold = p;
      this.parser.pause();
    }
  }

  onTrailers(trailers: HeaderMap): void {
    const s = this.#stream;
    if (!s || s.responseDone) return;
    this.#trailersSeen = true;
    s.responseDone = true;
    s.receiver.onResponseTrailers(trailers);
  }

  onMessageComplete(): void {
    const s = this.#stream;
    if (!s) return;
    if (s.upgrade && this.parser.upgraded) return; // 101: the tunnel takes over
    if (!s.responseDone) {
      s.responseDone = true;
      if (!this.#trailersSeen) {
        const p = s.receiver.onResponseData(EMPTY, true);
        if (p) this.#hold = p;
      }
    }
    this.#maybeIdle(s);
  }

  onRequestComplete(s: Http1ClientStream): void {
    this.#maybeIdle(s);
  }

  #maybeIdle(s: Http1ClientStream): void {
    if (this.#stream !== s || !s.requestDone || !s.responseDone) return;
    this.#stream = undefined;
    this.served++;
    if (!this.#responseKeepAlive || !s.requestKeepAlive || this.conn.closed) {
      this.conn.close("flush");
      return;
    }
    this.parser.pause(); // nothing may arrive until the next request
    this.#events.onIdle(this);
  }

  tunnel(): TunnelEnd | undefined {
    if (!this.parser.upgraded) return undefined;
    this.#stream = undefined;
    return this.#tunnel.end(this.conn);
  }
}
