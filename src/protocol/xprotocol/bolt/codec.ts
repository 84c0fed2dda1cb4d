/**
 * The bolt v1 ("bolt") and bolt v2 ("boltv2") `XProtocol`s: decode/encode, heartbeats, request-id
 * re-stamping, and the HTTP-like status mapping used for hijacked responses.
 *
 * `hijack(request, httpStatus)` → bolt status:
 * | HTTP                       | bolt status                  |
 * | -------------------------- | ---------------------------- |
 * | 200                        | 0  SUCCESS                   |
 * | 400                        | 9  CODEC_EXCEPTION           |
 * | 404 (no route)             | 6  NO_PROCESSOR              |
 * | 408, 504 (timeout)         | 7  TIMEOUT                   |
 * | 429, 503, 509 (overflow)   | 4  SERVER_THREADPOOL_BUSY    |
 * | 502 (no healthy upstream)  | 16 CONNECTION_CLOSED         |
 * | 500, other 5xx             | 2  SERVER_EXCEPTION          |
 * | other                      | 3  UNKNOWN                   |
 *
 * `statusToHttp(status)`: 0 → 200, 4 → 503, 6 → 404, 7 → 504, 5/8/16 → 502, 9 → 400,
 * anything else → 500. Every row of the hijack table maps back to its HTTP status except the
 * many-to-one ones (408/429/509 and non-500 5xx/others).
 */

import { HeaderMap } from "../../header_map.ts";
import {
  type DecodeResult,
  DEFAULT_MAX_FRAME_BYTES,
  type MatchResult,
  type PoolMode,
  type XFrame,
  type XProtocol,
  type XProtocolOptions,
} from "../types.ts";
import { decodeBolt, matchBolt } from "./decode.ts";
import { encodeBolt, patchBoltRequestId } from "./encode.ts";
import {
  BOLT_V1_LAYOUT,
  BOLT_V2_LAYOUT,
  BoltCodec as BoltSerialization,
  type BoltLayout,
  type BoltMeta,
  BoltStatus,
} from "./types.ts";

/** Bolt status for an HTTP-like status produced by the proxy (table in the module doc). */
export function httpToBoltStatus(httpStatus: number): number {
  switch (httpStatus) {
    case 200:
      return BoltStatus.SUCCESS;
    case 400:
      return BoltStatus.CODEC_EXCEPTION;
    case 404:
      return BoltStatus.NO_PROCESSOR;
    case 408:
    case 504:
      return BoltStatus.TIMEOUT;
    case 429:
    case 503:
    case 509:
      return BoltStatus.SERVER_THREADPOOL_BUSY;
    case 502:
      return BoltStatus.CONNECTION_CLOSED;
  }
  return httpStatus >= 500 && httpStatus < 600 ? BoltStatus.SERVER_EXCEPTION : BoltStatus.UNKNOWN;
}

/** HTTP-like status for a bolt response status (mapping in the module doc). */
export function boltStatusToHttp(status: number): number {
  switch (status) {
    case BoltStatus.SUCCESS:
      return 200;
    case BoltStatus.SERVER_THREADPOOL_BUSY:
      return 503;
    case BoltStatus.NO_PROCESSOR:
      return 404;
    case BoltStatus.TIMEOUT:
      return 504;
    case BoltStatus.ERROR_COMM:
    case BoltStatus.CLIENT_SEND_ERROR:
    case BoltStatus.CONNECTION_CLOSED:
      return 502;
    case BoltStatus.CODEC_EXCEPTION:
      return 400;
  }
  return 500;
}

/** One bolt version as an `XProtocol`. */
export class BoltProtocol implements XProtocol<BoltMeta> {
  readonly name: string;
  readonly poolMode: PoolMode = "multiplex";
  readonly maxFrameBytes: number;
  readonly #layout: BoltLayout;

  constructor(name: string, layout: BoltLayout, options: XProtocolOptions = {}) {
    this.name = name;
    this.#layout = layout;
    this.maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  }

  match(head: Uint8Array): MatchResult {
    return matchBolt(this.#layout, head);
  }

  decode(buf: Uint8Array): DecodeResult<BoltMeta> {
    return decodeBolt(this.name, this.#layout, this.maxFrameBytes, buf);
  }

  encode(frame: XFrame<BoltMeta>): Uint8Array {
    return encodeBolt(this.name, this.#layout, frame);
  }

  setRequestId(frame: XFrame<BoltMeta>, id: number): void {
    patchBoltRequestId(this.name, this.#layout, frame, id);
  }

  /** A heartbeat request (cmdcode 0), e.g. for keep-alive or health checks. */
  heartbeat(requestId: number, meta: Partial<BoltMeta> = {}): XFrame<BoltMeta> {
    return this.#build("heartbeat", requestId, 0, this.#meta(meta));
  }

  heartbeatReply(frame: XFrame<BoltMeta>): XFrame<BoltMeta> {
    return this.#build(
      "heartbeat_ack",
      frame.requestId,
      BoltStatus.SUCCESS,
      this.#meta(frame.meta),
    );
  }

  /** An empty response (no class, headers or content) carrying the mapped status. */
  hijack(request: XFrame<BoltMeta>, httpStatus: number): XFrame<BoltMeta> {
    const status = httpToBoltStatus(httpStatus);
    return this.#build("response", request.requestId, status, this.#meta(request.meta));
  }

  statusToHttp(status: number): number {
    return boltStatusToHttp(status);
  }

  /** Version, codec and switch taken from `from`; no class name or null headers. */
  #meta(from: Partial<BoltMeta>): BoltMeta {
    const v2 = this.#layout === BOLT_V2_LAYOUT;
    return {
      ver1: v2 ? from.ver1 ?? 2 : 0,
      ver2: from.ver2 ?? 1,
      codec: from.codec ?? BoltSerialization.HESSIAN2,
      switchCode: v2 ? from.switchCode ?? 0 : 0,
      className: "",
    };
  }

  #build(
    kind: XFrame["kind"],
    requestId: number,
    status: number,
    meta: BoltMeta,
  ): XFrame<BoltMeta> {
    const frame: XFrame<BoltMeta> = {
      kind,
      requestId,
      headers: new HeaderMap(),
      body: new Uint8Array(0),
      raw: new Uint8Array(0),
      timeoutMs: kind === "heartbeat" ? 3000 : 0,
      status: kind === "heartbeat" ? 0 : status,
      meta,
    };
    frame.raw = this.encode(frame);
    return frame;
  }
}

/** Bolt v1 codec ("bolt"); `maxFrameBytes` defaults to 16 MiB. */
export function createBoltV1(options?: XProtocolOptions): BoltProtocol {
  return new BoltProtocol("bolt", BOLT_V1_LAYOUT, options);
}

/** Bolt v2 codec ("boltv2"), CRC32 trailer when the frame's switch asks for it. */
export function createBoltV2(options?: XProtocolOptions): BoltProtocol {
  return new BoltProtocol("boltv2", BOLT_V2_LAYOUT, options);
}

/** Bolt v1 with default options. */
export const boltV1: BoltProtocol = createBoltV1();
/** Bolt v2 with default options. */
export const boltV2: BoltProtocol = createBoltV2();
