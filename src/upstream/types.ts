/** Contracts of the upstream layer that filters and the proxy code against. */

import type { Address, ClusterConfig, HostConfig } from "../config/model.ts";
import type { Connection } from "../network/connection.ts";
import type { UpstreamStats } from "../observability/stats.ts";
import type { ConnectionPool } from "./pool/types.ts";
import type { ResourceManager } from "./resource_manager.ts";

/** One upstream endpoint of a cluster. */
export interface Host {
  readonly cluster: Cluster;
  readonly config: HostConfig;
  readonly address: Address;
  /** "ip:port" as configured; the `host` stats label. */
  readonly addressText: string;
  readonly weight: number;
  readonly metadata: Readonly<Record<string, string>>;
  readonly stats: UpstreamStats;
  /** Requests (or, for L4, connections) in flight; least-request balancing reads it. */
  activeRequests: number;
  /** HealthFlag bits; 0 = healthy. */
  healthFlags: number;
  /** True when no health flag is set. */
  readonly healthy: boolean;
  /** Sets or clears one HealthFlag; `reason` goes to the health event log. */
  setHealthFlag(flag: number, on: boolean, reason?: string): void;
}

/** Why a host is unhealthy (Envoy's health_flags). */
export const HealthFlag = {
  /** An active health check failed unhealthy_threshold times in a row. */
  FailedActiveHealthCheck: 1,
  /** Ejected by outlier detection. */
  FailedOutlierCheck: 2,
} as const;

/** Tells the balancer about the request. All optional; balancers read what they need. */
export interface LbContext {
  /** Hosts to avoid (already tried by this request). */
  readonly exclude?: ReadonlySet<Host>;
  /** Consistent-hash key (maglev, ring hash), from the route's hash_policy. */
  readonly hashKey?: string;
  /** Subset load balancing: required host metadata (route metadata_match). */
  readonly metadataMatch?: Readonly<Record<string, string>>;
  /** ORIGINAL_DST clusters: where the downstream connection was originally headed. */
  readonly originalDestination?: Address;
}

/** What the proxy tells a cluster about each upstream attempt (outlier detection input). */
export type UpstreamResult =
  | { readonly kind: "status"; readonly status: number }
  | { readonly kind: "connect_failure" }
  | { readonly kind: "timeout" }
  | { readonly kind: "reset" };

export interface LoadBalancer {
  /** A host, or undefined when none is usable. */
  chooseHost(ctx?: LbContext): Host | undefined;
}

export interface Cluster {
  readonly name: string;
  readonly config: ClusterConfig;
  /** The current hosts (a DNS re-resolution may replace the list). */
  readonly hosts: readonly Host[];
  /** The current balancer over `hosts`. */
  readonly lb: LoadBalancer;
  /** Reports the outcome of one upstream attempt (feeds outlier detection; no-op without it). */
  reportResult(host: Host, result: UpstreamResult): void;
  readonly stats: UpstreamStats;
  /** Circuit-breaker counters (circuit_breakers[0]). */
  readonly resources: ResourceManager;
  /** The connection pool of one of this cluster's hosts for a protocol ("Http1", "bolt", …). */
  pool(host: Host, protocol: string): ConnectionPool;
  /**
   * Opens a connection to `host` with the cluster's connect timeout, counting cluster and host
   * connection stats. Rejects with ConnectError. The connection is not started yet.
   * `protocol` (HTTP pools) is what will be spoken over it: with TLS, offered by ALPN when the
   * tls_context sets no `alpn`, and required of the server's choice (h2 must be chosen).
   */
  connect(host: Host, protocol?: "Http1" | "Http2"): Promise<Connection>;
}

export interface ClusterManager {
  get(name: string): Cluster | undefined;
  clusters(): readonly Cluster[];
  /** Closes pooled/open upstream connections (used on stop). */
  close(): void;
}
