/** A configured upstream endpoint: its address, weight, stats and the state balancers read. */

import type { Address, HostConfig } from "../config/model.ts";
import { type StatsRegistry, type UpstreamStats, upstreamStats } from "../observability/stats.ts";
import type { Cluster, Host } from "./types.ts";

export class HostImpl implements Host {
  readonly cluster: Cluster;
  readonly config: HostConfig;
  readonly address: Address;
  readonly addressText: string;
  readonly weight: number;
  readonly metadata: Readonly<Record<string, string>>;
  readonly stats: UpstreamStats;
  activeRequests = 0;
  healthy = true;

  constructor(config: HostConfig, cluster: Cluster, stats: StatsRegistry) {
    this.cluster = cluster;
    this.config = config;
    this.address = config.address;
    this.addressText = config.addressText;
    this.weight = config.weight;
    this.metadata = config.metadata;
    this.stats = upstreamStats(stats, { cluster: cluster.name, host: config.addressText });
  }
}
