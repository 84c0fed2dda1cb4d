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
  healthFlags = 0;
  /** Last reason per flag, for /clusters and the event log. */
  readonly healthReasons = new Map<number, string>();
  #onChange: ((h: HostImpl, flag: number, on: boolean, reason: string) => void) | undefined;

  get healthy(): boolean {
    return this.healthFlags === 0;
  }

  /** Called on every health flag change (the cluster manager's event log listens). */
  onHealthChange(cb: (h: HostImpl, flag: number, on: boolean, reason: string) => void): void {
    this.#onChange = cb;
  }

  setHealthFlag(flag: number, on: boolean, reason = ""): void {
    const before = this.healthFlags;
    this.healthFlags = on ? before | flag : before & ~flag;
    if (on) this.healthReasons.set(flag, reason);
    else this.healthReasons.delete(flag);
    if (before !== this.healthFlags) this.#onChange?.(this, flag, on, reason);
  }

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
