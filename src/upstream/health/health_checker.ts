/**
 * Active health checking of a cluster's hosts (MOSN `health_check`, Envoy's semantics).
 *
 * Per host: the first check runs after `initialDelayMs` (plus jitter), each next one
 * `intervalMs` + a random 0..`intervalJitterMs` after the previous one finished; each check is
 * bounded by `timeoutMs`. `unhealthyThreshold` failures in a row set
 * `HealthFlag.FailedActiveHealthCheck`; `healthyThreshold` successes in a row clear it. Hosts
 * keep the flag state they start with (a cluster update copies it over).
 *
 * Stats, in the cluster's `upstream` scope (labels {cluster}), Envoy's names:
 * `health_check_attempt`, `health_check_success`, `health_check_failure` (every failure),
 * `health_check_network_failure` (connect/reset/close/timeout failures, also counted in
 * `health_check_failure`) and the gauge `health_check_healthy` (hosts without the flag).
 *
 * Transitions are logged at INFO and, with `eventLogPath`, appended there as JSON lines
 * ({@link HealthEvent}).
 */

import { log } from "../../common/logger.ts";
import type { HealthCheckConfig } from "../../config/model.ts";
import type { Counter, Gauge, StatsRegistry } from "../../observability/stats.ts";
import type { ClusterExtension, ClusterImpl } from "../cluster.ts";
import { HealthFlag, type Host } from "../types.ts";
import { boltCheck } from "./bolt.ts";
import { grpcCheck } from "./grpc.ts";
import { httpCheck } from "./http.ts";
import { tcpCheck } from "./tcp.ts";
import { type CheckResult, type HealthEvent, type ProtocolCheck, unhealthy } from "./types.ts";

export type { CheckResult, HealthEvent, ProtocolCheck } from "./types.ts";

/** The check of each `health_check.protocol`. */
export const protocolChecks: Readonly<Record<HealthCheckConfig["protocol"], ProtocolCheck>> = {
  tcp: tcpCheck,
  http: httpCheck,
  grpc: grpcCheck,
  bolt: boltCheck,
};

export interface HealthCheckerDeps {
  /** Where the `health_check_*` stats go (the cluster's registry). */
  stats: StatsRegistry;
  /** Jitter source, [0, 1); defaults to Math.random. */
  random?: () => number;
  /** Called on every transition (after the host's flag changed). */
  onEvent?: (e: HealthEvent) => void;
}

interface HealthCheckStats {
  attempt: Counter;
  success: Counter;
  failure: Counter;
  networkFailure: Counter;
  healthy: Gauge;
}

/** One host's check loop. */
interface Session {
  readonly host: Host;
  successes: number;
  failures: number;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** Aborts the check in flight. */
  abort: AbortController | undefined;
  stopped: boolean;
}

const FLAG = HealthFlag.FailedActiveHealthCheck;

/**
 * The live checker per stats registry and cluster name. The cluster manager keeps a replaced
 * cluster (and so its extensions) open until its connections end; a newer checker of the same
 * cluster takes over, stopping the older one, so hosts are not checked twice and the gauge has
 * one writer.
 */
const live = new WeakMap<StatsRegistry, Map<string, HealthChecker>>();

export class HealthChecker implements ClusterExtension {
  readonly #cluster: ClusterImpl;
  readonly #cfg: HealthCheckConfig;
  readonly #check: ProtocolCheck;
  readonly #random: () => number;
  readonly #onEvent: ((e: HealthEvent) => void) | undefined;
  readonly #stats: HealthCheckStats;
  readonly #registry: StatsRegistry;
  readonly #sessions = new Map<Host, Session>();
  /** Checks still running (also aborted ones until their sockets are closed). */
  readonly #inflight = new Set<Promise<unknown>>();
  #closed = false;

  constructor(cluster: ClusterImpl, cfg: HealthCheckConfig, deps: HealthCheckerDeps) {
    this.#cluster = cluster;
    this.#cfg = cfg;
    this.#check = protocolChecks[cfg.protocol];
    this.#random = deps.random ?? Math.random;
    this.#onEvent = deps.onEvent;
    this.#registry = deps.stats;
    const s = deps.stats.scope("upstream", { cluster: cluster.name });
    this.#stats = {
      attempt: s.counter("health_check_attempt"),
      success: s.counter("health_check_success"),
      failure: s.counter("health_check_failure"),
      networkFailure: s.counter("health_check_network_failure"),
      healthy: s.gauge("health_check_healthy"),
    };
    let byName = live.get(deps.stats);
    if (!byName) live.set(deps.stats, byName = new Map());
    byName.get(cluster.name)?.close();
    byName.set(cluster.name, this);
    this.onHostsChanged(cluster.hosts);
  }

  /** Starts checking new hosts and stops checking removed ones. */
  onHostsChanged(hosts: readonly Host[]): void {
    if (this.#closed) return;
    const keep = new Set(hosts);
    for (const [host, s] of this.#sessions) {
      if (!keep.has(host)) {
        this.#stop(s);
        this.#sessions.delete(host);
      }
    }
    for (const host of hosts) {
      if (this.#sessions.has(host)) continue;
      const s: Session = {
        host,
        successes: 0,
        failures: 0,
        timer: undefined,
        abort: undefined,
        stopped: false,
      };
      this.#sessions.set(host, s);
      this.#schedule(s, this.#cfg.initialDelayMs);
    }
    this.#refreshGauge();
  }

  /** Stops every check and timer; sockets of checks in flight are closed at once. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of this.#sessions.values()) this.#stop(s);
    this.#sessions.clear();
    const byName = live.get(this.#registry);
    if (byName?.get(this.#cluster.name) === this) byName.delete(this.#cluster.name);
  }

  /** Resolves once no check is running (after close(): once every socket is released). */
  async settled(): Promise<void> {
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
  }

  get closed(): boolean {
    return this.#closed;
  }

  #stop(s: Session): void {
    s.stopped = true;
    if (s.timer !== undefined) clearTimeout(s.timer);
    s.timer = undefined;
    s.abort?.abort();
  }

  #schedule(s: Session, baseMs: number): void {
    if (this.#closed || s.stopped) return;
    const jitter = this.#cfg.intervalJitterMs > 0
      ? Math.floor(this.#random() * this.#cfg.intervalJitterMs)
      : 0;
    const timer = setTimeout(() => {
      s.timer = undefined;
      this.#run(s).catch((e) => {
        log.error("health check: internal error", { cluster: this.#cluster.name, error: e });
      });
    }, Math.max(0, baseMs + jitter));
    Deno.unrefTimer(timer);
    s.timer = timer;
  }

  async #run(s: Session): Promise<void> {
    if (this.#closed || s.stopped) return;
    const ac = new AbortController();
    s.abort = ac;
    this.#stats.attempt.inc();
    const check = this.#check(s.host, this.#cfg, ac.signal).catch((e): CheckResult =>
      unhealthy(`check error: ${e instanceof Error ? e.message : String(e)}`, false)
    );
    this.#inflight.add(check);
    check.finally(() => this.#inflight.delete(check));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<CheckResult>((resolve) => {
      const t = setTimeout(() => resolve(unhealthy("timeout", true)), this.#cfg.timeoutMs);
      Deno.unrefTimer(t);
      timer = t;
    });
    let result: CheckResult;
    try {
      result = await Promise.race([check, timeout]);
    } finally {
      clearTimeout(timer);
      ac.abort(); // a timed-out check closes its socket now
      if (s.abort === ac) s.abort = undefined;
    }
    if (this.#closed || s.stopped) return;
    this.#record(s, result);
    this.#schedule(s, this.#cfg.intervalMs);
  }

  #record(s: Session, r: CheckResult): void {
    const st = this.#stats;
    const host = s.host;
    const flagged = (host.healthFlags & FLAG) !== 0;
    if (r.healthy) {
      st.success.inc();
      s.failures = 0;
      s.successes++;
      if (flagged && s.successes >= this.#cfg.healthyThreshold) {
        this.#transition(host, false, "check succeeded");
      }
    } else {
      st.failure.inc();
      if (r.network) st.networkFailure.inc();
      s.successes = 0;
      s.failures++;
      if (!flagged && s.failures >= this.#cfg.unhealthyThreshold) {
        this.#transition(host, true, r.reason);
      } else if (flagged) {
        host.setHealthFlag(FLAG, true, r.reason); // keep the reason current
      }
    }
    this.#refreshGauge();
  }

  #transition(host: Host, unhealthyNow: boolean, reason: string): void {
    host.setHealthFlag(FLAG, unhealthyNow, reason);
    const e: HealthEvent = {
      time: new Date().toISOString(),
      cluster: this.#cluster.name,
      host: host.addressText,
      healthy: !unhealthyNow,
      flag: "failed_active_hc",
      reason,
    };
    log.info(unhealthyNow ? "health check: host unhealthy" : "health check: host healthy", {
      cluster: e.cluster,
      host: e.host,
      reason,
    });
    if (this.#cfg.eventLogPath) {
      try {
        Deno.writeTextFileSync(this.#cfg.eventLogPath, JSON.stringify(e) + "\n", {
          append: true,
        });
      } catch (err) {
        log.warn("health check: cannot write the event log", {
          path: this.#cfg.eventLogPath,
          error: err,
        });
      }
    }
    try {
      this.#onEvent?.(e);
    } catch (err) {
      log.error("health check: event listener failed", { error: err });
    }
  }

  #refreshGauge(): void {
    let n = 0;
    for (const h of this.#sessions.keys()) if ((h.healthFlags & FLAG) === 0) n++;
    this.#stats.healthy.set(n);
  }
}

/**
 * Starts active health checking of `cluster`'s hosts; attach the result to the cluster so host
 * list changes reach it and `cluster.close()` stops it.
 *
 * @example
 * ```ts
 * if (config.healthCheck) cluster.attach(startHealthChecker(cluster, config.healthCheck, { stats }));
 * ```
 */
export function startHealthChecker(
  cluster: ClusterImpl,
  cfg: HealthCheckConfig,
  deps: HealthCheckerDeps,
): HealthChecker {
  return new HealthChecker(cluster, cfg, deps);
}
