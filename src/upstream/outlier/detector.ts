/**
 * Outlier detection: passive health checking of a cluster's hosts with Envoy's semantics
 * (`outlier_detection`, split_external_local_origin_errors = false).
 *
 * Inputs. The proxy reports each upstream attempt through `Cluster.reportResult`. A status of
 * 500–599 is a 5xx error; 502, 503 and 504 are also gateway failures. A connect failure, a
 * reset (both counted as 503) and a timeout (504) are 5xx errors and gateway failures too. Any
 * other status is a success.
 *
 * Rules, in the order they run:
 * 1. Consecutive 5xx (inline): the `consecutive5xx`-th 5xx error in a row detects the host.
 *    Consecutive gateway failure (inline): the `consecutiveGatewayFailure`-th gateway failure
 *    in a row detects the host; a non-gateway 5xx (500, 501, 505…) resets this counter only.
 *    A success resets both counters. A counter fires when it *reaches* the threshold and is
 *    then reset, whether or not the host was ejected, so a bout of errors is counted again
 *    from zero (the gateway rule runs first when one result reaches both). A threshold of 0
 *    disables its rule. Results for a host that is already ejected detect nothing.
 * 2. Every `intervalMs` (a sweep, or `tick()`): ejected hosts whose ejection time has elapsed
 *    come back, with both consecutive counters reset. A host that is not ejected at a sweep
 *    has its ejection multiplier decremented by one (never below 0).
 * 3. Same sweep, success rate: over the interval that just ended, hosts not ejected with at
 *    least `successRateRequestVolume` requests are "valid"; when there are at least
 *    `successRateMinimumHosts` valid hosts (and at least one), each host whose success rate
 *    (percent) is below mean − stdev × successRateStdevFactor / 1000 (population stdev) is
 *    detected.
 * 4. Same sweep, failure percentage: hosts with at least `failurePercentageRequestVolume`
 *    requests; when at least `failurePercentageMinimumHosts` (and at least one) qualify, each
 *    whose failure percent is ≥ `failurePercentageThreshold` is detected (hosts ejected by
 *    rule 3 in this sweep are skipped).
 *
 * Ejecting a detected host:
 * - max_ejection_percent first: at most floor(hosts × maxEjectionPercent / 100) hosts are
 *   ejected at a time, but at least one when maxEjectionPercent > 0 (Envoy's documented "will
 *   eject at least one host regardless", its always_eject_one_host). maxEjectionPercent = 0
 *   ejects nothing. Envoy itself compares the percentage ejected *before* this ejection with
 *   `<`, which can exceed the cap by one host when it does not divide evenly (5 hosts at 30 %
 *   → 2); this port never exceeds it (→ 1). A blocked ejection counts
 *   `outlier_detection_ejections_overflow`.
 * - then the rule's enforcing_* percentage: the host is ejected when random() × 100 < it
 *   (100 always, 0 never; random is drawn only in between).
 * - an ejection sets HealthFlag.FailedOutlierCheck with the rule as reason ("consecutive_5xx",
 *   "consecutive_gateway_failure", "success_rate", "failure_percentage") and bumps the host's
 *   ejection multiplier (while multiplier × base < max + base). The host stays out for
 *   min(baseEjectionTimeMs × multiplier, max(maxEjectionTimeMs, baseEjectionTimeMs)), checked
 *   at sweeps, so it returns at the first sweep after that time; the flag is then cleared with
 *   reason "ejection time elapsed".
 *
 * Hosts: the detector follows `onHostsChanged` (new hosts are watched, removed ones dropped).
 * A host that already carries FailedOutlierCheck when first watched (health copied from the
 * cluster a config update replaced) is treated as ejected now with multiplier 1. If something
 * else clears the flag, the detector forgets that ejection at the next sweep.
 *
 * Stats (type "upstream", labels {cluster}): outlier_detection_ejections_active (gauge),
 * outlier_detection_ejections_enforced_total, outlier_detection_ejections_enforced_<rule>,
 * outlier_detection_ejections_detected_<rule>, outlier_detection_ejections_overflow.
 */

import type { OutlierDetectionConfig } from "../../config/model.ts";
import type { Counter, Gauge, StatsRegistry } from "../../observability/stats.ts";
import type { ClusterExtension, ClusterImpl, ResultSink } from "../cluster.ts";
import { HealthFlag, type Host, type UpstreamResult } from "../types.ts";

/** The timer functions the detector schedules its sweep with; the handle is opaque. */
export interface IntervalTimers {
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(id: unknown): void;
}

export interface OutlierDetectorDeps {
  stats: StatsRegistry;
  /** Monotonic milliseconds; defaults to performance.now. */
  now?: () => number;
  /** [0, 1) for enforcing_* percentages; defaults to Math.random. */
  random?: () => number;
  /** Defaults to unref'd global timers. `null`: no timer, the owner calls `tick()`. */
  timers?: IntervalTimers | null;
}

/** What outlier detection knows about one host (for admin views and tests). */
export interface OutlierHostStatus {
  readonly ejected: boolean;
  /** Times this detector ejected the host. */
  readonly ejections: number;
  /** Current ejection-time multiplier (ejection time = base × multiplier, capped). */
  readonly multiplier: number;
  /** Success rate (percent) over the last interval; undefined without requests. */
  readonly successRate: number | undefined;
}

/** The rule that detected a host; also the health-flag reason. */
export type OutlierEjectionType =
  | "consecutive_5xx"
  | "consecutive_gateway_failure"
  | "success_rate"
  | "failure_percentage";

const CONSECUTIVE_5XX = 0;
const CONSECUTIVE_GATEWAY_FAILURE = 1;
const SUCCESS_RATE = 2;
const FAILURE_PERCENTAGE = 3;
const TYPE_NAMES: readonly OutlierEjectionType[] = [
  "consecutive_5xx",
  "consecutive_gateway_failure",
  "success_rate",
  "failure_percentage",
];

const UNEJECT_REASON = "ejection time elapsed";

class HostMonitor {
  readonly host: Host;
  consecutive5xx = 0;
  consecutiveGateway = 0;
  /** Requests and successes in the current interval. */
  requests = 0;
  successes = 0;
  /** Success rate (percent) of the interval that ended at the last sweep; -1 when none. */
  lastSuccessRate = -1;
  ejected = false;
  ejectedAt = 0;
  multiplier = 0;
  ejections = 0;

  constructor(host: Host) {
    this.host = host;
  }
}

const defaultTimers: IntervalTimers = {
  setInterval(fn, ms) {
    const id = setInterval(fn, ms);
    Deno.unrefTimer(id);
    return id;
  },
  clearInterval(id) {
    clearInterval(id as ReturnType<typeof setInterval>);
  },
};

/**
 * Watches one cluster's upstream results and ejects outlier hosts; see the file header for
 * the rules.
 *
 * @example
 * ```ts
 * const d = new OutlierDetector(cluster, config.outlierDetection, { stats });
 * cluster.outlier = d;
 * cluster.attach(d);
 * ```
 */
export class OutlierDetector implements ResultSink, ClusterExtension {
  readonly #cluster: ClusterImpl;
  readonly #cfg: OutlierDetectionConfig;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #timers: IntervalTimers | null;
  #timer: unknown;
  readonly #monitors = new Map<Host, HostMonitor>();
  #active = 0;
  #closed = false;

  readonly #activeGauge: Gauge;
  readonly #enforcedTotal: Counter;
  readonly #enforced: readonly Counter[];
  readonly #detected: readonly Counter[];
  readonly #overflow: Counter;
  readonly #enforcing: readonly number[];

  constructor(cluster: ClusterImpl, cfg: OutlierDetectionConfig, deps: OutlierDetectorDeps) {
    this.#cluster = cluster;
    this.#cfg = cfg;
    this.#now = deps.now ?? (() => performance.now());
    this.#random = deps.random ?? Math.random;
    this.#timers = deps.timers === undefined ? defaultTimers : deps.timers;

    const s = deps.stats.scope("upstream", { cluster: cluster.name });
    this.#activeGauge = s.gauge("outlier_detection_ejections_active");
    this.#enforcedTotal = s.counter("outlier_detection_ejections_enforced_total");
    this.#enforced = TYPE_NAMES.map((t) => s.counter(`outlier_detection_ejections_enforced_${t}`));
    this.#detected = TYPE_NAMES.map((t) => s.counter(`outlier_detection_ejections_detected_${t}`));
    this.#overflow = s.counter("outlier_detection_ejections_overflow");
    this.#enforcing = [
      cfg.enforcingConsecutive5xx,
      cfg.enforcingConsecutiveGatewayFailure,
      cfg.enforcingSuccessRate,
      cfg.enforcingFailurePercentage,
    ];

    for (const h of cluster.hosts) this.#watch(h);
    if (this.#timers) {
      this.#timer = this.#timers.setInterval(() => this.tick(), Math.max(1, cfg.intervalMs));
    }
  }

  /** Hosts currently ejected by this detector. */
  get ejectionsActive(): number {
    return this.#active;
  }

  /** The detector's view of `host`; undefined for a host it does not watch. */
  status(host: Host): OutlierHostStatus | undefined {
    const m = this.#monitors.get(host);
    if (!m) return undefined;
    return {
      ejected: m.ejected,
      ejections: m.ejections,
      multiplier: m.multiplier,
      successRate: m.lastSuccessRate < 0 ? undefined : m.lastSuccessRate,
    };
  }

  /** Hot path: one map lookup and a few counter updates, no allocation. */
  record(host: Host, result: UpstreamResult): void {
    if (this.#closed) return;
    const m = this.#monitors.get(host);
    if (m === undefined) return; // not a watched host (e.g. an ORIGINAL_DST host)
    let status: number;
    switch (result.kind) {
      case "status":
        status = result.status;
        break;
      case "timeout":
        status = 504;
        break;
      default: // connect_failure, reset
        status = 503;
    }
    m.requests++;
    if (status < 500 || status > 599) {
      m.successes++;
      m.consecutive5xx = 0;
      m.consecutiveGateway = 0;
      return;
    }
    if (status >= 502 && status <= 504) {
      if (++m.consecutiveGateway === this.#cfg.consecutiveGatewayFailure) {
        this.#onConsecutive(m, CONSECUTIVE_GATEWAY_FAILURE);
      }
    } else {
      m.consecutiveGateway = 0;
    }
    if (++m.consecutive5xx === this.#cfg.consecutive5xx) {
      this.#onConsecutive(m, CONSECUTIVE_5XX);
    }
  }

  /**
   * One sweep: returns hosts whose ejection time elapsed, decays multipliers, then runs the
   * success-rate and failure-percentage rules over the interval that just ended.
   */
  tick(): void {
    if (this.#closed) return;
    const now = this.#now();
    for (const m of this.#monitors.values()) {
      this.#checkReturn(m, now);
      m.lastSuccessRate = m.requests > 0 ? (m.successes * 100) / m.requests : -1;
    }
    this.#sweepRates();
    for (const m of this.#monitors.values()) {
      m.requests = 0;
      m.successes = 0;
    }
  }

  onHostsChanged(hosts: readonly Host[]): void {
    if (this.#closed) return;
    const keep = new Set(hosts);
    for (const [h, m] of this.#monitors) {
      if (keep.has(h)) continue;
      if (m.ejected) this.#dropActive();
      this.#monitors.delete(h);
    }
    for (const h of hosts) if (!this.#monitors.has(h)) this.#watch(h);
  }

  /** Stops the sweep; results reported later are ignored. Ejected hosts keep their flag. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) this.#timers?.clearInterval(this.#timer);
    this.#timer = undefined;
    this.#activeGauge.dec(this.#active);
    this.#active = 0;
  }

  #watch(host: Host): void {
    const m = new HostMonitor(host);
    this.#monitors.set(host, m);
    if (host.healthFlags & HealthFlag.FailedOutlierCheck) {
      m.ejected = true;
      m.ejectedAt = this.#now();
      m.multiplier = 1;
      this.#active++;
      this.#activeGauge.inc();
    }
  }

  #dropActive(): void {
    this.#active--;
    this.#activeGauge.dec();
  }

  #onConsecutive(m: HostMonitor, type: number): void {
    if (m.ejected) return;
    this.#tryEject(m, type);
    if (type === CONSECUTIVE_5XX) m.consecutive5xx = 0;
    else m.consecutiveGateway = 0;
  }

  /** Most hosts that may be ejected at once (see the header). */
  #ejectionLimit(): number {
    const pct = Math.min(100, this.#cfg.maxEjectionPercent);
    if (pct <= 0) return 0;
    return Math.max(1, Math.floor((this.#monitors.size * pct) / 100));
  }

  #tryEject(m: HostMonitor, type: number): void {
    this.#detected[type]!.inc();
    if (this.#active >= this.#ejectionLimit()) {
      this.#overflow.inc();
      return;
    }
    const enforcing = this.#enforcing[type]!;
    if (enforcing <= 0) return;
    if (enforcing < 100 && this.#random() * 100 >= enforcing) return;

    const { baseEjectionTimeMs: base, maxEjectionTimeMs: max } = this.#cfg;
    m.ejected = true;
    m.ejectedAt = this.#now();
    m.ejections++;
    if (m.multiplier * base < max + base) m.multiplier++;
    this.#active++;
    this.#activeGauge.inc();
    this.#enforcedTotal.inc();
    this.#enforced[type]!.inc();
    m.host.setHealthFlag(HealthFlag.FailedOutlierCheck, true, TYPE_NAMES[type]);
  }

  #checkReturn(m: HostMonitor, now: number): void {
    if (m.ejected && !(m.host.healthFlags & HealthFlag.FailedOutlierCheck)) {
      // Someone else cleared the flag: the ejection is over.
      m.ejected = false;
      this.#dropActive();
      return;
    }
    if (!m.ejected) {
      if (m.multiplier > 0) m.multiplier--;
      return;
    }
    const { baseEjectionTimeMs: base, maxEjectionTimeMs: max } = this.#cfg;
    const duration = Math.min(base * m.multiplier, Math.max(max, base));
    if (now - m.ejectedAt < duration) return;
    m.ejected = false;
    m.consecutive5xx = 0;
    m.consecutiveGateway = 0;
    this.#dropActive();
    m.host.setHealthFlag(HealthFlag.FailedOutlierCheck, false, UNEJECT_REASON);
  }

  #sweepRates(): void {
    const cfg = this.#cfg;
    if (
      this.#monitors.size < cfg.successRateMinimumHosts &&
      this.#monitors.size < cfg.failurePercentageMinimumHosts
    ) return;

    const srHosts: HostMonitor[] = [];
    const fpHosts: HostMonitor[] = [];
    let srSum = 0;
    for (const m of this.#monitors.values()) {
      if (m.ejected || m.requests === 0) continue;
      if (m.requests >= cfg.successRateRequestVolume) {
        srHosts.push(m);
        srSum += m.lastSuccessRate;
      }
      if (m.requests >= cfg.failurePercentageRequestVolume) fpHosts.push(m);
    }

    if (srHosts.length > 0 && srHosts.length >= cfg.successRateMinimumHosts) {
      const mean = srSum / srHosts.length;
      let variance = 0;
      for (const m of srHosts) variance += (m.lastSuccessRate - mean) ** 2;
      const stdev = Math.sqrt(variance / srHosts.length);
      const threshold = mean - stdev * (cfg.successRateStdevFactor / 1000);
      for (const m of srHosts) {
        if (m.lastSuccessRate < threshold && !m.ejected) this.#tryEject(m, SUCCESS_RATE);
      }
    }

    if (fpHosts.length > 0 && fpHosts.length >= cfg.failurePercentageMinimumHosts) {
      for (const m of fpHosts) {
        if (100 - m.lastSuccessRate >= cfg.failurePercentageThreshold && !m.ejected) {
          this.#tryEject(m, FAILURE_PERCENTAGE);
        }
      }
    }
  }
}
