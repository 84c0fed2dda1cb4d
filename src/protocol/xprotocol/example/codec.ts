/**
 * The example protocol as an `XProtocol` ("example"). It has no status field, so `hijack` answers
 * with a response whose payload is the UTF-8 text `error <httpStatus>` and whose in-memory
 * `status` is the HTTP status itself (not on the wire); `statusToHttp` is 200 for 0, else the
 * status unchanged. It has no heartbeats: `heartbeatReply` throws ENCODE_FAILED.
 */

import { HeaderMap } from "../../header_map.ts";
import {
  type DecodeResult,
  DEFAULT_MAX_FRAME_BYTES,
  type MatchResult,
  type PoolMode,
  type XFrame,
  type XProtocol,
  XProtocolError,
  type XProtocolOptions,
} from "../types.ts";
import { decodeExample, matchExample } from "./decode.ts";
import { encodeExample, patchExampleRequestId } from "./encode.ts";
import type { ExampleMeta } from "./types.ts";

export class ExampleProtocol implements XProtocol<ExampleMeta> {
  readonly name = "example";
  readonly poolMode: PoolMode = "multiplex";
  readonly maxFrameBytes: number;

  constructor(options: XProtocolOptions = {}) {
    this.maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  }

  match(head: Uint8Array): MatchResult {
    return matchExample(head);
  }

  decode(buf: Uint8Array): DecodeResult<ExampleMeta> {
    return decodeExample(this.maxFrameBytes, buf);
  }

  encode(frame: XFrame<ExampleMeta>): Uint8Array {
    return encodeExample(frame);
  }

  setRequestId(frame: XFrame<ExampleMeta>, id: number): void {
    patchExampleRequestId(frame, id);
  }

  heartbeatReply(_frame: XFrame<ExampleMeta>): XFrame<ExampleMeta> {
    throw new XProtocolError("example", "ENCODE_FAILED", "the example protocol has no heartbeats");
  }

  hijack(request: XFrame<ExampleMeta>, httpStatus: number): XFrame<ExampleMeta> {
    const frame: XFrame<ExampleMeta> = {
      kind: "response",
      requestId: request.requestId,
      headers: new HeaderMap(),
      body: new TextEncoder().encode(`error ${httpStatus}`),
      raw: new Uint8Array(0),
      timeoutMs: 0,
      status: httpStatus,
      meta: {},
    };
    frame.raw = encodeExample(frame);
    return frame;
  }

  statusToHttp(status: number): number {
    return status === 0 ? 200 : status;
  }
}

export function createExample(options?: XProtocolOptions): ExampleProtocol {
  return new ExampleProtocol(options);
}
