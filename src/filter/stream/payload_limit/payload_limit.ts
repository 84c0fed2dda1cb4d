/**
 * Answers requests whose body is larger than the limit: at the headers when Content-Length says
 * so, otherwise as soon as the streamed body passes it (`RTL` flag either way).
 */

import { ResponseFlag } from "../../../stream/stream_info.ts";
import {
  type StreamFilterCallbacks,
  type StreamFilterPhase,
  StreamFilterStatus,
  type StreamReceiverFilter,
} from "../types.ts";
import type { PayloadLimitConfig } from "./config.ts";

/** Per request: counts the body bytes seen. */
export class PayloadLimitFilter implements StreamReceiverFilter {
  /** After routing, like MOSN. */
  readonly phase: StreamFilterPhase = "AfterRoute";
  readonly #cfg: PayloadLimitConfig;
  #received = 0;
  #rejected = false;

  constructor(cfg: PayloadLimitConfig) {
    this.#cfg = cfg;
  }

  onRequestHeaders(cb: StreamFilterCallbacks): StreamFilterStatus {
    const cl = cb.requestHeaders.get("content-length");
    if (cl !== undefined) {
      const n = Number(cl.trim());
      if (Number.isFinite(n) && n > this.#cfg.maxEntitySize) return this.#reject(cb);
    }
    return StreamFilterStatus.Continue;
  }

  onRequestData(cb: StreamFilterCallbacks, chunk: Uint8Array): StreamFilterStatus {
    if (this.#rejected) return StreamFilterStatus.Stop;
    this.#received += chunk.byteLength;
    if (this.#received > this.#cfg.maxEntitySize) return this.#reject(cb);
    return StreamFilterStatus.Continue;
  }

  #reject(cb: StreamFilterCallbacks): StreamFilterStatus {
    this.#rejected = true;
    cb.info.setFlag(ResponseFlag.RequestEntityTooLarge);
    cb.sendLocalReply(this.#cfg.httpStatus, "payload too large");
    return StreamFilterStatus.Stop;
  }
}
