/**
 * HTTP/2 server stream connection: each stream a peer opens becomes a ServerStream for the
 * proxy. Listener drain sends GOAWAY and closes once open streams finish.
 */

import type { Connection } from "../../network/connection.ts";
import { H2Code, H2StreamError } from "../../protocol/http2/errors.ts";
import { HeaderMap } from "../../protocol/header_map.ts";
import type {
  NewStreamHandler,
  RequestMessage,
  RequestReceiver,
  ResponseMessage,
  ServerStream,
  StreamResetReason,
} from "../types.ts";
import { H2Session, H2Stream, MAX_CONCURRENT_STREAMS } from "./session.ts";
import type { Http2Stats } from "./stats.ts";

const EMPTY = new Uint8Array(0);
/** A drain's final GOAWAY follows its notice at the latest after this long. */
const DRAIN_NOTICE_MS = 1000;

class H2ServerStream extends H2Stream implements ServerStream {
  readonly #owner: Http2ServerConnection;
  receiver!: RequestReceiver;
  #headersSent = false;

  constructor(owner: Http2ServerConnection, id: number) {
    super();
    this.#owner = owner;
    this.id = id;
  }

  get connection(): Connection {
    return this.#owner.conn;
  }

  get responseStarted(): boolean {
    return this.#headersSent;
  }

  sendResponseHeaders(resp: ResponseMessage, endStream: boolean): void {
    if (this.#headersSent || this.closed) return;
    this.#headersSent = true;
    this.#owner.respond(this, resp, endStream);
  }

  sendResponseData(chunk: Uint8Array, endStream: boolean): Promise<unknown> | undefined {
    return this.#owner.sendData(this, chunk, endStream);
  }

  sendResponseTrailers(trailers: HeaderMap): void {
    this.#owner.sendTrailers(this, trailers.raw);
  }

  continueRequest(): void {}

  reset(reason: StreamResetReason): void {
    this.#owner.resetStream(this, reason === "local_reset" ? H2Code.CANCEL : H2Code.INTERNAL_ERROR);
  }
}

export interface Http2ServerOptions {
  stats?: Http2Stats;
  onProtocolError?(): void;
}

export class Http2ServerConnection extends H2Session<H2ServerStream> {
  readonly #newStream: NewStreamHandler;

  constructor(conn: Connection, newStream: NewStreamHandler, opts: Http2ServerOptions = {}) {
    super(conn, true, opts.stats);
    this.#newStream = newStream;
    conn.drainHandler = () => this.#drain();
  }

  #drainTimer: ReturnType<typeof setTimeout> | undefined;

  /**
   * Listener drain: GOAWAY(max id) + PING, then the final GOAWAY once the PING comes back (or
   * after DRAIN_NOTICE_MS), so a request the client sent before it saw the notice is served
   * rather than refused.
   */
  #drain(): void {
    if (this.#drainTimer !== undefined || this.goawaySent || this.conn.closed) return;
    this.goawayNotice();
    this.#drainTimer = setTimeout(() => this.goaway(), DRAIN_NOTICE_MS);
    this.conn.onClose(() => clearTimeout(this.#drainTimer));
  }

  protected override onPingAck(): void {
    if (this.#drainTimer === undefined || this.goawaySent) return;
    clearTimeout(this.#drainTimer);
    this.goaway();
  }

  respond(s: H2ServerStream, resp: ResponseMessage, end: boolean): void {
    this.writeHeaders(s, [":status", String(resp.status)], resp.headers.raw, end);
  }

  protected onHeaders(sid: number, fields: string[], endStream: boolean): void {
    if ((sid & 1) === 0 || sid <= this.lastStreamId) {
      // Not a new client stream, and not one we know (it was reset): refuse quietly.
      throw new H2StreamError(sid, H2Code.STREAM_CLOSED, "HEADERS on a closed stream");
    }
    this.lastStreamId = sid;
    if (this.goawaySent || this.streams.size >= MAX_CONCURRENT_STREAMS) {
      throw new H2StreamError(sid, H2Code.REFUSED_STREAM, "refused");
    }
    let method = "";
    let path = "";
    let authority = "";
    let scheme = "";
    const headers = new HeaderMap();
    let cookies: string[] | undefined;
    let contentLength = -1;
    for (let i = 0; i < fields.length; i += 2) {
      const n = fields[i]!;
      const v = fields[i + 1]!;
      if (n.charCodeAt(0) === 58 /* : */) {
        if (headers.size > 0) throw new H2StreamError(sid, H2Code.PROTOCOL_ERROR, "pseudo after");
        if (n === ":method") method = v;
        else if (n === ":path") path = v;
        else if (n === ":authority") authority = v;
        else if (n === ":scheme") scheme = v;
        else throw new H2StreamError(sid, H2Code.PROTOCOL_ERROR, `unknown ${n}`);
        continue;
      }
      if (n === "cookie") {
        (cookies ??= []).push(v);
        continue;
      }
      if (n === "content-length") contentLength = Number(v);
      headers.add(n, v);
    }
    if (!method || (method !== "CONNECT" && (!path || !scheme))) {
      throw new H2StreamError(sid, H2Code.PROTOCOL_ERROR, "missing pseudo-headers");
    }
    if (!Number.isSafeInteger(contentLength) || contentLength < -1) {
      throw new H2StreamError(sid, H2Code.PROTOCOL_ERROR, "bad content-length");
    }
    // HTTP/1 upstreams need one cookie header (RFC 9113 §8.2.3) and a Host.
    if (cookies) headers.add("cookie", cookies.join("; "));
    if (authority) {
      if (!headers.has("host")) headers.add("host", authority);
    } else authority = headers.get("host") ?? "";
    const s = new H2ServerStream(this, sid);
    s.headersReceived = true;
    s.remoteEnded = endStream;
    this.addStream(s);
    const req: RequestMessage = {
      method,
      path,
      authority,
      scheme,
      protocol: "HTTP/2",
      headers,
      contentLength: endStream ? 0 : contentLength,
      upgrade: "",
    };
    s.receiver = this.#newStream(s);
    s.receiver.onRequestHeaders(req, endStream);
  }

  protected onStreamData(
    s: H2ServerStream,
    data: Uint8Array,
    end: boolean,
  ): Promise<unknown> | undefined {
    return s.receiver.onRequestData(data.byteLength === 0 ? EMPTY : data, end);
  }

  protected onStreamTrailers(s: H2ServerStream, fields: string[]): void {
    s.receiver.onRequestTrailers(new HeaderMap(fields));
  }

  protected onStreamReset(s: H2ServerStream, reason: StreamResetReason): void {
    s.receiver.onResetStream(reason);
  }
}
