/** Bolt v1/v2 frame decoder (layout in `types.ts`): zero-copy, incremental, bounded. */

import { HeaderMap } from "../../header_map.ts";
import { crc32 } from "../crc32.ts";
import { type DecodeResult, type MatchResult, type XFrameKind, XProtocolError } from "../types.ts";
import { BOLT_SWITCH_CRC, BoltCmdCode, type BoltLayout, type BoltMeta, BoltType } from "./types.ts";

const utf8 = new TextDecoder();
const NULL_LEN = 0xffffffff;

function kindOf(type: number, cmdCode: number): XFrameKind | undefined {
  if (cmdCode === BoltCmdCode.HEARTBEAT) {
    return type === BoltType.RESPONSE ? "heartbeat_ack" : "heartbeat";
  }
  if (cmdCode === BoltCmdCode.REQUEST) {
    if (type === BoltType.REQUEST) return "request";
    if (type === BoltType.ONEWAY) return "oneway";
    return undefined;
  }
  if (cmdCode === BoltCmdCode.RESPONSE && type === BoltType.RESPONSE) return "response";
  return undefined;
}

/** Auto-detection on the first bytes: proto code, then a known type and cmdcode. */
export function matchBolt(layout: BoltLayout, head: Uint8Array): MatchResult {
  if (head.length === 0) return "again";
  if (head[0] !== layout.proto) return "fail";
  if (head.length <= layout.type) return "again";
  const type = head[layout.type]!;
  if (type > BoltType.ONEWAY) return "fail";
  if (head.length < layout.cmdCode + 2) return "again";
  const cmdCode = (head[layout.cmdCode]! << 8) | head[layout.cmdCode + 1]!;
  return kindOf(type, cmdCode) === undefined ? "fail" : "match";
}

/**
 * Decodes the first bolt frame of `buf`.
 * @throws XProtocolError BAD_MAGIC, BAD_TYPE, FRAME_TOO_LARGE, BAD_CRC, TRUNCATED, BAD_FIELD
 */
export function decodeBolt(
  name: string,
  layout: BoltLayout,
  maxFrameBytes: number,
  buf: Uint8Array,
): DecodeResult<BoltMeta> {
  if (buf.length === 0) return "again";
  if (buf[0] !== layout.proto) {
    throw new XProtocolError(
      name,
      "BAD_MAGIC",
      `protocol code 0x${buf[0]!.toString(16)}, expected 0x${layout.proto.toString(16)}`,
    );
  }
  if (buf.length <= layout.type) return "again";
  const type = buf[layout.type]!;
  if (type > BoltType.ONEWAY) throw new XProtocolError(name, "BAD_TYPE", `frame type ${type}`);
  const isResponse = type === BoltType.RESPONSE;
  const headerBytes = isResponse ? layout.responseHeaderBytes : layout.requestHeaderBytes;
  if (buf.length < headerBytes) return "again";

  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const cmdCode = dv.getUint16(layout.cmdCode);
  const kind = kindOf(type, cmdCode);
  if (kind === undefined) {
    throw new XProtocolError(name, "BAD_TYPE", `cmdcode ${cmdCode} with frame type ${type}`);
  }
  const switchCode = layout.switchCode < 0 ? 0 : buf[layout.switchCode]!;
  const hasCrc = (switchCode & BOLT_SWITCH_CRC) !== 0;
  let p = layout.timeoutOrStatus;
  let timeoutMs = 0;
  let status = 0;
  if (isResponse) {
    status = dv.getUint16(p);
    p += 2;
  } else {
    timeoutMs = Math.max(0, dv.getInt32(p));
    p += 4;
  }
  const classLen = dv.getUint16(p);
  const headerLen = dv.getUint16(p + 2);
  const contentLen = dv.getUint32(p + 4);
  const total = headerBytes + classLen + headerLen + contentLen + (hasCrc ? 4 : 0);
  if (total > maxFrameBytes) {
    throw new XProtocolError(
      name,
      "FRAME_TOO_LARGE",
      `frame of ${total} bytes is above the ${maxFrameBytes}-byte limit`,
    );
  }
  if (buf.length < total) return "again";
  if (hasCrc) {
    const want = dv.getUint32(total - 4);
    const got = crc32(buf, 0, total - 4);
    if (want !== got) {
      throw new XProtocolError(
        name,
        "BAD_CRC",
        `CRC32 0x${want.toString(16)} on the wire, 0x${got.toString(16)} computed`,
      );
    }
  }

  let off = headerBytes;
  const className = classLen === 0 ? "" : utf8.decode(buf.subarray(off, off + classLen));
  off += classLen;
  const meta: BoltMeta = {
    ver1: layout.switchCode < 0 ? 0 : buf[1]!,
    ver2: buf[layout.ver2]!,
    codec: buf[layout.codec]!,
    switchCode,
    className,
  };
  const headers = headerLen === 0
    ? new HeaderMap()
    : decodeHeaderMap(name, buf.subarray(off, off + headerLen), meta);
  off += headerLen;
  return {
    frame: {
      kind,
      requestId: dv.getUint32(layout.requestId),
      headers,
      body: buf.subarray(off, off + contentLen),
      raw: buf.subarray(0, total),
      timeoutMs,
      status,
      meta,
    },
    consumed: total,
  };
}

function decodeHeaderMap(name: string, b: Uint8Array, meta: BoltMeta): HeaderMap {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const raw: string[] = [];
  let p = 0;
  while (p < b.length) {
    if (p + 4 > b.length) throw truncated(name, "key length");
    const keyLen = dv.getUint32(p);
    p += 4;
    if (keyLen === NULL_LEN) throw new XProtocolError(name, "BAD_FIELD", "null header key");
    if (p + keyLen > b.length) throw truncated(name, "key");
    const key = utf8.decode(b.subarray(p, p + keyLen));
    p += keyLen;
    if (p + 4 > b.length) throw truncated(name, `length of the value of "${key}"`);
    const valLen = dv.getUint32(p);
    p += 4;
    let value = "";
    if (valLen === NULL_LEN) {
      (meta.nullHeaders ??= []).push(key);
    } else {
      if (p + valLen > b.length) throw truncated(name, `value of "${key}"`);
      value = utf8.decode(b.subarray(p, p + valLen));
      p += valLen;
    }
    raw.push(key, value);
  }
  return new HeaderMap(raw);
}

function truncated(name: string, what: string): XProtocolError {
  return new XProtocolError(name, "TRUNCATED", `header map ends inside a ${what}`);
}
