/** A 5-host cluster with an outlier detector on a hand-driven clock (no sockets, no timers). */

import type {
  ClusterConfig,
  HostConfig,
  OutlierDetectionConfig,
} from "../../../src/config/model.ts";
import { parseAddress } from "../../../src/network/address.ts";
import { type Counter, type Gauge, StatsRegistry } from "../../../src/observability/stats.ts";
import { ClusterImpl } from "../../../src/upstream/cluster.ts";
import { HostImpl } from "../../../src/upstream/host.ts";
import { type IntervalTimers, OutlierDetector } from "../../../src/upstream/outlier/detector.ts";
import type { Host, UpstreamResult } from "../../../src/upstream/types.ts";

/** Envoy's defaults, as the config parser fills them in. */
export const DEFAULTS: OutlierDetectionConfig = {
  consecutive5xx: 5,
  consecutiveGatewayFailure: 5,
  intervalMs: 10_000,
  baseEjectionTimeMs: 30_000,
  maxEjectionTimeMs: 300_000,
  maxEjectionPercent: 10,
  enforcingConsecutive5xx: 100,
  enforcingConsecutiveGatewayFailure: 0,
  enforcingSuccessRate: 100,
  successRateMinimumHosts: 5,
  successRateRequestVolume: 100,
  successRateStdevFactor: 1900,
  enforcingFailurePercentage: 0,
  failurePercentageThreshold: 85,
  failurePercentageMinimumHosts: 5,
  failurePercentageRequestVolume: 50,
};

export function hostConfig(addressText: string): HostConfig {
  const address = parseAddress(addressText);
  if (typeof address === "string") throw new Error(address);
  return { address, addressText, hostname: "", weight: 1, metadata: {} };
}

export function clusterConfig(
  hosts: number,
  outlierDetection: OutlierDetectionConfig = DEFAULTS,
): ClusterConfig {
  return {
    name: "backend",
    type: "SIMPLE",
    lbType: "LB_ROUNDROBIN",
    hosts: Array.from({ length: hosts }, (_, i) => hostConfig(`10.0.0.${i + 1}:80`)),
    connectTimeoutMs: 3000,
    connBufferLimitBytes: 1 << 20,
    circuitBreakers: { maxConnections: 0, maxPendingRequests: 0, maxRequests: 0, maxRetries: 0 },
    outlierDetection,
    lbConfig: {
      choiceCount: 2,
      healthyPanicThreshold: 50,
      minimumRingSize: 1024,
      maximumRingSize: 8388608,
      maglevTableSize: 65537,
    },
    dnsRefreshRateMs: 5000,
    originalDst: { useHeader: false, headerName: "x-envoy-original-dst-host" },
  };
}

export interface HealthEvent {
  host: string;
  on: boolean;
  reason: string;
}

export interface Fixture {
  cluster: ClusterImpl;
  detector: OutlierDetector;
  hosts: readonly Host[];
  stats: StatsRegistry;
  /** Health-flag transitions, in order. */
  events: HealthEvent[];
  /** Moves the clock forward by `ms`, without sweeping. */
  advance(ms: number): void;
  /** Moves the clock forward by `ms`, then sweeps once (as the interval timer would). */
  sweepAfter(ms: number): void;
  /** Reports `n` results for `host` through the cluster. */
  report(host: Host, result: UpstreamResult, n?: number): void;
  counter(name: string): number;
  gauge(name: string): number;
}

export const OK: UpstreamResult = { kind: "status", status: 200 };
export const E500: UpstreamResult = { kind: "status", status: 500 };
export const E502: UpstreamResult = { kind: "status", status: 502 };
export const E503: UpstreamResult = { kind: "status", status: 503 };

export function fixture(
  overrides: Partial<OutlierDetectionConfig> = {},
  opts: { hosts?: number; random?: () => number; timers?: IntervalTimers | null } = {},
): Fixture {
  const stats = new StatsRegistry();
  const cfg = { ...DEFAULTS, ...overrides };
  const cluster = new ClusterImpl(clusterConfig(opts.hosts ?? 5, cfg), stats);
  let clock = 1_000;
  const detector = new OutlierDetector(cluster, cfg, {
    stats,
    now: () => clock,
    ...(opts.random ? { random: opts.random } : {}),
    timers: opts.timers === undefined ? null : opts.timers,
  });
  cluster.outlier = detector;
  cluster.attach(detector);
  const events: HealthEvent[] = [];
  for (const h of cluster.hosts) {
    (h as HostImpl).onHealthChange((host, _flag, on, reason) => {
      events.push({ host: host.addressText, on, reason });
    });
  }
  const scope = stats.scope("upstream", { cluster: "backend" });
  return {
    cluster,
    detector,
    hosts: cluster.hosts,
    stats,
    events,
    advance(ms) {
      clock += ms;
    },
    sweepAfter(ms) {
      clock += ms;
      detector.tick();
    },
    report(host, result, n = 1) {
      for (let i = 0; i < n; i++) cluster.reportResult(host, result);
    },
    counter(name) {
      return (scope.metrics.get(name) as Counter | undefined)?.value ?? 0;
    },
    gauge(name) {
      return (scope.metrics.get(name) as Gauge | undefined)?.value ?? 0;
    },
  };
}

/** `successes` successes and `failures` 500s, interleaved so no 5xx streak forms. */
export function mixed(f: Fixture, host: Host, successes: number, failures: number): void {
  let s = successes;
  let e = failures;
  while (s > 0 || e > 0) {
    if (e > 0 && (s === 0 || e * successes >= s * failures)) {
      f.report(host, E500);
      e--;
    } else {
      f.report(host, OK);
      s--;
    }
  }
}
