/**
 * Incremental HTTP/1.1 parser (RFC 9112) for requests and responses: bytes in, head/body/trailer
 * events out. Input may be split anywhere, even inside "\r\n".
 *
 * ```
 * request-line  = method SP request-target SP ( "HTTP/1.0" / "HTTP/1.1" ) CRLF
 * status-line   = ( "HTTP/1.0" / "HTTP/1.1" ) SP 3DIGIT [ SP reason-phrase ] CRLF
 * field-line    = field-name ":" OWS field-value OWS CRLF   ; no obs-fold, no bare CR
 * head          = *CRLF start-line *field-line CRLF           ; leading empty lines skipped
 * chunked-body  = *( 1*16HEXDIG [ BWS ";" ext ] CRLF chunk-data CRLF )
 *                 "0" [ BWS ";" ext ] CRLF *field-line CRLF  ; trailers → onTrailers
 * ```
 *
 * Speed: a head that arrives in one buffer is validated in a single pass over its bytes (field
 * offsets go to a shared scratch array), then decoded with one native latin1 call and cut into
 * strings with `substring`. A head split across buffers is copied into a per-parser buffer, whose
 * new bytes only are scanned for the blank line (linear in the head size however it is split),
 * and parsed once complete. No regular expressions, no per-byte string building, no closures.
 *
 * Strictness (request smuggling defenses): requests must use CRLF (bare LF → BAD_LINE_ENDING,
 * also in chunk framing); responses may use bare LF. Any version but HTTP/1.0 and HTTP/1.1 is
 * 400 BAD_VERSION (no 505). Methods are upper-case tokens (A–Z, 0–9, "-", "_"); the target may
 * hold any byte above SP but DEL (raw UTF-8 paths pass, decoded as latin1). Content-Length with
 * Transfer-Encoding, differing Content-Lengths, a request Transfer-Encoding not ending in exactly
 * one "chunked", or any Transfer-Encoding in an HTTP/1.0 request are rejected. Response errors
 * carry status 502 (what a proxy answers); request errors 400/413/414/431.
 *
 * Events: `onHead` → `onBody`* → `onTrailers`? → `onMessageComplete`, per message. An interim
 * (1xx) response is a message of its own without body; the final response follows. After an
 * Upgrade request, a CONNECT request, a 101 response or a 2xx answer to CONNECT, the parser is
 * `upgraded` and consumes nothing more.
 */

import { HeaderMap } from "../header_map.ts";
import {
  COLON,
  COMMA,
  CR,
  DEL,
  eqLower,
  HEX,
  HT,
  latin1,
  LF,
  lit,
  METHOD,
  SEMI,
  show,
  SP,
  TOKEN,
} from "./_bytes.ts";
import {
  type BodyKind,
  DEFAULT_LIMITS,
  type Http1ErrorCode,
  Http1ParseError,
  type ParserHandler,
  type ParserLimits,
  type RequestHead,
  type ResponseHead,
} from "./types.ts";

// Parser states.
const S_HEAD: number = 0; // start line and fields
const S_BODY: number = 1; // Content-Length body
const S_CHUNK_SIZE: number = 2; // chunk-size [ext] CRLF
const S_CHUNK_DATA: number = 3;
const S_CHUNK_END: number = 4; // CRLF after chunk data
const S_TRAILERS: number = 5;
const S_EOF_BODY: number = 6; // body runs to connection close
const S_DONE: number = 7; // every byte of the message consumed; onMessageComplete pending
const S_UPGRADED: number = 8; // tunnel: bytes are no longer HTTP
const S_CLOSED: number = 9; // finish() was called
const S_DEAD: number = 10; // a parse error was thrown

// Phases of the chunk-size line.
const CS_SIZE = 0;
const CS_BWS = 1;
const CS_EXT = 2;
const CS_LF = 3;

/** Longest chunk extension accepted on one chunk-size line. */
const MAX_CHUNK_EXT = 4096;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

const L_HOST = lit("host");
const L_EXPECT = lit("expect");
const L_UPGRADE = lit("upgrade");
const L_CONNECTION = lit("connection");
const L_CONTENT_LENGTH = lit("content-length");
const L_TRANSFER_ENCODING = lit("transfer-encoding");
const L_CLOSE = lit("close");
const L_KEEP_ALIVE = lit("keep-alive");
const L_CHUNKED = lit("chunked");
const L_100_CONTINUE = lit("100-continue");

const REQUEST_STATUS: Record<Http1ErrorCode, number> = {
  BAD_REQUEST_LINE: 400,
  BAD_STATUS_LINE: 400,
  BAD_VERSION: 400,
  BAD_METHOD: 400,
  URI_TOO_LONG: 414,
  HEADERS_TOO_LARGE: 431,
  BAD_HEADER: 400,
  BAD_CONTENT_LENGTH: 400,
  CONFLICTING_CONTENT_LENGTH: 400,
  CONTENT_LENGTH_AND_CHUNKED: 400,
  BAD_TRANSFER_ENCODING: 400,
  BAD_CHUNK: 400,
  BAD_LINE_ENDING: 400,
  MISSING_HOST: 400,
  BODY_TOO_LARGE: 413,
  TRUNCATED: 400,
};

/**
 * Field offsets of the head being parsed: [nameStart, nameEnd, valueStart, valueEnd] per field.
 * Shared by all parsers: it is filled and read within one synchronous step, before any callback.
 */
let OFFS = new Int32Array(4 * 256);

const EMPTY = new Uint8Array(0);

/** Whether buf[at, at + 8) is "HTTP/1.0" or "HTTP/1.1". */
function isHttp1x(buf: Uint8Array, at: number): boolean {
  return buf[at] === 0x48 && buf[at + 1] === 0x54 && buf[at + 2] === 0x54 &&
    buf[at + 3] === 0x50 && buf[at + 4] === 0x2f && buf[at + 5] === 0x31 &&
    buf[at + 6] === 0x2e && (buf[at + 7] === 0x30 || buf[at + 7] === 0x31);
}

/** The common methods as constant (internalized) strings, so `method === "GET"` is a pointer test. */
function knownMethod(buf: Uint8Array, s: number, e: number): string | undefined {
  const b0 = buf[s];
  switch (e - s) {
    case 3:
      if (b0 === 0x47 && buf[s + 1] === 0x45 && buf[s + 2] === 0x54) return "GET";
      if (b0 === 0x50 && buf[s + 1] === 0x55 && buf[s + 2] === 0x54) return "PUT";
      return undefined;
    case 4:
      if (b0 === 0x50 && buf[s + 1] === 0x4f && buf[s + 2] === 0x53 && buf[s + 3] === 0x54) {
        return "POST";
      }
      if (b0 === 0x48 && buf[s + 1] === 0x45 && buf[s + 2] === 0x41 && buf[s + 3] === 0x44) {
        return "HEAD";
      }
      return undefined;
    case 6:
      return b0 === 0x44 && buf[s + 5] === 0x45 && buf[s + 1] === 0x45 ? "DELETE" : undefined;
    case 7:
      if (b0 === 0x4f && buf[s + 1] === 0x50) return "OPTIONS";
      if (b0 === 0x43 && buf[s + 1] === 0x4f) return "CONNECT";
      return undefined;
    default:
      return undefined;
  }
}

function isOws(b: number | undefined): boolean {
  return b === SP || b === HT;
}

/**
 * The incremental HTTP/1 parser. One instance per connection direction; create it with
 * `Http1Parser.request` (server side) or `Http1Parser.response` (client side).
 *
 * @example
 * ```ts
 * const parser = Http1Parser.request({
 *   onHead(head) { console.log(head.method, head.target, head.headers.get("host")); },
 *   onBody(chunk) {},
 *   onTrailers(trailers) {},
 *   onMessageComplete() { parser.pause(); }, // one request at a time
 * });
 * const data = new TextEncoder().encode("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
 * const consumed = parser.execute(data);
 * ```
 */
export class Http1Parser<H extends RequestHead | ResponseHead> {
  readonly #handler: ParserHandler<H>;
  readonly #isRequest: boolean;
  /** Bare LF line endings are errors (requests) or accepted (responses). */
  readonly #strict: boolean;
  readonly #maxLine: number;
  readonly #maxHeaderBytes: number;
  readonly #maxHeaderCount: number;
  readonly #maxBody: number;

  #state = S_HEAD;
  #paused = false;
  #upgraded = false;
  #error: Http1ParseError | undefined;
  /** The state after the current message completes: S_HEAD, or S_UPGRADED for a tunnel. */
  #next = S_HEAD;
  /** Body bytes left in a Content-Length body or the current chunk. */
  #remaining = 0;
  /** Sum of chunk sizes so far (for maxBodyBytes). */
  #chunkedTotal = 0;
  #csPhase = CS_SIZE;
  #csDigits = 0;
  #csSize = 0;
  #csExt = 0;
  /** CR seen after chunk data. */
  #ceCR = false;
  /** The method of the request the next final response answers ("" = an ordinary one). */
  #expect = "";

  // Slow path: a head or trailer block split across buffers.
  #acc: Uint8Array = EMPTY;
  #accLen = 0;
  #scanning = false;
  #scanLines = 0;
  #scanLineLen = 0;

  // Semantics of the fields of the head being parsed.
  #fieldCount = 0;
  #cl = -1;
  #te = false;
  #teChunkedLast = false;
  #teChunked = 0;
  #connClose = false;
  #connKeepAlive = false;
  #connUpgrade = false;
  #hosts = 0;
  #upgradeField = -1;
  #expectContinue = false;

  private constructor(
    isRequest: boolean,
    handler: ParserHandler<H>,
    limits: Partial<ParserLimits> | undefined,
  ) {
    this.#isRequest = isRequest;
    this.#strict = isRequest;
    this.#handler = handler;
    const l = { ...DEFAULT_LIMITS, ...limits };
    this.#maxLine = l.maxRequestLineBytes;
    this.#maxHeaderBytes = l.maxHeaderBytes;
    this.#maxHeaderCount = l.maxHeaderCount;
    this.#maxBody = l.maxBodyBytes ?? Infinity;
    if (4 * l.maxHeaderCount > OFFS.length) OFFS = new Int32Array(4 * l.maxHeaderCount);
  }

  /** A parser of requests (the server side of a connection). */
  static request(
    handler: ParserHandler<RequestHead>,
    limits?: Partial<ParserLimits>,
  ): Http1Parser<RequestHead> {
    return new Http1Parser<RequestHead>(true, handler, limits);
  }

  /** A parser of responses (the client side); call `expectResponseTo` for HEAD and CONNECT. */
  static response(
    handler: ParserHandler<ResponseHead>,
    limits?: Partial<ParserLimits>,
  ): Http1Parser<ResponseHead> {
    return new Http1Parser<ResponseHead>(false, handler, limits);
  }

  /**
   * True once the bytes after the last message belong to another protocol: after a request
   * with `Upgrade` + `Connection: upgrade` (HTTP/1.1) or a CONNECT request, and after a 101
   * response or a 2xx answer to CONNECT. Set before that message's `onMessageComplete`.
   * From then on `execute` consumes nothing and returns 0.
   */
  get upgraded(): boolean {
    return this.#upgraded;
  }

  /**
   * Stops `execute` after the current callback; it returns the bytes consumed so far and the
   * caller passes the rest to `execute` later. Exception: when the callback was for the last
   * byte of a message (onHead of a bodyless message, the last onBody, onTrailers),
   * `onMessageComplete` still fires first, as it needs no more input.
   */
  pause(): void {
    this.#paused = true;
  }

  /**
   * Response parsers: the method of the request the next final response answers. HEAD means
   * no body whatever the headers say; CONNECT with a 2xx status means a tunnel. Interim (1xx)
   * responses leave it in place; the next final response consumes it.
   */
  expectResponseTo(method: string): void {
    this.#expect = method;
  }

  /**
   * Refuses an upgrade after the fact (the server answered an Upgrade request without 101):
   * the parser leaves the upgraded state and reads HTTP/1 again.
   */
  declineUpgrade(): void {
    if (this.#state !== S_UPGRADED) return;
    this.#state = S_HEAD;
    this.#upgraded = false;
  }

  /** Back to the initial state (for reusing a parser on a new connection). */
  reset(): void {
    this.#state = S_HEAD;
    this.#paused = this.#upgraded = this.#scanning = false;
    this.#error = undefined;
    this.#expect = "";
    this.#accLen = this.#scanLines = this.#scanLineLen = 0;
    if (this.#acc.length > 16 * 1024) this.#acc = EMPTY;
  }

  /**
   * The peer closed its side. Completes a response whose body runs until close (and a message
   * whose completion is pending); between messages it does nothing. Mid-message it throws
   * `Http1ParseError` TRUNCATED. Afterwards `execute` throws.
   */
  finish(): void {
    switch (this.#state) {
      case S_HEAD:
        if (this.#scanning && (this.#accLen > 0 || this.#scanLineLen > 0)) {
          this.#fail("TRUNCATED", "connection closed in the middle of a message head");
        }
        break;
      case S_EOF_BODY:
      case S_DONE:
        this.#complete();
        break;
      case S_UPGRADED:
      case S_CLOSED:
        return;
      case S_DEAD:
        throw this.#error;
      default:
        this.#fail("TRUNCATED", "connection closed in the middle of a message body");
    }
    if (this.#state !== S_UPGRADED) this.#state = S_CLOSED;
  }

  /**
   * Parses `data`, calling the handler, and returns how many bytes were consumed: all of them
   * unless paused or upgraded (then the caller keeps the rest). Throws `Http1ParseError` on
   * malformed input; the parser is then dead and throws the same error again.
   */
  execute(data: Uint8Array): number {
    const len = data.length;
    let pos = 0;
    this.#paused = false;
    for (;;) {
      switch (this.#state) {
        case S_HEAD:
          if (this.#paused || pos === len) return pos;
          pos = this.#scanning ? this.#scan(data, pos) : this.#headFast(data, pos);
          break;
        case S_BODY: {
          if (this.#paused || pos === len) return pos;
          const rem = this.#remaining;
          let chunk: Uint8Array;
          if (len - pos >= rem) {
            chunk = data.subarray(pos, pos + rem);
            pos += rem;
            this.#remaining = 0;
            this.#state = S_DONE;
          } else {
            chunk = pos === 0 ? data : data.subarray(pos);
            this.#remaining = rem - (len - pos);
            pos = len;
          }
          this.#handler.onBody(chunk);
          break;
        }
        case S_DONE:
          this.#complete();
          break;
        case S_CHUNK_SIZE:
          if (this.#paused || pos === len) return pos;
          pos = this.#chunkSize(data, pos);
          break;
        case S_CHUNK_DATA: {
          if (this.#paused || pos === len) return pos;
          const rem = this.#remaining;
          let chunk: Uint8Array;
          if (len - pos >= rem) {
            chunk = data.subarray(pos, pos + rem);
            pos += rem;
            this.#remaining = 0;
            this.#state = S_CHUNK_END;
            this.#ceCR = false;
          } else {
            chunk = data.subarray(pos);
            this.#remaining = rem - (len - pos);
            pos = len;
          }
          this.#handler.onBody(chunk);
          break;
        }
        case S_CHUNK_END:
          if (this.#paused || pos === len) return pos;
          pos = this.#chunkEnd(data, pos);
          break;
        case S_TRAILERS:
          if (this.#paused || pos === len) return pos;
          if (this.#scanning) pos = this.#scan(data, pos);
          else {
            const r = this.#trailers(data, pos, len);
            pos = r >= 0 ? r : this.#scan(data, pos);
          }
          break;
        case S_EOF_BODY:
          if (this.#paused || pos === len) return pos;
          this.#handler.onBody(pos === 0 ? data : data.subarray(pos));
          pos = len;
          break;
        case S_UPGRADED:
          return pos;
        case S_CLOSED:
          throw new Error("Http1Parser: execute() after finish()");
        default:
          throw this.#error;
      }
    }
  }

  // ---- heads ----

  /** Parses a head straight from `data` when it is all there; else falls back to `#scan`. */
  #headFast(data: Uint8Array, pos: number): number {
    const r = this.#isRequest
      ? this.#requestHead(data, pos, data.length)
      : this.#responseHead(data, pos, data.length);
    return r >= 0 ? r : this.#scan(data, pos);
  }

  /**
   * Slow path: copies the bytes of an incomplete head (or trailer block) into `#acc`, looking at
   * each new byte once for the blank line that ends it; then parses the copy. Enforces the size
   * limits while the head grows.
   */
  #scan(data: Uint8Array, pos: number): number {
    const len = data.length;
    const trailers = this.#state === S_TRAILERS;
    const firstIsRequestLine = this.#isRequest && !trailers;
    const maxLines = this.#maxHeaderCount + (trailers ? 0 : 1);
    let from = pos; // first byte not yet copied
    let i = pos;
    let lineLen = this.#scanLineLen;
    let lines = this.#scanLines;
    this.#scanning = true;
    for (;;) {
      let lf = i;
      while (lf < len && data[lf] !== LF) lf++;
      if (lf === len) {
        lineLen += len - i;
        if (firstIsRequestLine && lines === 0 && lineLen > this.#maxLine + 1) this.#tooLongLine();
        if (this.#accLen + (len - from) > this.#maxHeaderBytes) this.#tooLarge(trailers);
        this.#append(data, from, len);
        this.#scanLineLen = lineLen;
        this.#scanLines = lines;
        return len;
      }
      const n = lineLen + (lf - i);
      const cr = lf > i ? data[lf - 1] === CR : lineLen > 0 && this.#acc[this.#accLen - 1] === CR;
      const content = cr ? n - 1 : n;
      if (content === 0) {
        if (!cr && this.#strict) this.#fail("BAD_LINE_ENDING", "bare LF as a line ending");
        if (lines === 0 && !trailers) {
          // An empty line before the start line (RFC 9112 §2.2): skipped.
          this.#accLen = 0;
          from = i = lf + 1;
          lineLen = 0;
          continue;
        }
        if (this.#accLen + (lf + 1 - from) > this.#maxHeaderBytes) this.#tooLarge(trailers);
        this.#append(data, from, lf + 1);
        const acc = this.#acc;
        const accLen = this.#accLen;
        this.#accLen = this.#scanLines = this.#scanLineLen = 0;
        this.#scanning = false;
        const r = trailers
          ? this.#trailers(acc, 0, accLen)
          : this.#isRequest
          ? this.#requestHead(acc, 0, accLen)
          : this.#responseHead(acc, 0, accLen);
        if (r !== accLen) throw new Error(`Http1Parser: head scan and parse disagree (${r})`);
        return lf + 1;
      }
      lines++;
      if (firstIsRequestLine && lines === 1 && content > this.#maxLine) this.#tooLongLine();
      if (lines > maxLines) this.#tooMany(trailers);
      if (this.#accLen + (lf + 1 - from) > this.#maxHeaderBytes) this.#tooLarge(trailers);
      lineLen = 0;
      i = lf + 1;
    }
  }

  #append(data: Uint8Array, from: number, to: number): void {
    const n = to - from;
    if (n === 0) return;
    const need = this.#accLen + n;
    if (need > this.#acc.length) {
      const grown = new Uint8Array(Math.max(need, 2 * this.#acc.length, 1024));
      grown.set(this.#acc.subarray(0, this.#accLen));
      this.#acc = grown;
    }
    this.#acc.set(data.subarray(from, to), this.#accLen);
    this.#accLen = need;
  }

  /** Skips empty lines before a start line; returns the start line's offset or -1 (need more). */
  #skipEmptyLines(buf: Uint8Array, p: number, end: number): number {
    while (p < end) {
      const b = buf[p];
      if (b === CR) {
        if (p + 1 === end) return -1;
        if (buf[p + 1] !== LF) return p; // the start line reports the bare CR
        p += 2;
      } else if (b === LF) {
        if (this.#strict) this.#fail("BAD_LINE_ENDING", "bare LF as a line ending");
        p++;
      } else {
        return p;
      }
    }
    return -1;
  }

  /**
   * Parses a request head in buf[start, end) and emits it. Returns the offset after the head,
   * or -1 when `end` comes first (nothing emitted, nothing kept).
   */
  #requestHead(buf: Uint8Array, start: number, end: number): number {
    const ls = this.#skipEmptyLines(buf, start, end);
    if (ls < 0) return -1;
    const max = this.#maxLine;
    const stop = end - ls > max + 2 ? ls + max + 2 : end;
    let lf = ls;
    while (lf < stop && buf[lf] !== LF) lf++;
    if (lf === stop) {
      if (lf - ls > max + 1) this.#tooLongLine();
      return -1;
    }
    let le = lf;
    if (buf[lf - 1] === CR) le--;
    else this.#fail("BAD_LINE_ENDING", `bare LF after request line ${show(buf, ls, lf)}`);
    if (le - ls > max) this.#tooLongLine();

    // method SP
    let q = ls;
    while (METHOD[buf[q]!] === 1) q++;
    const me = q;
    if (q === ls || q === le || buf[q] !== SP) {
      const b = buf[q]!;
      if (q < le && b === CR) this.#bareCR(buf, ls, le);
      if (q < le && b > SP && b !== DEL) {
        let e = q;
        while (e < le && buf[e] !== SP) e++;
        this.#fail("BAD_METHOD", `invalid method ${show(buf, ls, e)}`);
      }
      this.#fail("BAD_REQUEST_LINE", `malformed request line ${show(buf, ls, le)}`);
    }
    // request-target SP
    const ts = ++q;
    for (let b = buf[q]!; b > SP && b !== DEL; b = buf[++q]!);
    const te = q;
    if (te === ts || q >= le || buf[q] !== SP) {
      if (q < le && buf[q] === CR) this.#bareCR(buf, ls, le);
      const why = te === ts
        ? "empty request target"
        : q >= le
        ? "no HTTP version"
        : "invalid character in request target";
      this.#fail("BAD_REQUEST_LINE", `${why} in request line ${show(buf, ls, le)}`);
    }
    // HTTP-version
    q++;
    if (le - q !== 8 || !isHttp1x(buf, q)) {
      for (let k = q; k < le; k++) {
        if (buf[k] === CR) this.#bareCR(buf, ls, le);
        if (buf[k] === SP) {
          this.#fail(
            "BAD_REQUEST_LINE",
            `more than two spaces in request line ${show(buf, ls, le)}`,
          );
        }
      }
      this.#fail("BAD_VERSION", `unsupported HTTP version ${show(buf, q, le)}`);
    }
    const minor = buf[q + 7]! - 0x30;

    const r = this.#fields(buf, lf + 1, end, ls, false);
    if (r < 0) return -1;

    // Semantics (RFC 9112 §3.2, §6, §9.3; RFC 9110 §7.8, §10.1.1).
    if (this.#hosts !== 1) {
      if (this.#hosts > 1) this.#fail("BAD_HEADER", "more than one Host field");
      if (minor === 1) this.#fail("MISSING_HOST", "HTTP/1.1 request without Host");
    }
    const connect = me - ls === 7 && buf[ls] === 0x43 && buf[ls + 1] === 0x4f &&
      buf[ls + 2] === 0x4e && buf[ls + 3] === 0x4e && buf[ls + 4] === 0x45 &&
      buf[ls + 5] === 0x43 && buf[ls + 6] === 0x54;
    let bodyKind: BodyKind = "none";
    let contentLength = -1;
    if (this.#te) {
      if (this.#cl >= 0) {
        this.#fail("CONTENT_LENGTH_AND_CHUNKED", "both Content-Length and Transfer-Encoding");
      }
      if (minor === 0) {
        this.#fail("BAD_TRANSFER_ENCODING", "Transfer-Encoding in an HTTP/1.0 request");
      }
      if (!this.#teChunkedLast || this.#teChunked !== 1) {
        this.#fail("BAD_TRANSFER_ENCODING", "Transfer-Encoding does not end in one chunked");
      }
      bodyKind = "chunked";
    } else if (this.#cl > 0) {
      this.#checkBodySize(this.#cl);
      bodyKind = "length";
      contentLength = this.#cl;
    }
    if (connect) bodyKind = "none"; // a CONNECT request has no content; its tunnel follows
    if (bodyKind !== "length") contentLength = -1;

    const s = latin1(buf, ls, r);
    const headers = this.#headerMap(s, ls);
    const upgrade = minor === 1 && this.#connUpgrade && this.#upgradeField >= 0
      ? headers.raw[2 * this.#upgradeField + 1]!
      : "";
    const head: RequestHead = {
      method: knownMethod(buf, ls, me) ?? s.substring(0, me - ls),
      target: s.substring(ts - ls, te - ls),
      minorVersion: minor,
      headers,
      bodyKind,
      contentLength,
      keepAlive: !this.#connClose && (minor === 1 || this.#connKeepAlive),
      upgrade,
      expectContinue: minor === 1 && this.#expectContinue,
    };
    this.#startBody(bodyKind, contentLength, upgrade !== "" || connect);
    this.#handler.onHead(head as H);
    return r;
  }

  /** As `#requestHead`, for a response head. */
  #responseHead(buf: Uint8Array, start: number, end: number): number {
    const ls = this.#skipEmptyLines(buf, start, end);
    if (ls < 0) return -1;
    let lf = ls;
    while (lf < end && buf[lf] !== LF) lf++;
    if (lf === end) return -1;
    let le = lf;
    if (buf[lf - 1] === CR) le--;
    if (lf + 1 - ls > this.#maxHeaderBytes) this.#tooLarge(false);
    // HTTP-version SP 3DIGIT [ SP reason ]
    if (le - ls < 12 || !isHttp1x(buf, ls)) {
      for (let k = ls; k < le; k++) if (buf[k] === CR) this.#bareCR(buf, ls, le);
      const version = le - ls >= 5 && buf[ls] === 0x48 && buf[ls + 1] === 0x54 &&
        buf[ls + 2] === 0x54 && buf[ls + 3] === 0x50 && buf[ls + 4] === 0x2f;
      this.#fail(
        version ? "BAD_VERSION" : "BAD_STATUS_LINE",
        `${version ? "unsupported HTTP version in" : "malformed"} status line ${show(buf, ls, le)}`,
      );
    }
    const d0 = buf[ls + 9]! - 0x30;
    const d1 = buf[ls + 10]! - 0x30;
    const d2 = buf[ls + 11]! - 0x30;
    if (
      buf[ls + 8] !== SP || d0 < 1 || d0 > 9 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9 ||
      (le > ls + 12 && buf[ls + 12] !== SP)
    ) {
      this.#fail("BAD_STATUS_LINE", `malformed status line ${show(buf, ls, le)}`);
    }
    for (let k = ls + 13; k < le; k++) {
      const b = buf[k]!;
      if (b < SP && b !== HT || b === DEL) {
        if (b === CR) this.#bareCR(buf, ls, le);
        this.#fail("BAD_STATUS_LINE", `control character in status line ${show(buf, ls, le)}`);
      }
    }
    const status = d0 * 100 + d1 * 10 + d2;
    const minor = buf[ls + 7]! - 0x30;

    const r = this.#fields(buf, lf + 1, end, ls, false);
    if (r < 0) return -1;

    // Semantics (RFC 9112 §6.3).
    if (this.#te && this.#cl >= 0) {
      this.#fail("CONTENT_LENGTH_AND_CHUNKED", "both Content-Length and Transfer-Encoding");
    }
    let bodyKind: BodyKind;
    let tunnel = false;
    if (status < 200) {
      bodyKind = "none"; // interim; the expected method stays for the final response
      tunnel = status === 101;
    } else {
      const method = this.#expect;
      this.#expect = "";
      if (method === "HEAD" || status === 204 || status === 304) bodyKind = "none";
      else if (method === "CONNECT" && status < 300) {
        bodyKind = "none";
        tunnel = true;
      } else if (this.#te) {
        if (this.#teChunked > 1) {
          this.#fail("BAD_TRANSFER_ENCODING", "chunked applied more than once");
        }
        bodyKind = this.#teChunkedLast ? "chunked" : "until-close";
      } else if (this.#cl >= 0) bodyKind = this.#cl > 0 ? "length" : "none";
      else bodyKind = "until-close";
    }
    const contentLength = bodyKind === "length" ? this.#cl : -1;
    if (contentLength > 0) this.#checkBodySize(contentLength);

    const s = latin1(buf, ls, r);
    const head: ResponseHead = {
      status,
      reason: le - ls === 15 && buf[ls + 13] === 0x4f && buf[ls + 14] === 0x4b
        ? "OK"
        : s.substring(Math.min(13, le - ls), le - ls),
      minorVersion: minor,
      headers: this.#headerMap(s, ls),
      bodyKind,
      contentLength,
      // An HTTP/1.0 message with Transfer-Encoding has suspect framing: close after it.
      keepAlive: bodyKind !== "until-close" && !this.#connClose &&
        (minor === 1 || (this.#connKeepAlive && !this.#te)),
    };
    this.#startBody(bodyKind, contentLength, tunnel);
    this.#handler.onHead(head as H);
    return r;
  }

  /** Parses a trailer block in buf[start, end); emits onTrailers (if any fields). -1: need more. */
  #trailers(buf: Uint8Array, start: number, end: number): number {
    const r = this.#fields(buf, start, end, start, true);
    if (r < 0) return -1;
    this.#state = S_DONE;
    if (this.#fieldCount > 0) {
      this.#handler.onTrailers(this.#headerMap(latin1(buf, start, r), start));
    }
    return r;
  }

  /**
   * Validates the field lines from `p` through the blank line, recording their offsets in OFFS
   * and (unless `trailers`) the framing fields' meaning. Returns the offset after the blank line,
   * or -1 when `end` comes first. `base` is where the block began (for maxHeaderBytes).
   */
  #fields(buf: Uint8Array, p: number, end: number, base: number, trailers: boolean): number {
    this.#fieldCount = 0;
    this.#cl = -1;
    this.#te =
      this.#teChunkedLast =
      this.#connClose =
      this.#connKeepAlive =
        false;
    this.#connUpgrade = this.#expectContinue = false;
    this.#teChunked = this.#hosts = 0;
    this.#upgradeField = -1;
    const offs = OFFS;
    const maxK = 4 * this.#maxHeaderCount;
    const limit = base + this.#maxHeaderBytes;
    const strict = this.#strict;
    let k = 0;
    for (;;) {
      if (p >= end) return -1;
      let b = buf[p]!;
      if (b === CR) {
        if (p + 1 === end) return -1;
        if (buf[p + 1] !== LF) this.#fail("BAD_LINE_ENDING", "bare CR in the header block");
        p += 2;
        break;
      }
      if (b === LF) {
        if (strict) this.#fail("BAD_LINE_ENDING", "bare LF as a line ending");
        p++;
        break;
      }
      if (k === maxK) this.#tooMany(trailers);
      // field-name ":"
      const ns = p;
      while (TOKEN[b] === 1) {
        if (++p === end) return -1;
        b = buf[p]!;
      }
      if (b !== COLON || p === ns) {
        if (b === CR && p + 1 === end) return -1;
        this.#badName(buf, ns, p, end);
      }
      const ne = p;
      // OWS field-value OWS
      do {
        if (++p === end) return -1;
        b = buf[p]!;
      } while (b === SP || b === HT);
      const vs = p;
      let ve = p;
      for (;;) {
        if (b > SP) {
          if (b === DEL) break;
          ve = ++p;
        } else if (b === SP || b === HT) p++;
        else break;
        if (p === end) return -1;
        b = buf[p]!;
      }
      if (b === CR) {
        if (p + 1 === end) return -1;
        if (buf[p + 1] !== LF) {
          this.#fail("BAD_LINE_ENDING", `bare CR in field ${show(buf, ns, p)}`);
        }
        p += 2;
      } else if (b === LF) {
        if (strict) this.#fail("BAD_LINE_ENDING", `bare LF after field ${show(buf, ns, p)}`);
        p++;
      } else {
        this.#fail(
          "BAD_HEADER",
          `control character 0x${b.toString(16)} in the value of ${show(buf, ns, ne)}`,
        );
      }
      if (p > limit) this.#tooLarge(trailers);
      offs[k] = ns;
      offs[k + 1] = ne;
      offs[k + 2] = vs;
      offs[k + 3] = ve;
      k += 4;
      if (trailers) continue;
      switch (ne - ns) {
        case 4:
          if (eqLower(buf, ns, L_HOST)) this.#hosts++;
          break;
        case 6:
          if (ve - vs === 12 && eqLower(buf, ns, L_EXPECT) && eqLower(buf, vs, L_100_CONTINUE)) {
            this.#expectContinue = true;
          }
          break;
        case 7:
          if (this.#upgradeField < 0 && eqLower(buf, ns, L_UPGRADE)) {
            this.#upgradeField = (k >> 2) - 1;
          }
          break;
        case 10:
          if (eqLower(buf, ns, L_CONNECTION)) this.#connection(buf, vs, ve);
          break;
        case 14:
          if (eqLower(buf, ns, L_CONTENT_LENGTH)) this.#contentLength(buf, vs, ve);
          break;
        case 17:
          if (eqLower(buf, ns, L_TRANSFER_ENCODING)) this.#transferEncoding(buf, vs, ve);
          break;
      }
    }
    if (p > limit) this.#tooLarge(trailers);
    this.#fieldCount = k >> 2;
    return p;
  }

  /** The HeaderMap of the fields in OFFS; `s` is the block decoded from buffer offset `base`. */
  #headerMap(s: string, base: number): HeaderMap {
    const raw: string[] = [];
    const offs = OFFS;
    const n = 4 * this.#fieldCount;
    for (let k = 0; k < n; k += 4) {
      raw.push(
        s.substring(offs[k]! - base, offs[k + 1]! - base),
        s.substring(offs[k + 2]! - base, offs[k + 3]! - base),
      );
    }
    return new HeaderMap(raw);
  }

  /** Connection: a comma-separated list of tokens (RFC 9110 §7.6.1). */
  #connection(buf: Uint8Array, vs: number, ve: number): void {
    let p = vs;
    while (p < ve) {
      const b = buf[p];
      if (b === COMMA || b === SP || b === HT) {
        p++;
        continue;
      }
      const ts = p;
      while (p < ve && buf[p] !== COMMA) p++;
      let te = p;
      while (isOws(buf[te - 1])) te--;
      const n = te - ts;
      if (n === 5 && eqLower(buf, ts, L_CLOSE)) this.#connClose = true;
      else if (n === 10 && eqLower(buf, ts, L_KEEP_ALIVE)) this.#connKeepAlive = true;
      else if (n === 7 && eqLower(buf, ts, L_UPGRADE)) this.#connUpgrade = true;
    }
  }

  /**
   * Content-Length: 1*DIGIT, or a list of identical values ("5, 5") as some senders produce
   * (RFC 9110 §8.6). Differing values, here or across fields, are a smuggling attempt.
   */
  #contentLength(buf: Uint8Array, vs: number, ve: number): void {
    let p = vs;
    let v = -1;
    for (;;) {
      const ds = p;
      let n = 0;
      while (p < ve) {
        const d = buf[p]! - 0x30;
        if (d < 0 || d > 9) break;
        n = n * 10 + d;
        p++;
      }
      if (p === ds) this.#fail("BAD_CONTENT_LENGTH", `invalid Content-Length ${show(buf, vs, ve)}`);
      if (n > MAX_SAFE) {
        this.#fail("BODY_TOO_LARGE", `Content-Length ${show(buf, vs, ve)} is too large`);
      }
      if (v >= 0 && n !== v) {
        this.#fail("CONFLICTING_CONTENT_LENGTH", `conflicting Content-Length ${show(buf, vs, ve)}`);
      }
      v = n;
      while (p < ve && isOws(buf[p])) p++;
      if (p === ve) break;
      if (buf[p] !== COMMA) {
        this.#fail("BAD_CONTENT_LENGTH", `invalid Content-Length ${show(buf, vs, ve)}`);
      }
      p++;
      while (p < ve && isOws(buf[p])) p++;
    }
    if (this.#cl >= 0 && this.#cl !== v) {
      this.#fail(
        "CONFLICTING_CONTENT_LENGTH",
        `Content-Length ${show(buf, vs, ve)} differs from an earlier ${this.#cl}`,
      );
    }
    this.#cl = v;
  }

  /** Transfer-Encoding: which coding comes last, and how often "chunked" appears. */
  #transferEncoding(buf: Uint8Array, vs: number, ve: number): void {
    this.#te = true;
    let p = vs;
    while (p < ve) {
      const b = buf[p];
      if (b === COMMA || b === SP || b === HT) {
        p++;
        continue;
      }
      const ts = p;
      while (p < ve && buf[p] !== COMMA) p++;
      let te = p;
      while (isOws(buf[te - 1])) te--;
      const chunked = te - ts === 7 && eqLower(buf, ts, L_CHUNKED);
      if (chunked) this.#teChunked++;
      this.#teChunkedLast = chunked;
    }
  }

  #checkBodySize(n: number): void {
    if (n > this.#maxBody) {
      this.#fail("BODY_TOO_LARGE", `body of ${n} bytes exceeds the limit of ${this.#maxBody}`);
    }
  }

  /** Enters the body state of the head just parsed. */
  #startBody(kind: BodyKind, contentLength: number, tunnel: boolean): void {
    this.#next = tunnel ? S_UPGRADED : S_HEAD;
    switch (kind) {
      case "none":
        this.#state = S_DONE;
        break;
      case "length":
        this.#state = S_BODY;
        this.#remaining = contentLength;
        break;
      case "chunked":
        this.#state = S_CHUNK_SIZE;
        this.#chunkedTotal = 0;
        this.#csPhase = CS_SIZE;
        this.#csDigits = this.#csSize = this.#csExt = 0;
        break;
      case "until-close":
        this.#state = S_EOF_BODY;
        break;
    }
  }

  #complete(): void {
    const next = this.#next;
    this.#state = next;
    if (next === S_UPGRADED) this.#upgraded = true;
    this.#handler.onMessageComplete();
  }

  // ---- chunked framing ----

  /** chunk-size [ BWS ";" ext ] CRLF, byte by byte (the line may be split anywhere). */
  #chunkSize(buf: Uint8Array, p: number): number {
    const end = buf.length;
    let phase = this.#csPhase;
    let size = this.#csSize;
    while (p < end) {
      const b = buf[p++]!;
      if (phase === CS_SIZE) {
        const h = HEX[b]!;
        if (h >= 0) {
          if (++this.#csDigits > 16) this.#fail("BAD_CHUNK", "chunk size of more than 16 digits");
          size = size * 16 + h;
          if (size > MAX_SAFE) this.#fail("BAD_CHUNK", "chunk size overflows 2^53");
          continue;
        }
        if (this.#csDigits === 0) {
          this.#fail("BAD_CHUNK", `expected a hex chunk size, got 0x${b.toString(16)}`);
        }
        if (b === CR) phase = CS_LF;
        else if (b === SEMI) phase = CS_EXT;
        else if (b === SP || b === HT) phase = CS_BWS;
        else if (b === LF && !this.#strict) return this.#chunkHeaderDone(size, p);
        else this.#fail("BAD_CHUNK", `invalid byte 0x${b.toString(16)} after the chunk size`);
      } else if (phase === CS_EXT) {
        if (b === CR) phase = CS_LF;
        else if (b === LF && !this.#strict) return this.#chunkHeaderDone(size, p);
        else if ((b < SP && b !== HT) || b === DEL) {
          this.#fail("BAD_CHUNK", `control character 0x${b.toString(16)} in a chunk extension`);
        } else if (++this.#csExt > MAX_CHUNK_EXT) {
          this.#fail("BAD_CHUNK", `chunk extension longer than ${MAX_CHUNK_EXT} bytes`);
        }
      } else if (phase === CS_BWS) {
        if (b === SEMI) phase = CS_EXT;
        else if (b !== SP && b !== HT) {
          this.#fail("BAD_CHUNK", `invalid byte 0x${b.toString(16)} after the chunk size`);
        }
      } else {
        if (b !== LF) this.#fail("BAD_CHUNK", "CR without LF in a chunk-size line");
        return this.#chunkHeaderDone(size, p);
      }
    }
    this.#csPhase = phase;
    this.#csSize = size;
    return p;
  }

  #chunkHeaderDone(size: number, p: number): number {
    this.#csPhase = CS_SIZE;
    this.#csDigits = this.#csSize = this.#csExt = 0;
    if (size === 0) {
      this.#state = S_TRAILERS;
      return p;
    }
    this.#chunkedTotal += size;
    this.#checkBodySize(this.#chunkedTotal);
    this.#remaining = size;
    this.#state = S_CHUNK_DATA;
    return p;
  }

  /** The CRLF that must follow chunk data. */
  #chunkEnd(buf: Uint8Array, p: number): number {
    const end = buf.length;
    while (p < end) {
      const b = buf[p++];
      if (!this.#ceCR) {
        if (b === CR) this.#ceCR = true;
        else if (b === LF && !this.#strict) {
          this.#state = S_CHUNK_SIZE;
          return p;
        } else this.#fail("BAD_CHUNK", "chunk data not followed by CRLF");
      } else {
        if (b !== LF) this.#fail("BAD_CHUNK", "chunk data not followed by CRLF");
        this.#state = S_CHUNK_SIZE;
        return p;
      }
    }
    return p;
  }

  // ---- errors ----

  #badName(buf: Uint8Array, ns: number, p: number, end: number): never {
    const b = buf[p];
    let le = p;
    while (le < end && buf[le] !== CR && buf[le] !== LF) le++;
    const line = show(buf, ns, le);
    if (b === COLON) this.#fail("BAD_HEADER", `empty field name in ${line}`);
    if (p === ns && (b === SP || b === HT)) {
      this.#fail("BAD_HEADER", `line folding (obs-fold) or leading whitespace: ${line}`);
    }
    if (b === SP || b === HT) this.#fail("BAD_HEADER", `whitespace before the colon in ${line}`);
    if (b === CR && buf[p + 1] !== LF) this.#fail("BAD_LINE_ENDING", `bare CR in ${line}`);
    if (b === CR || b === LF) this.#fail("BAD_HEADER", `field without a colon: ${line}`);
    this.#fail("BAD_HEADER", `invalid character 0x${b!.toString(16)} in field name ${line}`);
  }

  #bareCR(buf: Uint8Array, ls: number, le: number): never {
    this.#fail("BAD_LINE_ENDING", `bare CR in start line ${show(buf, ls, le)}`);
  }

  #tooLongLine(): never {
    this.#fail("URI_TOO_LONG", `request line longer than ${this.#maxLine} bytes`);
  }

  #tooLarge(trailers: boolean): never {
    this.#fail(
      "HEADERS_TOO_LARGE",
      `${trailers ? "trailer" : "header"} block larger than ${this.#maxHeaderBytes} bytes`,
    );
  }

  #tooMany(trailers: boolean): never {
    this.#fail(
      "HEADERS_TOO_LARGE",
      `more than ${this.#maxHeaderCount} ${trailers ? "trailer" : "header"} fields`,
    );
  }

  #fail(code: Http1ErrorCode, message: string): never {
    const status = this.#isRequest ? REQUEST_STATUS[code] : 502;
    const e = new Http1ParseError(code, status, message);
    this.#error = e;
    this.#state = S_DEAD;
    this.#scanning = false;
    throw e;
  }
}
