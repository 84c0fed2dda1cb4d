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
  healthy: boolean;
}

/** Tells the balancer about the request: hosts to avoid (already failed), a hash key later. */
export interface LbContext {
  readonly exclude?: ReadonlySet<Host>;
}

export interface LoadBalancer {
  /** A host, or undefined when none is usable. */
  chooseHost(ctx?: LbContext): Host | undefined;
}

export interface Cluster {
  readonly name: string;
  readonly config: ClusterConfig;
  readonly hosts: readonly Host[];
  readonly lb: LoadBalancer;
  readonly stats: UpstreamStats;
  /** Circuit-breaker counters (circuit_breakers[0]). */
  readonly resources: ResourceManager;
  /** The HTTP/1 connection pool of one of this cluster's hosts. */
  httpPool(host: Host): ConnectionPool;
  /**
   * Opens a connection to `host` with the cluster's connect timeout, counting cluster and host
   * connection stats. Rejects with ConnectError. The connection is not started yet.
   */
  connect(host: Host): Promise<Connection>;
}

export interface ClusterManager {
  get(name: string): Cluster | undefined;
  clusters(): readonly Cluster[];
  /** Closes pooled/open upstream connections (used on stop). */
  close(): void;
}
