/**
 * Samples the request counters and latency histograms once per interval and keeps the last few
 * minutes as {@link OverviewPoint}s: rates and latency quantiles of each interval, computed from
 * counter and bucket differences (the registry's histograms are cumulative).
 */

import { Histogram, type Scope, type StatsRegistry } from "../../observability/stats.ts";
import { histogramQuantile } from "../../observability/stats_json.ts";
import type { OverviewPoint } from "../console_types.ts";

const ERROR_CODE = /^request_5\d\d_total$/;

interface Totals {
  requests: number;
  errors: number;
  downstreamCx: number;
  upstreamCx: number;
  /** Summed request_time bucket counts (default buckets). */
  buckets: number[];
}

function valueOf(s: Scope, name: string): number {
  const m = s.metrics.get(name);
  return m && !(m instanceof Histogram) ? m.value : 0;
}

/** Current totals over every listener and cluster (one pass over the scopes). */
export function readTotals(stats: StatsRegistry): Totals {
  const t: Totals = {
    requests: 0,
    errors: 0,
    downstreamCx: 0,
    upstreamCx: 0,
    buckets: new Array(Histogram.DEFAULT_BUCKETS.length).fill(0),
  };
  for (const s of stats.scopes()) {
    if (s.type === "downstream") {
      t.requests += valueOf(s, "request_total");
      t.downstreamCx += valueOf(s, "connection_active");
      for (const [name, m] of s.metrics) {
        if (ERROR_CODE.test(name) && !(m instanceof Histogram)) t.errors += m.value;
      }
      const h = s.metrics.get("request_time");
      if (h instanceof Histogram && h.buckets === Histogram.DEFAULT_BUCKETS) {
        for (let i = 0; i < h.counts.length; i++) t.buckets[i]! += h.counts[i]!;
      }
    } else if (s.type === "upstream" && s.labels["host"] === undefined) {
      t.upstreamCx += valueOf(s, "connection_active");
    }
  }
  return t;
}

export interface SamplerOptions {
  /** Points kept (default 300: five minutes at one per second). */
  readonly capacity?: number;
  readonly now?: () => number;
}

export class OverviewSampler {
  readonly #stats: StatsRegistry;
  readonly #capacity: number;
  readonly #now: () => number;
  readonly #points: OverviewPoint[] = [];
  #last: Totals;
  #lastAt: number;

  constructor(stats: StatsRegistry, options: SamplerOptions = {}) {
    this.#stats = stats;
    this.#capacity = options.capacity ?? 300;
    this.#now = options.now ?? Date.now;
    this.#last = readTotals(stats);
    this.#lastAt = this.#now();
  }

  /** Takes one sample: the interval since the previous one. */
  sample(): OverviewPoint {
    const now = this.#now();
    const cur = readTotals(this.#stats);
    const prev = this.#last;
    const seconds = Math.max((now - this.#lastAt) / 1000, 0.001);
    const delta = new Histogram();
    for (let i = 0; i < delta.counts.length; i++) {
      const d = Math.max(0, (cur.buckets[i] ?? 0) - (prev.buckets[i] ?? 0));
      delta.counts[i] = d;
      delta.count += d;
    }
    const round = (v: number) => Math.round(v * 100) / 100;
    const point: OverviewPoint = {
      t: now,
      rps: round(Math.max(0, cur.requests - prev.requests) / seconds),
      errors_per_s: round(Math.max(0, cur.errors - prev.errors) / seconds),
      p50_ms: round(histogramQuantile(delta, 0.5)),
      p99_ms: round(histogramQuantile(delta, 0.99)),
      downstream_cx_active: cur.downstreamCx,
      upstream_cx_active: cur.upstreamCx,
    };
    this.#last = cur;
    this.#lastAt = now;
    this.#points.push(point);
    if (this.#points.length > this.#capacity) this.#points.shift();
    return point;
  }

  /** The newest point, if any. */
  get latest(): OverviewPoint | undefined {
    return this.#points.at(-1);
  }

  /** Oldest first. */
  history(): readonly OverviewPoint[] {
    return this.#points;
  }

  /** Totals as of the last sample. */
  get totals(): { requests: number; errors: number; downstreamCx: number; upstreamCx: number } {
    return this.#last;
  }
}
