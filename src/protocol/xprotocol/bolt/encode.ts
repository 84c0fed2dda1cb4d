/** Bolt v1/v2 frame encoder (layout in `types.ts`) and the in-place request-id patch. */

import { crc32 } from "../crc32.ts";
import { type XFrame, type XFrameKind, XProtocolError } from "../types.ts";
import { BOLT_SWITCH_CRC, BoltCmdCode, type BoltLayout, type BoltMeta, BoltType } from "./types.ts";

const utf8 = new TextEncoder();
const NULL_LEN = 0xffffffff;

const TYPE_AND_CMD: Record<XFrameKind, readonly [number, number]> = {
  request: [BoltType.REQUEST, BoltCmdCode.REQUEST],
  oneway: [BoltType.ONEWAY, BoltCmdCode.REQUEST],
  response: [BoltType.RESPONSE, BoltCmdCode.RESPONSE],
  heartbeat: [BoltType.REQUEST, BoltCmdCode.HEARTBEAT],
  heartbeat_ack: [BoltType.RESPONSE, BoltCmdCode.HEARTBEAT],
};

function hasCrc(layout: BoltLayout, meta: BoltMeta): boolean {
  return layout.switchCode >= 0 && (meta.switchCode & BOLT_SWITCH_CRC) !== 0;
}

function checkRange(name: string, what: string, v: number, max: number): void {
  if (!Number.isInteger(v) || v < 0 || v > max) {
    throw new XProtocolError(name, "ENCODE_FAILED", `${what} ${v} is outside 0..${max}`);
  }
}

/**
 * Serializes a bolt frame from its fields (`raw` is ignored).
 * @throws XProtocolError ENCODE_FAILED when a field does not fit its wire width
 */
export function encodeBolt(name: string, layout: BoltLayout, frame: XFrame<BoltMeta>): Uint8Array {
  const meta = frame.meta;
  const [type, cmdCode] = TYPE_AND_CMD[frame.kind];
  const isResponse = type === BoltType.RESPONSE;
  const headerBytes = isResponse ? layout.responseHeaderBytes : layout.requestHeaderBytes;
  checkRange(name, "requestId", frame.requestId, 0xffffffff);

  const className = meta.className === "" ? undefined : utf8.encode(meta.className);
  const classLen = className?.length ?? 0;
  checkRange(name, "class name length", classLen, 0xffff);

  // Header map: encode every string once, then size and copy.
  const parts: (Uint8Array | null)[] = [];
  let headerLen = 0;
  const nulls = meta.nullHeaders;
  frame.headers.forEach((value, key) => {
    const k = utf8.encode(key);
    const v = value === "" && nulls !== undefined && nulls.includes(key)
      ? null
      : utf8.encode(value);
    parts.push(k, v);
    headerLen += 8 + k.length + (v?.length ?? 0);
  });
  checkRange(name, "header map length", headerLen, 0xffff);

  const crc = hasCrc(layout, meta);
  const body = frame.body;
  const total = headerBytes + classLen + headerLen + body.length + (crc ? 4 : 0);
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);

  out[0] = layout.proto;
  if (layout.switchCode >= 0) {
    out[1] = meta.ver1;
    out[layout.switchCode] = meta.switchCode;
  }
  out[layout.type] = type;
  dv.setUint16(layout.cmdCode, cmdCode);
  out[layout.ver2] = meta.ver2;
  dv.setUint32(layout.requestId, frame.requestId);
  out[layout.codec] = meta.codec;
  let p = layout.timeoutOrStatus;
  if (isResponse) {
    checkRange(name, "status", frame.status, 0xffff);
    dv.setUint16(p, frame.status);
    p += 2;
  } else {
    checkRange(name, "timeout", frame.timeoutMs, 0x7fffffff);
    dv.setInt32(p, frame.timeoutMs);
    p += 4;
  }
  dv.setUint16(p, classLen);
  dv.setUint16(p + 2, headerLen);
  dv.setUint32(p + 4, body.length);

  p = headerBytes;
  if (className !== undefined) {
    out.set(className, p);
    p += classLen;
  }
  for (const part of parts) {
    if (part === null) {
      dv.setUint32(p, NULL_LEN);
      p += 4;
    } else {
      dv.setUint32(p, part.length);
      out.set(part, p + 4);
      p += 4 + part.length;
    }
  }
  out.set(body, p);
  if (crc) dv.setUint32(total - 4, crc32(out, 0, total - 4));
  return out;
}

/**
 * Sets `frame.requestId` and rewrites it inside `frame.raw`; a v2 CRC trailer is recomputed (so
 * the cost is one pass over the frame when CRC is on, four bytes otherwise).
 */
export function patchBoltRequestId(
  name: string,
  layout: BoltLayout,
  frame: XFrame<BoltMeta>,
  id: number,
): void {
  checkRange(name, "requestId", id, 0xffffffff);
  frame.requestId = id;
  const raw = frame.raw;
  if (raw.length < layout.responseHeaderBytes) return; // no wire bytes yet: encode() will do
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  dv.setUint32(layout.requestId, id);
  if (hasCrc(layout, frame.meta)) dv.setUint32(raw.length - 4, crc32(raw, 0, raw.length - 4));
}
