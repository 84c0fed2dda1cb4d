/** HTTP/1.x message heads and the parser's callback contract. Pure data: no sockets, no timers. */

import type { HeaderMap } from "../header_map.ts";

/** How the body of a message is delimited (RFC 9112 §6). */
export type BodyKind =
  | "none" // no body: Content-Length 0, GET without length, HEAD/204/304/1xx responses
  | "length" // Content-Length bytes
  | "chunked" // Transfer-Encoding: chunked, possibly with trailers
  | "until-close"; // response without length: body runs to connection close

export interface RequestHead {
  method: string;
  /** The request target as sent (origin-form "/a?b", absolute-form, authority-form for CONNECT, "*"). */
  target: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  minorVersion: number;
  headers: HeaderMap;
  bodyKind: BodyKind;
  /** Content-Length when bodyKind is "length", else -1. */
  contentLength: number;
  /** Whether the connection stays open after this exchange (version + Connection header). */
  keepAlive: boolean;
  /** `Upgrade` requested (with `Connection: upgrade`), e.g. "websocket"; "" when none. */
  upgrade: string;
  /** `Expect: 100-continue` was sent. */
  expectContinue: boolean;
}

export interface ResponseHead {
  status: number;
  reason: string;
  minorVersion: number;
  headers: HeaderMap;
  bodyKind: BodyKind;
  contentLength: number;
  keepAlive: boolean;
}

/** Stable codes of malformed input; `status` is what a server answers with before closing. */
export type Http1ErrorCode =
  | "BAD_REQUEST_LINE"
  | "BAD_STATUS_LINE"
  | "BAD_VERSION"
  | "BAD_METHOD"
  | "URI_TOO_LONG"
  | "HEADERS_TOO_LARGE"
  | "BAD_HEADER"
  | "BAD_CONTENT_LENGTH"
  | "CONFLICTING_CONTENT_LENGTH"
  | "CONTENT_LENGTH_AND_CHUNKED"
  | "BAD_TRANSFER_ENCODING"
  | "BAD_CHUNK"
  | "BAD_LINE_ENDING"
  | "MISSING_HOST"
  | "BODY_TOO_LARGE"
  /** The peer closed the connection in the middle of a message (see `Http1Parser.finish`). */
  | "TRUNCATED";

export class Http1ParseError extends Error {
  readonly code: Http1ErrorCode;
  /**
   * 400, 413, 414 or 431 (requests); responses map to 502 at the proxy (the response parser
   * sets 502 itself).
   */
  readonly status: number;
  constructor(code: Http1ErrorCode, status: number, message: string) {
    super(message);
    this.code = code;
    this.status = status;
    this.name = "Http1ParseError";
  }
}

export interface ParserLimits {
  /** Longest request line; longer → 414. Default 8 KiB. */
  maxRequestLineBytes: number;
  /** Whole header block (start line + headers, and trailers separately); larger → 431. Default 64 KiB. */
  maxHeaderBytes: number;
  /** Most header fields; more → 431. Default 200. */
  maxHeaderCount: number;
  /**
   * Largest body (Content-Length, or the sum of chunk sizes); larger → 413. Default unlimited
   * (a Content-Length beyond 2^53 − 1 is always 413).
   */
  maxBodyBytes?: number;
}

export const DEFAULT_LIMITS: ParserLimits = {
  maxRequestLineBytes: 8 * 1024,
  maxHeaderBytes: 64 * 1024,
  maxHeaderCount: 200,
};

/**
 * Callbacks of the incremental parser. `onBody` chunks are views into the buffer passed to
 * `execute` — valid only until `execute` returns (copy to keep). Any callback may call
 * `parser.pause()` to stop after the current event; `execute` then returns the bytes consumed.
 */
export interface ParserHandler<H> {
  onHead(head: H): void;
  onBody(chunk: Uint8Array): void;
  /** Trailer fields after a chunked body (only when there were any). */
  onTrailers(trailers: HeaderMap): void;
  onMessageComplete(): void;
}
