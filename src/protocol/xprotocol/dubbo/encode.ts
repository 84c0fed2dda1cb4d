/**
 * Dubbo frame encoding (layout in `types.ts`): whole frames from fields, in-place id re-stamping,
 * heartbeat replies and proxy-made error responses.
 */

import { HeaderMap } from "../../header_map.ts";
import { type XFrame, XProtocolError } from "../types.ts";
import { Hessian2Writer } from "./hessian2.ts";
import {
  DUBBO_HEADER_BYTES,
  DUBBO_MAGIC_HI,
  DUBBO_MAGIC_LO,
  DubboFlag,
  DubboHeader,
  type DubboMeta,
  DubboOffset,
  DubboResponseType,
  DubboSerialization,
  DubboStatus,
} from "./types.ts";

const NAME = "dubbo";

/** Writes `id` as a u64 at `raw[at..at+8]`. */
export function writeRequestId(raw: Uint8Array, at: number, id: number): void {
  if (!Number.isSafeInteger(id) || id < 0) {
    throw new XProtocolError(NAME, "ENCODE_FAILED", `request id ${id} is not a u64 below 2^53`);
  }
  const dv = new DataView(raw.buffer, raw.byteOffset + at, 8);
  dv.setUint32(0, Math.floor(id / 0x1_0000_0000));
  dv.setUint32(4, id >>> 0);
}

/** Attachment pairs whose name is not one of `synthetic` (names the codec set from the body). */
function ownPairs(pairs: [string, string][], synthetic: string[]): [string, string][] {
  return pairs.filter(([k]) => !synthetic.includes(k.toLowerCase()));
}

function samePairs(a: [string, string][], b: [string, string][]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i]![0] !== b[i]![0] || a[i]![1] !== b[i]![1]) return false;
  }
  return true;
}

/**
 * The body to send: `frame.body` unchanged, unless the attachment headers (all headers but those
 * the codec set from body fields) differ from the decoded attachments and the body has a known
 * attachments position. Then the map is re-encoded as an untyped map of strings: the changed
 * headers, then the original attachments hidden behind codec-set names (e.g. "service").
 * Attachments that were not strings are lost in that case; changes to codec-set headers
 * (service, method, …) are not written back into the body.
 */
function bodyOf(frame: XFrame<DubboMeta>): Uint8Array {
  const { meta, body } = frame;
  if (meta.attachmentsAt < 0) return body;
  const now: [string, string][] = [];
  frame.headers.forEach((v, k) => now.push([k, v]));
  const mine = ownPairs(now, meta.synthetic);
  if (samePairs(mine, ownPairs(meta.attachments, meta.synthetic))) return body;
  const hidden = meta.attachments.filter(([k]) => meta.synthetic.includes(k.toLowerCase()));
  return new Hessian2Writer()
    .writeRaw(body.subarray(0, meta.attachmentsAt))
    .writeStringMap([...mine, ...hidden])
    .toBytes();
}

/** Serializes `frame` from its fields: header from `meta.flag`, `status`, `requestId`. */
export function encodeDubbo(frame: XFrame<DubboMeta>): Uint8Array {
  const body = bodyOf(frame);
  const out = new Uint8Array(DUBBO_HEADER_BYTES + body.length);
  out[0] = DUBBO_MAGIC_HI;
  out[1] = DUBBO_MAGIC_LO;
  out[DubboOffset.FLAG] = frame.meta.flag;
  const isRequest = (frame.meta.flag & DubboFlag.REQUEST) !== 0;
  const status = isRequest ? 0 : frame.status;
  if (!Number.isInteger(status) || status < 0 || status > 0xff) {
    throw new XProtocolError(NAME, "ENCODE_FAILED", `status ${status} does not fit a byte`);
  }
  out[DubboOffset.STATUS] = status;
  writeRequestId(out, DubboOffset.ID, frame.requestId);
  new DataView(out.buffer).setUint32(DubboOffset.LENGTH, body.length);
  out.set(body, DUBBO_HEADER_BYTES);
  return out;
}

/** Sets the id and patches the 8 id bytes of `frame.raw` in place. */
export function setDubboRequestId(frame: XFrame<DubboMeta>, id: number): void {
  if (frame.raw.length >= DUBBO_HEADER_BYTES) writeRequestId(frame.raw, DubboOffset.ID, id);
  else writeRequestId(new Uint8Array(8), 0, id); // validates
  frame.requestId = id;
}

function serializationOf(frame: XFrame<DubboMeta>): number {
  return frame.meta.serialization || DubboSerialization.HESSIAN2;
}

/** A response frame with `raw` filled in. */
function response(
  request: XFrame<DubboMeta>,
  kind: "response" | "heartbeat_ack",
  flag: number,
  status: number,
  body: Uint8Array,
  extra: Partial<DubboMeta> = {},
): XFrame<DubboMeta> {
  const frame: XFrame<DubboMeta> = {
    kind,
    requestId: request.requestId,
    headers: new HeaderMap(),
    body,
    raw: new Uint8Array(0),
    timeoutMs: 0,
    status,
    meta: {
      flag,
      serialization: flag & DubboFlag.SERIALIZATION_MASK,
      event: (flag & DubboFlag.EVENT) !== 0,
      attachmentsAt: -1,
      attachments: [],
      synthetic: [],
      responseType: -1,
      ...extra,
    },
  };
  frame.raw = encodeDubbo(frame);
  frame.body = frame.raw.subarray(DUBBO_HEADER_BYTES);
  return frame;
}

/** The heartbeat answer: flag event | serialization, status 20, same id, body hessian null. */
export function dubboHeartbeatReply(frame: XFrame<DubboMeta>): XFrame<DubboMeta> {
  return response(
    frame,
    "heartbeat_ack",
    DubboFlag.EVENT | serializationOf(frame),
    DubboStatus.OK,
    new Hessian2Writer().writeNull().toBytes(),
  );
}

/**
 * HTTP-like status → dubbo status, for responses the proxy makes itself:
 * ```
 *  2xx → 20 OK (body: null value)      500 → 80 server error
 *  404 → 60 service not found          502 → 70 service error (no healthy / failed upstream)
 *  408 → 30 client timeout             503 → 100 threadpool exhausted (overflow)
 *  429 → 100 threadpool exhausted      504 → 31 server timeout
 *  other 4xx → 40 bad request          other → 80 server error
 * ```
 */
export function httpToDubboStatus(httpStatus: number): number {
  if (httpStatus >= 200 && httpStatus < 300) return DubboStatus.OK;
  switch (httpStatus) {
    case 404:
      return DubboStatus.SERVICE_NOT_FOUND;
    case 408:
      return DubboStatus.CLIENT_TIMEOUT;
    case 429:
    case 503:
      return DubboStatus.SERVER_THREADPOOL_EXHAUSTED;
    case 502:
      return DubboStatus.SERVICE_ERROR;
    case 504:
      return DubboStatus.SERVER_TIMEOUT;
  }
  if (httpStatus >= 400 && httpStatus < 500) return DubboStatus.BAD_REQUEST;
  return DubboStatus.SERVER_ERROR;
}

/**
 * Dubbo status → HTTP-like status for stats and access logs:
 * ```
 *  20 → 200    30, 31 → 504    40 → 400    50 → 502    60 → 404
 *  70 → 502    80 → 500        90 → 400    100 → 503   other → 500
 * ```
 */
export function dubboStatusToHttp(status: number): number {
  switch (status) {
    case DubboStatus.OK:
      return 200;
    case DubboStatus.CLIENT_TIMEOUT:
    case DubboStatus.SERVER_TIMEOUT:
      return 504;
    case DubboStatus.BAD_REQUEST:
    case DubboStatus.CLIENT_ERROR:
      return 400;
    case DubboStatus.BAD_RESPONSE:
    case DubboStatus.SERVICE_ERROR:
      return 502;
    case DubboStatus.SERVICE_NOT_FOUND:
      return 404;
    case DubboStatus.SERVER_THREADPOOL_EXHAUSTED:
      return 503;
    default:
      return 500;
  }
}

const REASONS: Record<number, string> = {
  400: "bad request",
  404: "no route",
  408: "request timeout",
  429: "too many requests",
  500: "internal error",
  502: "no healthy upstream or upstream failed",
  503: "upstream overflow",
  504: "upstream timeout",
};

/**
 * An error response to `request` (two-way requests; the caller drops it for oneway ones):
 * hessian2, status from `httpToDubboStatus`, body the message string
 * `"mosn: <reason> (<httpStatus>) service=<service> method=<method>"`.
 */
export function dubboHijack(request: XFrame<DubboMeta>, httpStatus: number): XFrame<DubboMeta> {
  const status = httpToDubboStatus(httpStatus);
  const flag = DubboSerialization.HESSIAN2;
  if (status === DubboStatus.OK) {
    const body = new Hessian2Writer().writeInt(DubboResponseType.NULL_VALUE).toBytes();
    return response(request, "response", flag, status, body, {
      responseType: DubboResponseType.NULL_VALUE,
    });
  }
  const h = request.headers;
  const reason = REASONS[httpStatus] ?? "proxy error";
  const message = `mosn: ${reason} (${httpStatus}) service=${
    h.get(DubboHeader.SERVICE) ?? ""
  } method=${h.get(DubboHeader.METHOD) ?? ""}`;
  const body = new Hessian2Writer().writeString(message).toBytes();
  return response(request, "response", flag, status, body, { errorMessage: message });
}
