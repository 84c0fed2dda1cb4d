/** Builders shared by the upstream tests: cluster configs, clusters and a seeded generator. */

import type { ClusterConfig, HostConfig, LbConfig, LbType } from "../../src/config/model.ts";
import { parseAddress } from "../../src/network/address.ts";
import { StatsRegistry } from "../../src/observability/stats.ts";
import { ClusterImpl } from "../../src/upstream/cluster.ts";

export function hostConfig(
  addressText: string,
  weight = 1,
  metadata: Readonly<Record<string, string>> = {},
): HostConfig {
  const address = parseAddress(addressText);
  if (typeof address === "string") throw new Error(address);
  return { address, addressText, hostname: "", weight, metadata };
}

/** The parser's `lb_config` defaults. */
export const DEFAULT_LB_CONFIG: LbConfig = {
  choiceCount: 2,
  healthyPanicThreshold: 50,
  minimumRingSize: 1024,
  maximumRingSize: 8_388_608,
  maglevTableSize: 65537,
};

/** Extra cluster settings; `lbConfig` is merged over the defaults. */
export type ClusterOverrides = Partial<Omit<ClusterConfig, "lbConfig">> & {
  lbConfig?: Partial<LbConfig>;
};

export function clusterConfig(
  name: string,
  hosts: readonly HostConfig[],
  lbType: LbType = "LB_ROUNDROBIN",
  overrides: ClusterOverrides = {},
): ClusterConfig {
  const { lbConfig, ...rest } = overrides;
  return {
    name,
    type: "SIMPLE",
    lbType,
    hosts,
    connectTimeoutMs: 3000,
    connBufferLimitBytes: 1 << 20,
    circuitBreakers: { maxConnections: 0, maxPendingRequests: 0, maxRequests: 0, maxRetries: 0 },
    lbConfig: { ...DEFAULT_LB_CONFIG, ...lbConfig },
    dnsRefreshRateMs: 5000,
    originalDst: { useHeader: false, headerName: "x-envoy-original-dst-host" },
    ...rest,
  };
}

/** A cluster of `weights.length` hosts 10.0.0.1:80, 10.0.0.2:80, … with those weights. */
export function clusterOf(
  lbType: LbType,
  weights: readonly number[],
  random?: () => number,
  overrides: ClusterOverrides = {},
): ClusterImpl {
  const hosts = weights.map((w, i) => hostConfig(`10.0.0.${i + 1}:80`, w));
  return new ClusterImpl(clusterConfig("test", hosts, lbType, overrides), new StatsRegistry(), {
    ...(random ? { random } : {}),
  });
}

/** mulberry32: a tiny seeded PRNG so "random" balancers are reproducible. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** How often each host address was picked in `n` picks. */
export function tally(pick: () => { addressText: string } | undefined, n: number) {
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const h = pick();
    const k = h?.addressText ?? "undefined";
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return counts;
}

/** Asserts `actual` is within ±`tolerance` (a fraction) of `expected`. */
export function near(actual: number | undefined, expected: number, tolerance = 0.1): boolean {
  return actual !== undefined && Math.abs(actual - expected) <= expected * tolerance;
}
