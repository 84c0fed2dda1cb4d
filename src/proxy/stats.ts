/** Request-level stats of the L7 proxy, in MOSN's names. */

import type { Host } from "../upstream/types.ts";
import {
  type Counter,
  type Gauge,
  type Histogram,
  type Scope,
  type StatsRegistry,
} from "../observability/stats.ts";

export interface DownstreamRequestStats {
  readonly scope: Scope;
  requestTotal: Counter;
  requestActive: Gauge;
  requestFailed: Counter;
  requestTime: Histogram;
  /** request_<code>_total by status, created on first use. */
  byCode(code: number): Counter;
}

export function downstreamRequestStats(
  reg: StatsRegistry,
  listener: string,
): DownstreamRequestStats {
  const s = reg.scope("downstream", { listener, proxy: "global" });
  const codes = new Map<number, Counter>();
  return {
    scope: s,
    requestTotal: s.counter("request_total"),
    requestActive: s.gauge("request_active"),
    requestFailed: s.counter("request_failed"),
    requestTime: s.histogram("request_time"),
    byCode(code) {
      let c = codes.get(code);
      if (!c) codes.set(code, c = s.counter(`request_${code}_total`));
      return c;
    },
  };
}

export interface UpstreamRequestStats {
  requestTotal: Counter;
  requestActive: Gauge;
  requestTimeout: Counter;
  requestRetry: Counter;
  requestPendingOverflow: Counter;
  responseSuccess: Counter;
  responseFailed: Counter;
  requestDurationTime: Histogram;
}

export function upstreamRequestStats(
  reg: StatsRegistry,
  labels: Record<string, string>,
): UpstreamRequestStats {
  const s = reg.scope("upstream", labels);
  return {
    requestTotal: s.counter("request_total"),
    requestActive: s.gauge("request_active"),
    requestTimeout: s.counter("request_timeout"),
    requestRetry: s.counter("request_retry"),
    requestPendingOverflow: s.counter("request_pending_overflow"),
    responseSuccess: s.counter("response_success"),
    responseFailed: s.counter("response_failed"),
    requestDurationTime: s.histogram("request_duration_time"),
  };
}

/** Caches per-cluster and per-host request stats so the hot path does no scope lookups. */
export class UpstreamStatsCache {
  readonly #reg: StatsRegistry;
  readonly #map = new Map<string, UpstreamRequestStats>();
  readonly #hosts = new WeakMap<Host, UpstreamRequestStats>();
  constructor(reg: StatsRegistry) {
    this.#reg = reg;
  }
  cluster(name: string): UpstreamRequestStats {
    let s = this.#map.get(name);
    if (!s) this.#map.set(name, s = upstreamRequestStats(this.#reg, { cluster: name }));
    return s;
  }
  /** Keyed by the Host object: no string building per request. */
  host(host: Host): UpstreamRequestStats {
    let s = this.#hosts.get(host);
    if (!s) {
      s = upstreamRequestStats(this.#reg, { cluster: host.cluster.name, host: host.addressText });
      this.#hosts.set(host, s);
    }
    return s;
  }
}
