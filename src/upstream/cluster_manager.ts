/** Owns the clusters by name; ready for dynamic (xDS) add, update and remove. */

import type { ClusterConfig } from "../config/model.ts";
import type { StatsRegistry } from "../observability/stats.ts";
import { ClusterImpl, type ClusterOptions } from "./cluster.ts";
import { startDnsRefresh } from "./dns/strict_dns.ts";
import { startHealthChecker } from "./health/health_checker.ts";
import { OutlierDetector } from "./outlier/detector.ts";
import { type Cluster, type ClusterManager, HealthFlag } from "./types.ts";

/**
 * The cluster manager the server wires into filters and the proxy.
 *
 * @example
 * ```ts
 * const cm = new ClusterManagerImpl(config.clusterManager.clusters, stats);
 * const cluster = cm.get("backend");
 * const host = cluster?.lb.chooseHost();
 * if (cluster && host) (await cluster.connect(host)).start();
 * ```
 */
export class ClusterManagerImpl implements ClusterManager {
  readonly #stats: StatsRegistry;
  readonly #options: ClusterOptions;
  readonly #clusters = new Map<string, ClusterImpl>();
  /** Replaced or removed clusters whose connections are still open; close() reaches them too. */
  readonly #retired = new Set<ClusterImpl>();

  /** Throws MosnError REGISTRY_UNKNOWN for an unknown lb_type. */
  constructor(
    configs: readonly ClusterConfig[],
    stats: StatsRegistry,
    options: ClusterOptions = {},
  ) {
    this.#stats = stats;
    this.#options = options;
    for (const c of configs) this.addOrUpdate(c);
  }

  get(name: string): Cluster | undefined {
    return this.#clusters.get(name);
  }

  clusters(): readonly Cluster[] {
    return [...this.#clusters.values()];
  }

  /**
   * Adds a cluster or replaces the one with the same name. New picks use the new cluster at
   * once; connections of the old one stay open until they end. A host that stays keeps its
   * health flag; its stats continue since they share labels.
   */
  addOrUpdate(config: ClusterConfig): Cluster {
    const next = new ClusterImpl(config, this.#stats, this.#options);
    if (config.type === "STRICT_DNS") next.attach(startDnsRefresh(next));
    const prev = this.#clusters.get(config.name);
    if (prev) {
      const health = new Map(prev.hosts.map((h) => [h.addressText, h.healthFlags]));
      // Keep only flags that something in the new config can clear again.
      const keep = (config.healthCheck ? HealthFlag.FailedActiveHealthCheck : 0) |
        (config.outlierDetection ? HealthFlag.FailedOutlierCheck : 0);
      for (const h of next.hosts) h.healthFlags = (health.get(h.addressText) ?? 0) & keep;
      this.#retire(prev);
    }
    // After the health copy, so the detector adopts hosts still ejected in `prev`.
    if (config.outlierDetection) {
      const d = new OutlierDetector(next, config.outlierDetection, { stats: this.#stats });
      next.outlier = d;
      next.attach(d);
    }
    if (config.healthCheck) {
      next.attach(startHealthChecker(next, config.healthCheck, { stats: this.#stats }));
    }
    this.#clusters.set(config.name, next);
    return next;
  }

  /** Removes a cluster; its open connections end on their own. False when it was unknown. */
  remove(name: string): boolean {
    const prev = this.#clusters.get(name);
    if (!prev) return false;
    this.#clusters.delete(name);
    this.#retire(prev);
    return true;
  }

  close(): void {
    for (const c of this.#clusters.values()) c.close();
    for (const c of this.#retired) c.close();
    this.#retired.clear();
  }

  #retire(old: ClusterImpl): void {
    this.#retired.add(old);
    // Its replacement checks the hosts now; the old one only finishes its open connections.
    old.stopExtensions();
    old.whenIdle().then(() => {
      this.#retired.delete(old);
      old.close();
      this.#dropStaleStats(old.name);
    });
  }

  /** Forgets stats scopes of hosts (or a whole cluster) no longer configured, once unused. */
  #dropStaleStats(name: string): void {
    const current = this.#clusters.get(name);
    for (const r of this.#retired) if (r.name === name) return; // still counting
    const live = new Set(current?.hosts.map((h) => h.addressText));
    this.#stats.remove((s) =>
      s.type === "upstream" && s.labels.cluster === name &&
      (s.labels.host === undefined ? current === undefined : !live.has(s.labels.host))
    );
  }
}
