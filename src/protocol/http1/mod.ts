/**
 * HTTP/1.x codec: the incremental parser, the head/chunk encoder and their types. Pure bytes in,
 * events and bytes out: no sockets, no timers.
 *
 * @example
 * ```ts
 * import { encodeResponseHead, Http1Parser } from "./mod.ts";
 * import { HeaderMap } from "../header_map.ts";
 *
 * const parser = Http1Parser.request({
 *   onHead(head) {
 *     const body = encodeResponseHead({ status: 200, headers: HeaderMap.from({ "Content-Length": "0" }) });
 *   },
 *   onBody() {},
 *   onTrailers() {},
 *   onMessageComplete() { parser.pause(); },
 * });
 * ```
 */

export { Http1Parser } from "./parser.ts";
export {
  chunkPrefix,
  CONTINUE_100,
  CRLF,
  encodeChunk,
  encodeRequestHead,
  encodeResponseHead,
  encodeTrailers,
  LAST_CHUNK,
  REASON_PHRASES,
  type RequestHeadInit,
  type ResponseHeadInit,
} from "./encoder.ts";
export {
  type BodyKind,
  DEFAULT_LIMITS,
  type Http1ErrorCode,
  Http1ParseError,
  type ParserHandler,
  type ParserLimits,
  type RequestHead,
  type ResponseHead,
} from "./types.ts";
