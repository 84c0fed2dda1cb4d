/** The dubbo `XProtocol`: detection, decoding, encoding, heartbeats and proxy-made errors. */

import {
  DEFAULT_MAX_FRAME_BYTES,
  type XProtocol,
  XProtocolError,
  type XProtocolOptions,
} from "../types.ts";
import { decodeDubbo, matchDubbo } from "./decode.ts";
import {
  dubboHeartbeatReply,
  dubboHijack,
  dubboStatusToHttp,
  encodeDubbo,
  setDubboRequestId,
} from "./encode.ts";
import type { DubboMeta } from "./types.ts";

/**
 * A dubbo codec. `maxFrameBytes` (header included, default 16 MiB) bounds what `decode` accepts.
 *
 * @example
 * ```ts
 * const codec = createDubbo({ maxFrameBytes: 1 << 20 });
 * const r = codec.decode(bytes);
 * if (r !== "again") console.log(r.frame.headers.get("service"), r.consumed);
 * ```
 */
export function createDubbo(options: XProtocolOptions = {}): XProtocol<DubboMeta> {
  const maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  if (!Number.isInteger(maxFrameBytes) || maxFrameBytes < 16) {
    throw new XProtocolError("dubbo", "BAD_FIELD", `maxFrameBytes ${maxFrameBytes} is below 16`);
  }
  return {
    name: "dubbo",
    poolMode: "multiplex",
    match: matchDubbo,
    decode: (buf) => decodeDubbo(buf, maxFrameBytes),
    encode: encodeDubbo,
    setRequestId: setDubboRequestId,
    heartbeatReply: dubboHeartbeatReply,
    heartbeat(requestId) {
      // magic | flag request+two-way+event+hessian2 | status 0 | id u64 | length 1 | 'N' (null)
      const bytes = new Uint8Array(17);
      const v = new DataView(bytes.buffer);
      v.setUint16(0, 0xdabb);
      bytes[2] = 0xe2;
      v.setBigUint64(4, BigInt(requestId));
      v.setUint32(12, 1);
      bytes[16] = 0x4e;
      const r = decodeDubbo(bytes, maxFrameBytes);
      if (r === "again") throw new XProtocolError("dubbo", "ENCODE_FAILED", "heartbeat frame");
      return r.frame;
    },
    hijack: dubboHijack,
    statusToHttp: dubboStatusToHttp,
  };
}

/** The dubbo codec with default options. */
export const dubbo: XProtocol<DubboMeta> = createDubbo();
