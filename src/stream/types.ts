/**
 * The stream layer's contract, shared by HTTP/1, HTTP/2 and multiplexed RPC.
 *
 *   NET/IO     Connection (bytes, read filters)           src/network
 *   PROTOCOL   codecs (bytes ⇄ heads, bodies, frames)     src/protocol
 *   STREAM     a stream connection per TCP connection,     src/stream   ← this file
 *              a stream per request
 *   PROXY      per-request state machine                   src/proxy
 *
 * Data chunks passed across these interfaces are lent: valid during the call, or, when the
 * call returns a promise, until it settles. Returning a promise is how backpressure travels.
 */

import type { Connection } from "../network/connection.ts";
import type { HeaderMap } from "../protocol/header_map.ts";
import type { XFrame } from "../protocol/xprotocol/types.ts";

/** A request as the proxy sees it, whatever the protocol. */
export interface RequestMessage {
  method: string;
  /** Request target: path and query ("/a?b"). */
  path: string;
  /** Host header or :authority. */
  authority: string;
  /** "http" or "https" as seen downstream. */
  scheme: string;
  /** Protocol label for logs and stats: "HTTP/1.1", "HTTP/1.0", "HTTP/2", "bolt", … */
  protocol: string;
  headers: HeaderMap;
  /** Body length when known (Content-Length), else -1; 0 = no body. */
  contentLength: number;
  /** The peer asked for a protocol switch (HTTP/1 Upgrade: websocket); "" if not. */
  upgrade: string;
  /** Multiplexed RPC: the request frame itself (forwarded as is, with a new request id). */
  frame?: XFrame;
}

export interface ResponseMessage {
  /** HTTP status, or an RPC status mapped to HTTP (statusToHttp) for stats and retries. */
  status: number;
  /** Reason phrase for HTTP/1 ("" = the standard one). */
  reason: string;
  headers: HeaderMap;
  contentLength: number;
  /** Multiplexed RPC: the upstream's response frame (sent back with the downstream's id). */
  frame?: XFrame;
}

/** Why a stream ended without completing. */
export type StreamResetReason =
  | "connection_failure" // could not connect upstream
  | "connection_termination" // the connection closed under the stream
  | "local_reset" // we reset it (timeout, downstream gone)
  | "remote_reset" // the peer reset it (RST_STREAM, bolt error)
  | "overflow" // circuit breaker / pool limits
  | "protocol_error"; // malformed bytes from the peer

/** Events of the response, delivered to the proxy by a client (upstream) stream. */
export interface ResponseReceiver {
  onResponseHeaders(resp: ResponseMessage, endStream: boolean): void;
  onResponseData(chunk: Uint8Array, endStream: boolean): Promise<unknown> | undefined;
  onResponseTrailers(trailers: HeaderMap): void;
  onResetStream(reason: StreamResetReason): void;
}

/** Events of the request, delivered to the proxy by a server (downstream) stream. */
export interface RequestReceiver {
  onRequestHeaders(req: RequestMessage, endStream: boolean): void;
  onRequestData(chunk: Uint8Array, endStream: boolean): Promise<unknown> | undefined;
  onRequestTrailers(trailers: HeaderMap): void;
  /** The downstream went away or broke the protocol before the response completed. */
  onResetStream(reason: StreamResetReason): void;
}

/** The downstream half of one request: the proxy answers through it. */
export interface ServerStream {
  readonly id: number;
  /** The downstream connection (addresses, TLS identity, original destination). */
  readonly connection: Connection;
  sendResponseHeaders(resp: ResponseMessage, endStream: boolean): void;
  sendResponseData(chunk: Uint8Array, endStream: boolean): Promise<unknown> | undefined;
  sendResponseTrailers(trailers: HeaderMap): void;
  /** Tells an `Expect: 100-continue` client to send its body (no-op when not asked). */
  continueRequest(): void;
  /** Abandons the response (closes the HTTP/1 connection, RST_STREAM in HTTP/2). */
  reset(reason: StreamResetReason): void;
  /** After a 101 response: the raw byte stream for tunnelling (HTTP/1 Upgrade). */
  upgradeTunnel?(): TunnelEnd | undefined;
}

/**
 * One side of an upgraded (WebSocket) exchange: its connection, the bytes that arrived after
 * the HTTP head, and a switch that sends every later byte (and the half-close) to a peer.
 */
export interface TunnelEnd {
  readonly conn: Connection;
  readonly buffered: Uint8Array;
  pipeTo(peer: Connection): void;
}

/** The upstream half of one request attempt. */
export interface ClientStream {
  sendRequestHeaders(req: RequestMessage, endStream: boolean): void;
  sendRequestData(chunk: Uint8Array, endStream: boolean): Promise<unknown> | undefined;
  sendRequestTrailers(trailers: HeaderMap): void;
  reset(reason: StreamResetReason): void;
  upgradeTunnel?(): TunnelEnd | undefined;
}

/** Called by a server stream connection for each new downstream request. */
export type NewStreamHandler = (stream: ServerStream) => RequestReceiver;
