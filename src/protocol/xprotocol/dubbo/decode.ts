/** Dubbo frame detection and decoding (layout in `types.ts`); reads hessian2 request bodies. */

import { HeaderMap } from "../../header_map.ts";
import {
  type DecodeResult,
  type MatchResult,
  type XFrame,
  type XFrameKind,
  XProtocolError,
} from "../types.ts";
import { Hessian2Reader, HessianError } from "./hessian2.ts";
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

/** Whether `head` starts with the dubbo magic. */
export function matchDubbo(head: Uint8Array): MatchResult {
  if (head.length >= 1 && head[0] !== DUBBO_MAGIC_HI) return "fail";
  if (head.length >= 2 && head[1] !== DUBBO_MAGIC_LO) return "fail";
  return head.length >= 2 ? "match" : "again";
}

/** Reads the u64 request id at `at`; throws BAD_FIELD above 2^53 - 1. */
export function readRequestId(buf: Uint8Array, at: number): number {
  const dv = new DataView(buf.buffer, buf.byteOffset + at, 8);
  const hi = dv.getUint32(0);
  const lo = dv.getUint32(4);
  if (hi > 0x1fffff) {
    const big = (BigInt(hi) << 32n) | BigInt(lo);
    throw new XProtocolError(NAME, "BAD_FIELD", `request id ${big} is above 2^53 - 1`);
  }
  return hi * 0x1_0000_0000 + lo;
}

/**
 * Decodes the first frame in `buf`. `raw` and `body` are views into `buf`. Throws
 * `XProtocolError`: BAD_MAGIC, FRAME_TOO_LARGE (length above `maxFrameBytes`), BAD_FIELD (id too
 * large, unreadable request body), TRUNCATED (a request body that ends inside a hessian value).
 */
export function decodeDubbo(buf: Uint8Array, maxFrameBytes: number): DecodeResult<DubboMeta> {
  const m = matchDubbo(buf);
  if (m === "fail") {
    throw new XProtocolError(
      NAME,
      "BAD_MAGIC",
      `bad magic 0x${hex(buf[0]!)}${buf.length > 1 ? hex(buf[1]!) : ""}, expected 0xdabb`,
    );
  }
  if (buf.length < DUBBO_HEADER_BYTES) return "again";
  const dv = new DataView(buf.buffer, buf.byteOffset, DUBBO_HEADER_BYTES);
  const length = dv.getUint32(DubboOffset.LENGTH);
  const total = DUBBO_HEADER_BYTES + length;
  if (total > maxFrameBytes) {
    throw new XProtocolError(
      NAME,
      "FRAME_TOO_LARGE",
      `frame of ${total} bytes is above the limit of ${maxFrameBytes}`,
    );
  }
  const requestId = readRequestId(buf, DubboOffset.ID);
  if (buf.length < total) return "again";

  const flag = buf[DubboOffset.FLAG]!;
  const status = buf[DubboOffset.STATUS]!;
  const raw = buf.subarray(0, total);
  const body = raw.subarray(DUBBO_HEADER_BYTES);
  const isRequest = (flag & DubboFlag.REQUEST) !== 0;
  const twoWay = (flag & DubboFlag.TWO_WAY) !== 0;
  const event = (flag & DubboFlag.EVENT) !== 0;
  const meta: DubboMeta = {
    flag,
    serialization: flag & DubboFlag.SERIALIZATION_MASK,
    event,
    attachmentsAt: -1,
    attachments: [],
    synthetic: [],
    responseType: -1,
  };
  let kind: XFrameKind;
  if (isRequest) kind = !twoWay ? "oneway" : event ? "heartbeat" : "request";
  else kind = event ? "heartbeat_ack" : "response";

  const frame: XFrame<DubboMeta> = {
    kind,
    requestId,
    headers: new HeaderMap(),
    body,
    raw,
    timeoutMs: 0,
    status: isRequest ? 0 : status,
    meta,
  };
  if (!event && meta.serialization === DubboSerialization.HESSIAN2) {
    if (isRequest) readRequestBody(frame);
    else readResponseBody(frame);
  }
  return { frame, consumed: total };
}

/** Number of parameters in a JVM parameter descriptor, e.g. "Ljava/lang/String;[II" → 3. */
export function countParameters(desc: string): number {
  let n = 0;
  let i = 0;
  while (i < desc.length) {
    while (desc[i] === "[") i++;
    const c = desc[i];
    if (c === "L") {
      const end = desc.indexOf(";", i);
      if (end < 0) throw new Error(`unterminated class in parameter descriptor "${desc}"`);
      i = end + 1;
    } else if (c !== undefined && "BCDFIJSZV".includes(c)) i++;
    else throw new Error(`bad parameter descriptor "${desc}" at ${i}`);
    n++;
  }
  return n;
}

function readRequestBody(frame: XFrame<DubboMeta>): void {
  const { body, headers, meta } = frame;
  const r = new Hessian2Reader(body);
  try {
    const dubboVersion = r.readString() ?? "";
    const path = r.readString() ?? "";
    const version = r.readString() ?? "";
    const method = r.readString() ?? "";
    const desc = r.readString() ?? "";
    const args = countParameters(desc);
    for (let i = 0; i < args; i++) r.skip();
    if (r.remaining > 0) {
      meta.attachmentsAt = r.pos;
      meta.attachments = r.readStringMap();
    } else meta.attachmentsAt = body.length; // no map: an appended one is still valid
    for (const [k, v] of meta.attachments) headers.add(k, v);
    // service and method always come from the body (an attachment "service" such as
    // "<interface>:<version>" is replaced); version, dubbo and interface only fill a gap.
    const put = (name: string, value: string, override: boolean) => {
      if (headers.has(name)) {
        if (!override) return;
        headers.set(name, value);
      } else headers.add(name, value);
      meta.synthetic.push(name);
    };
    put(DubboHeader.SERVICE, path, true);
    put(DubboHeader.METHOD, method, true);
    put(DubboHeader.VERSION, version, false);
    put(DubboHeader.DUBBO, dubboVersion, false);
    put(DubboHeader.INTERFACE, path, false);
    const timeout = Number(headers.get("timeout"));
    if (Number.isInteger(timeout) && timeout > 0) frame.timeoutMs = timeout;
  } catch (e) {
    const code = e instanceof HessianError && e.code === "HESSIAN_TRUNCATED"
      ? "TRUNCATED"
      : "BAD_FIELD";
    throw new XProtocolError(
      NAME,
      code,
      `request ${frame.requestId}: unreadable body: ${(e as Error).message}`,
    );
  }
}

/** Reads what is cheap to read of a response; never throws (the bytes are forwarded as they are). */
function readResponseBody(frame: XFrame<DubboMeta>): void {
  const { body, headers, meta } = frame;
  if (body.length === 0) return;
  const r = new Hessian2Reader(body);
  try {
    if (frame.status !== DubboStatus.OK) {
      const msg = r.readScalar();
      if (typeof msg === "string") meta.errorMessage = msg;
      return;
    }
    const t = r.readInt();
    meta.responseType = t;
    if (
      t === DubboResponseType.EXCEPTION_WITH_ATTACHMENTS ||
      t === DubboResponseType.VALUE_WITH_ATTACHMENTS ||
      t === DubboResponseType.NULL_VALUE_WITH_ATTACHMENTS
    ) {
      if (t !== DubboResponseType.NULL_VALUE_WITH_ATTACHMENTS) r.skip();
      meta.attachmentsAt = r.pos;
      meta.attachments = r.readStringMap();
      for (const [k, v] of meta.attachments) headers.add(k, v);
    }
  } catch (e) {
    meta.bodyError = (e as Error).message;
  }
}

function hex(b: number): string {
  return b.toString(16).padStart(2, "0");
}
