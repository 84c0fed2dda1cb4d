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

/**
 * Protocol-level stats per listener, protocol, route and cluster (type `proxy`): requests,
 * responses by status class, duration, retries, timeouts and resets. The OTLP, JSON and
 * Prometheus views all read these from the registry.
 */
export interface RouteRequestStats {
  requestTotal: Counter;
  requestTime: Histogram;
  requestRetry: Counter;
  requestTimeout: Counter;
  requestReset: Counter;
  /** response_1xx_total … response_5xx_total; index = status / 100 (0 = no response). */
  byClass: Counter[];
}

export class RouteStatsCache {
  readonly #reg: StatsRegistry;
  readonly #listener: string;
  readonly #map = new Map<string, RouteRequestStats>();
  constructor(reg: StatsRegistry, listener: string) {
    this.#reg = reg;
    this.#listener = listener;
  }
  #lastProtocol = "";
  #lastRoute = "";
  #lastCluster = "";
  #last: RouteRequestStats | undefined;

  get(protocol: string, route: string, cluster: string): RouteRequestStats {
    // Most listeners serve one hot route: a one-entry cache spares the key string per request.
    if (
      this.#last && protocol === this.#lastProtocol && route === this.#lastRoute &&
      cluster === this.#lastCluster
    ) return this.#last;
    const key = protocol + "\u0000" + route + "\u0000" + cluster;
    let s = this.#map.get(key);
    if (!s) {
      const sc = this.#reg.scope("proxy", { listener: this.#listener, protocol, route, cluster });
      s = {
        requestTotal: sc.counter("request_total"),
        requestTime: sc.histogram("request_time"),
        requestRetry: sc.counter("request_retry"),
        requestTimeout: sc.counter("request_timeout"),
        requestReset: sc.counter("request_reset"),
        byClass: ["none", "1xx", "2xx", "3xx", "4xx", "5xx"].map((c) =>
          sc.counter(`response_${c}_total`)
        ),
      };
      this.#map.set(key, s);
    }
    this.#lastProtocol = protocol;
    this.#lastRoute = route;
    this.#lastCluster = cluster;
    this.#last = s;
    return s;
  }
}
