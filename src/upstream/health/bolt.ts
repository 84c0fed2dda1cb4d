/**
 * Bolt health check: a bolt v1 heartbeat request (cmdcode 0) per check; healthy when the
 * answer is a bolt v1 response with the same request id and status 0 (SUCCESS).
 *
 * Heartbeat request (22 bytes, big-endian):
 * `proto 0x01 | type 0x01 | cmdcode 0x0000 | ver2 0x01 | requestId u32 | codec 0x01 |
 * timeout i32 | classLen 0 | headerLen 0 | contentLen 0`.
 * Heartbeat ack, as SOFABolt sends it (golden v1_heartbeat_ack.hex, 20 bytes):
 * `proto 0x01 | type 0x00 | cmdcode 0x0000 | ver2 0x01 | requestId u32 | codec 0x01 |
 * status u16 | classLen 0 | headerLen 0 | contentLen 0`. A response with cmdcode 0x0002
 * (RPC response) is accepted too.
 *
 * Small self-contained helpers; the real bolt codec lives with the protocol layer.
 */

import type { HealthCheckConfig } from "../../config/model.ts";
import type { Host } from "../types.ts";
import { BadResponseError, failureOf, readUntil, withConnection, writeAll } from "./_net.ts";
import { type CheckResult, HEALTHY, unhealthy } from "./types.ts";

export const BOLT_PROTOCOL_V1 = 0x01;
export const BOLT_TYPE_RESPONSE = 0x00;
export const BOLT_TYPE_REQUEST = 0x01;
export const BOLT_CMD_HEARTBEAT = 0x0000;
export const BOLT_CMD_RESPONSE = 0x0002;
export const BOLT_REQUEST_HEADER_LEN = 22;
export const BOLT_RESPONSE_HEADER_LEN = 20;
/** Codec byte: hessian2. */
const CODEC_HESSIAN2 = 0x01;
const VER2 = 0x01;

/** Bolt response status names, by value. */
const BOLT_STATUS: Readonly<Record<number, string>> = {
  0: "SUCCESS",
  1: "ERROR",
  2: "SERVER_EXCEPTION",
  3: "UNKNOWN",
  4: "SERVER_THREADPOOL_BUSY",
  5: "ERROR_COMM",
  6: "NO_PROCESSOR",
  7: "TIMEOUT",
  8: "CLIENT_SEND_ERROR",
  9: "CODEC_EXCEPTION",
  16: "CONNECTION_CLOSED",
};

/** The 22-byte bolt v1 heartbeat request. */
export function encodeBoltHeartbeat(requestId: number, timeoutMs: number): Uint8Array {
  const out = new Uint8Array(BOLT_REQUEST_HEADER_LEN);
  const v = new DataView(out.buffer);
  v.setUint8(0, BOLT_PROTOCOL_V1);
  v.setUint8(1, BOLT_TYPE_REQUEST);
  v.setUint16(2, BOLT_CMD_HEARTBEAT);
  v.setUint8(4, VER2);
  v.setUint32(5, requestId >>> 0);
  v.setUint8(9, CODEC_HESSIAN2);
  v.setInt32(10, Math.min(timeoutMs, 0x7fffffff));
  // classLen, headerLen, contentLen: 0
  return out;
}

/** The fixed header of a bolt v1 response. */
export interface BoltResponseHeader {
  readonly proto: number;
  readonly type: number;
  readonly cmdCode: number;
  readonly ver2: number;
  readonly requestId: number;
  readonly codec: number;
  readonly status: number;
  readonly classLen: number;
  readonly headerLen: number;
  readonly contentLen: number;
}

/** Decodes the 20-byte header at the start of `b`; undefined when `b` is shorter. */
export function decodeBoltResponseHeader(b: Uint8Array): BoltResponseHeader | undefined {
  if (b.byteLength < BOLT_RESPONSE_HEADER_LEN) return undefined;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return {
    proto: v.getUint8(0),
    type: v.getUint8(1),
    cmdCode: v.getUint16(2),
    ver2: v.getUint8(4),
    requestId: v.getUint32(5),
    codec: v.getUint8(9),
    status: v.getUint16(10),
    classLen: v.getUint16(12),
    headerLen: v.getUint16(14),
    contentLen: v.getUint32(16),
  };
}

/** The bolt v1 response frame (header only) answering heartbeat `requestId` with `status`. */
export function encodeBoltHeartbeatAck(requestId: number, status = 0): Uint8Array {
  const out = new Uint8Array(BOLT_RESPONSE_HEADER_LEN);
  const v = new DataView(out.buffer);
  v.setUint8(0, BOLT_PROTOCOL_V1);
  v.setUint8(1, BOLT_TYPE_RESPONSE);
  v.setUint16(2, BOLT_CMD_HEARTBEAT);
  v.setUint8(4, VER2);
  v.setUint32(5, requestId >>> 0);
  v.setUint8(9, CODEC_HESSIAN2);
  v.setUint16(10, status);
  return out;
}

/** Judges a heartbeat answer: healthy, or why not. */
export function judgeBoltResponse(h: BoltResponseHeader, requestId: number): CheckResult {
  if (h.proto !== BOLT_PROTOCOL_V1) {
    return unhealthy(`bad response: bolt protocol ${h.proto}`, false);
  }
  if (h.type !== BOLT_TYPE_RESPONSE) return unhealthy(`bad response: bolt type ${h.type}`, false);
  if (h.cmdCode !== BOLT_CMD_HEARTBEAT && h.cmdCode !== BOLT_CMD_RESPONSE) {
    return unhealthy(`bad response: bolt cmdcode ${h.cmdCode}`, false);
  }
  if (h.requestId !== requestId >>> 0) {
    return unhealthy(`bad response: bolt request id ${h.requestId}, sent ${requestId}`, false);
  }
  if (h.status !== 0) {
    return unhealthy(`bolt status ${BOLT_STATUS[h.status] ?? h.status}`, false);
  }
  return HEALTHY;
}

let nextRequestId = 1;

export async function boltCheck(
  host: Host,
  cfg: HealthCheckConfig,
  signal: AbortSignal,
): Promise<CheckResult> {
  const requestId = nextRequestId;
  nextRequestId = (nextRequestId + 1) >>> 0 || 1;
  try {
    const frame = await withConnection(host.address, signal, async (conn) => {
      await writeAll(conn, encodeBoltHeartbeat(requestId, cfg.timeoutMs));
      // The fixed header decides; any class/header/content bytes are left unread.
      return await readUntil(
        conn,
        (b) => b.byteLength >= BOLT_RESPONSE_HEADER_LEN,
        BOLT_RESPONSE_HEADER_LEN,
      );
    }, host.cluster.config.tls);
    const h = decodeBoltResponseHeader(frame);
    if (!h) throw new BadResponseError("bad response: short bolt frame");
    return judgeBoltResponse(h, requestId);
  } catch (e) {
    return failureOf(e, signal);
  }
}
