/**
 * The fault filter's request hook: for matching requests, maybe wait (`DI`), then maybe answer
 * locally with the abort status (`FI`). Keeps no per-request state, so one instance serves all.
 */

import { ResponseFlag } from "../../../stream/stream_info.ts";
import {
  type StreamFilterCallbacks,
  type StreamFilterPhase,
  StreamFilterStatus,
  type StreamReceiverFilter,
} from "../types.ts";
import type { FaultConfig } from "./config.ts";

export class FaultFilter implements StreamReceiverFilter {
  /** After routing, like MOSN, so `upstream_cluster` can be checked. */
  readonly phase: StreamFilterPhase = "AfterRoute";
  readonly #cfg: FaultConfig;
  readonly #random: () => number;

  constructor(cfg: FaultConfig, random: () => number) {
    this.#cfg = cfg;
    this.#random = random;
  }

  onRequestHeaders(cb: StreamFilterCallbacks): StreamFilterStatus | Promise<StreamFilterStatus> {
    const cfg = this.#cfg;
    if (cfg.upstreamCluster && cb.info.upstreamCluster !== cfg.upstreamCluster) {
      return StreamFilterStatus.Continue;
    }
    if (!this.#headersMatch(cb)) return StreamFilterStatus.Continue;
    if (cfg.delayMs > 0 && this.#roll(cfg.delayChance)) {
      cb.info.setFlag(ResponseFlag.DelayInjected);
      return new Promise((resolve) => {
        setTimeout(() => resolve(this.#maybeAbort(cb)), cfg.delayMs);
      });
    }
    return this.#maybeAbort(cb);
  }

  #maybeAbort(cb: StreamFilterCallbacks): StreamFilterStatus {
    if (this.#cfg.abortStatus === 0 || !this.#roll(this.#cfg.abortChance)) {
      return StreamFilterStatus.Continue;
    }
    cb.info.setFlag(ResponseFlag.FaultInjected);
    cb.sendLocalReply(this.#cfg.abortStatus, "fault filter abort");
    return StreamFilterStatus.Stop;
  }

  /** True with probability `chance`; draws no number for 0 or 1. */
  #roll(chance: number): boolean {
    if (chance <= 0) return false;
    if (chance >= 1) return true;
    return this.#random() < chance;
  }

  #headersMatch(cb: StreamFilterCallbacks): boolean {
    for (const h of this.#cfg.headers) {
      const lname = h.name.toLowerCase();
      const v = lname === "method" || lname === ":method"
        ? cb.info.method || cb.requestHeaders.get(":method")
        : cb.requestHeaders.get(h.name);
      if (v === undefined) return false;
      if (h.regex ? !h.regex.test(v) : v !== h.value) return false;
    }
    return true;
  }
}
