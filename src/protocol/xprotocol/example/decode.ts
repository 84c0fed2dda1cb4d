/** Decoder of the example protocol (layout in `types.ts`). */

import { HeaderMap } from "../../header_map.ts";
import { type DecodeResult, type MatchResult, XProtocolError } from "../types.ts";
import { EXAMPLE_HEADER_BYTES, EXAMPLE_MAGIC, type ExampleMeta, ExampleType } from "./types.ts";

export function matchExample(head: Uint8Array): MatchResult {
  if (head.length === 0) return "again";
  return head[0] === EXAMPLE_MAGIC ? "match" : "fail";
}

/** @throws XProtocolError BAD_MAGIC, BAD_TYPE, FRAME_TOO_LARGE */
export function decodeExample(maxFrameBytes: number, buf: Uint8Array): DecodeResult<ExampleMeta> {
  if (buf.length === 0) return "again";
  if (buf[0] !== EXAMPLE_MAGIC) {
    throw new XProtocolError("example", "BAD_MAGIC", `magic 0x${buf[0]!.toString(16)}`);
  }
  if (buf.length < EXAMPLE_HEADER_BYTES) return "again";
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const total = EXAMPLE_HEADER_BYTES + dv.getUint32(1);
  if (total > maxFrameBytes) {
    throw new XProtocolError(
      "example",
      "FRAME_TOO_LARGE",
      `frame of ${total} bytes is above the ${maxFrameBytes}-byte limit`,
    );
  }
  const type = buf[9]!;
  if (type !== ExampleType.REQUEST && type !== ExampleType.RESPONSE) {
    throw new XProtocolError("example", "BAD_TYPE", `frame type ${type}`);
  }
  if (buf.length < total) return "again";
  return {
    frame: {
      kind: type === ExampleType.REQUEST ? "request" : "response",
      requestId: dv.getUint32(5),
      headers: new HeaderMap(),
      body: buf.subarray(EXAMPLE_HEADER_BYTES, total),
      raw: buf.subarray(0, total),
      timeoutMs: 0,
      status: 0,
      meta: {},
    },
    consumed: total,
  };
}
