/**
 * The plug-in contract for multiplexed RPC protocols (MOSN's "xprotocol"): bolt, boltv2, dubbo,
 * and any private protocol. Pure codecs: no sockets, no timers. A new protocol is one folder
 * exporting an `XProtocol` plus one line in `registry.ts`.
 *
 * Conventions every codec follows:
 * - `requestId` is a JS `number` for every protocol. Bolt ids are u32; dubbo's are u64 on the
 *   wire, and its codec keeps them as numbers up to `Number.MAX_SAFE_INTEGER` (2^53 - 1) — the
 *   proxy allocates upstream ids from a u32 counter, so only a peer's own ids can be that large.
 * - `decode` never copies: `raw` and `body` are views into the buffer it was given. The caller
 *   must not overwrite that buffer while the frame is alive (`setRequestId` writes into `raw`).
 * - `raw` is the frame's exact bytes (decoded, or as built by `encode`). An unchanged frame is
 *   forwarded by writing `raw`; after changing `headers`/`body`/`meta` call `encode(frame)`.
 */

import type { HeaderMap } from "../header_map.ts";

/** What a frame is, protocol-neutral. */
export type XFrameKind =
  /** A two-way request: a response with the same id is expected. */
  | "request"
  /** A request that gets no response. */
  | "oneway"
  | "response"
  /** A keep-alive probe; answered by the proxy itself with `heartbeatReply`, never forwarded. */
  | "heartbeat"
  /** The answer to a heartbeat. */
  | "heartbeat_ack";

/** One decoded RPC frame. `M` holds the protocol's own fields (bolt: codec, class name, …). */
export interface XFrame<M = unknown> {
  kind: XFrameKind;
  /** Correlates requests and responses on one connection (see the module doc on its range). */
  requestId: number;
  /** String headers (bolt's header map, dubbo's attachments, …). */
  headers: HeaderMap;
  /** The payload, not interpreted (may be a view into `raw`). */
  body: Uint8Array;
  /** The frame's bytes on the wire (a view into the decoded buffer; see the module doc). */
  raw: Uint8Array;
  /** Request timeout the client asked for, in ms; 0 when absent (and for responses). */
  timeoutMs: number;
  /** Protocol response status (responses and heartbeat acks); 0 for requests. */
  status: number;
  meta: M;
  /**
   * Set by whoever changed `headers` after decoding (the proxy injecting trace context); the
   * client stream then re-encodes the frame before sending instead of writing `raw` as is.
   */
  headersChanged?: boolean;
}

/** Auto-detection verdict on the first bytes of a connection. */
export type MatchResult = "match" | "again" | "fail";

/** `"again"`: the buffer holds no complete frame yet; call again with more bytes. */
export type DecodeResult<M = unknown> = { frame: XFrame<M>; consumed: number } | "again";

/** Connection pooling a protocol supports upstream. */
export type PoolMode = "multiplex" | "pingpong";

/** Options every codec factory accepts. */
export interface XProtocolOptions {
  /** Largest frame accepted by `decode` (whole frame, header included). Default 16 MiB. */
  maxFrameBytes?: number;
}

export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;

/**
 * A multiplexed RPC protocol. Methods (not function properties) so that an `XProtocol<BoltMeta>`
 * is usable where an `XProtocol` is expected.
 */
export interface XProtocol<M = unknown> {
  /** The config name (`downstream_protocol`), e.g. "bolt", "boltv2", "dubbo". */
  readonly name: string;
  readonly poolMode: PoolMode;
  /** Whether a connection starting with `head` speaks this protocol ("again": too few bytes). */
  match(head: Uint8Array): MatchResult;
  /**
   * Decodes the first frame of `buf` (which may hold several, or a partial one).
   * @throws XProtocolError on malformed input; the connection should then be closed.
   */
  decode(buf: Uint8Array): DecodeResult<M>;
  /** Serializes `frame` from its fields (ignores `raw`); sets nothing on `frame`. */
  encode(frame: XFrame<M>): Uint8Array;
  /**
   * Sets `frame.requestId` and patches the id in `frame.raw` in place (fixing any checksum), so
   * the proxy can re-stamp ids without re-encoding.
   */
  setRequestId(frame: XFrame<M>, id: number): void;
  /** The answer to a heartbeat frame (same id), with `raw` filled in. */
  heartbeatReply(frame: XFrame<M>): XFrame<M>;
  /** A heartbeat request, for keeping idle upstream connections alive; absent = no heartbeats. */
  heartbeat?(requestId: number): XFrame<M>;
  /**
   * An error response to `request` built from an HTTP-like status the proxy produced (404 no
   * route, 502 no healthy upstream, 503 overflow, 504 timeout…), with `raw` filled in.
   */
  hijack(request: XFrame<M>, httpStatus: number): XFrame<M>;
  /** Maps a protocol response status to the HTTP-like status used in stats and access logs. */
  statusToHttp(status: number): number;
}

/** A codec factory, as kept in the registry. */
export type XProtocolFactory = (options?: XProtocolOptions) => XProtocol;

/** Whether the proxy should answer `frame` itself instead of forwarding it. */
export function isHeartbeat(frame: XFrame<unknown>): boolean {
  return frame.kind === "heartbeat";
}

/** Stable codes of malformed frames. */
export type XProtocolErrorCode =
  /** The first byte(s) are not this protocol's magic / protocol code. */
  | "BAD_MAGIC"
  /** Unknown frame type or command code. */
  | "BAD_TYPE"
  /** The frame's declared length is above `maxFrameBytes`. */
  | "FRAME_TOO_LARGE"
  /** The checksum does not match the bytes. */
  | "BAD_CRC"
  /** A length inside the frame runs past the part that contains it (e.g. a header map entry). */
  | "TRUNCATED"
  /** A field cannot be decoded (e.g. a null header key). */
  | "BAD_FIELD"
  /** A frame cannot be encoded (a field out of its wire range). */
  | "ENCODE_FAILED";

/** Malformed or unencodable frame. Bad bytes from a peer: count it and close the connection. */
export class XProtocolError extends Error {
  readonly code: XProtocolErrorCode;
  /** The protocol name ("bolt", "dubbo", …). */
  readonly protocol: string;
  constructor(protocol: string, code: XProtocolErrorCode, message: string) {
    super(`${protocol}: ${message}`);
    this.code = code;
    this.protocol = protocol;
    this.name = "XProtocolError";
  }
}
