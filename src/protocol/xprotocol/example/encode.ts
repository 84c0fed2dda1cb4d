/** Encoder of the example protocol (layout in `types.ts`). */

import { type XFrame, XProtocolError } from "../types.ts";
import { EXAMPLE_HEADER_BYTES, EXAMPLE_MAGIC, type ExampleMeta, ExampleType } from "./types.ts";

function checkId(id: number): void {
  if (!Number.isInteger(id) || id < 0 || id > 0xffffffff) {
    throw new XProtocolError(
      "example",
      "ENCODE_FAILED",
      `requestId ${id} is outside 0..4294967295`,
    );
  }
}

/** @throws XProtocolError ENCODE_FAILED for heartbeat kinds or an out-of-range id */
export function encodeExample(frame: XFrame<ExampleMeta>): Uint8Array {
  let type: number;
  if (frame.kind === "request" || frame.kind === "oneway") type = ExampleType.REQUEST;
  else if (frame.kind === "response") type = ExampleType.RESPONSE;
  else throw new XProtocolError("example", "ENCODE_FAILED", `no ${frame.kind} frames`);
  checkId(frame.requestId);
  const out = new Uint8Array(EXAMPLE_HEADER_BYTES + frame.body.length);
  const dv = new DataView(out.buffer);
  out[0] = EXAMPLE_MAGIC;
  dv.setUint32(1, frame.body.length);
  dv.setUint32(5, frame.requestId);
  out[9] = type;
  out.set(frame.body, EXAMPLE_HEADER_BYTES);
  return out;
}

/** Sets the id on the frame and in its raw bytes (4 bytes at offset 5). */
export function patchExampleRequestId(frame: XFrame<ExampleMeta>, id: number): void {
  checkId(id);
  frame.requestId = id;
  if (frame.raw.length >= EXAMPLE_HEADER_BYTES) {
    new DataView(frame.raw.buffer, frame.raw.byteOffset, frame.raw.byteLength).setUint32(5, id);
  }
}
