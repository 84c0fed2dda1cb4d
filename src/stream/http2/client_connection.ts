/**
 * HTTP/2 client stream connection: many requests multiplexed over one upstream connection,
 * up to the peer's SETTINGS_MAX_CONCURRENT_STREAMS.
 */

import type { Connection } from "../../network/connection.ts";
import { H2Code, H2ConnectionError } from "../../protocol/http2/errors.ts";
import { HeaderMap } from "../../protocol/header_map.ts";
import type {
  ClientStream,
  RequestMessage,
  ResponseReceiver,
  StreamResetReason,
} from "../types.ts";
import { H2Session, H2Stream } from "./session.ts";
import type { Http2Stats } from "./stats.ts";

const EMPTY = new Uint8Array(0);
/** Stream ids are 31 bits; a connection that used them all takes no new streams. */
const MAX_STREAM_ID = 0x7fffffff;

class H2ClientStream extends H2Stream implements ClientStream {
  readonly #owner: Http2ClientConnection;
  readonly receiver: ResponseReceiver;
  /** Any response frame seen: a failure before that may be retried on a fresh connection. */
  responseStarted = false;
  /** Counted against the connection's capacity until it ends. */
  counted = true;

  constructor(owner: Http2ClientConnection, receiver: ResponseReceiver) {
    super();
    this.#owner = owner;
    this.receiver = receiver;
  }

  sendRequestHeaders(req: RequestMessage, endStream: boolean): void {
    this.#owner.start(this, req, endStream);
  }

  sendRequestData(chunk: Uint8Array, endStream: boolean): Promise<unknown> | undefined {
    return this.#owner.sendData(this, chunk, endStream);
  }

  sendRequestTrailers(trailers: HeaderMap): void {
    this.#owner.sendTrailers(this, trailers.raw);
  }

  reset(_reason: StreamResetReason): void {
    if (this.id === 0) {
      this.closed = true;
      this.#owner.release(this);
      return;
    }
    this.#owner.resetStream(this, H2Code.CANCEL);
  }
}

export interface Http2ClientEvents {
  /** Capacity freed (a stream ended or the peer raised its limit). */
  onCapacity?(c: Http2ClientConnection): void;
  /** The connection takes no new streams (GOAWAY received or ids exhausted). */
  onGoaway?(c: Http2ClientConnection): void;
}

export class Http2ClientConnection extends H2Session<H2ClientStream> {
  readonly #events: Http2ClientEvents;
  #nextId = 1;
  /** Streams handed out and not yet finished (including those not yet started). */
  #active = 0;

  constructor(conn: Connection, events: Http2ClientEvents = {}, stats?: Http2Stats) {
    super(conn, false, stats);
    this.#events = events;
    conn.addReadFilter(this);
  }

  /**
   * Whether another stream may start now. Not before the server's SETTINGS: its stream limit
   * (and windows) must be known, or a burst would be refused.
   */
  get available(): boolean {
    return this.settingsReceived && !this.conn.closed && !this.goawayReceived &&
      !this.goawaySent &&
      this.#active < this.peerMaxStreams && this.#nextId < MAX_STREAM_ID;
  }

  get activeStreams(): number {
    return this.#active;
  }

  newStream(receiver: ResponseReceiver): H2ClientStream {
    this.#active++;
    return new H2ClientStream(this, receiver);
  }

  start(s: H2ClientStream, req: RequestMessage, end: boolean): void {
    if (s.closed || s.id !== 0) return;
    if (this.conn.closed || this.goawayReceived) {
      s.closed = true;
      this.release(s);
      queueMicrotask(() => s.receiver.onResetStream("connection_termination"));
      return;
    }
    s.id = this.#nextId;
    this.#nextId += 2;
    this.lastStreamId = s.id;
    this.addStream(s);
    const authority = req.authority || req.headers.get("host") || "";
    const pseudo = [":method", req.method, ":scheme", req.scheme || "http"];
    if (authority) pseudo.push(":authority", authority);
    if (req.method !== "CONNECT") pseudo.push(":path", req.path || "/");
    this.writeHeaders(s, pseudo, req.headers.raw, end);
  }

  release(s: H2ClientStream): void {
    if (!s.counted) return;
    s.counted = false;
    this.#active--;
    this.#events.onCapacity?.(this);
  }

  protected override onStreamClosed(s: H2ClientStream): void {
    this.release(s);
  }

  protected override onSettings(): void {
    this.#events.onCapacity?.(this);
  }

  protected override onGoaway(_last: number): void {
    this.#events.onGoaway?.(this);
  }

  protected onHeaders(sid: number, fields: string[], endStream: boolean): void {
    const s = this.streams.get(sid);
    if (!s) {
      if ((sid & 1) === 0) {
        throw new H2ConnectionError(H2Code.PROTOCOL_ERROR, "HEADERS on a server stream id");
      }
      return; // a stream we reset
    }
    if (s.closed) return;
    s.responseStarted = true;
    let status = 0;
    const headers = new HeaderMap();
    let contentLength = -1;
    for (let i = 0; i < fields.length; i += 2) {
      const n = fields[i]!;
      const v = fields[i + 1]!;
      if (n === ":status") status = Number(v);
      else if (n.charCodeAt(0) === 58) continue;
      else {
        if (n === "content-length") contentLength = Number(v);
        headers.add(n, v);
      }
    }
    if (!(status >= 100 && status <= 999)) {
      this.resetStream(s, H2Code.PROTOCOL_ERROR);
      s.receiver.onResetStream("protocol_error");
      return;
    }
    if (status < 200) {
      // Interim response (100, 103): the final one follows in another HEADERS.
      if (endStream) {
        this.resetStream(s, H2Code.PROTOCOL_ERROR);
        s.receiver.onResetStream("protocol_error");
      }
      return;
    }
    s.headersReceived = true;
    s.receiver.onResponseHeaders({
      status,
      reason: "",
      headers,
      contentLength: endStream ? 0 : Number.isSafeInteger(contentLength) ? contentLength : -1,
    }, endStream);
  }

  protected onStreamData(
    s: H2ClientStream,
    data: Uint8Array,
    end: boolean,
  ): Promise<unknown> | undefined {
    return s.receiver.onResponseData(data.byteLength === 0 ? EMPTY : data, end);
  }

  protected onStreamTrailers(s: H2ClientStream, fields: string[]): void {
    s.receiver.onResponseTrailers(new HeaderMap(fields));
  }

  protected onStreamReset(s: H2ClientStream, reason: StreamResetReason): void {
    s.receiver.onResetStream(reason);
  }
}
