/**
 * MOSN-shaped JSON view of the stats registry, answered by `GET /api/v1/stats`.
 *
 * Shape: `{ "<type>": { "<namespace>": { "<metric>": "<value>" } } }`, the way MOSN's console
 * sink dumps go-metrics. The namespace joins the scope's labels sorted by key, each as
 * `key.value`, all with "." (MOSN's rule); a scope without labels has the namespace "".
 * Values are decimal strings. Types, namespaces and metric names come out sorted.
 *
 * ```json
 * {
 *   "downstream": {
 *     "listener.egress_listener.proxy.global": { "connection_active": "1", "connection_total": "3" }
 *   },
 *   "upstream": {
 *     "cluster.c1": { "connection_total": "3" },
 *     "cluster.c1.host.127.0.0.1:8080": { "connection_total": "2" }
 *   }
 * }
 * ```
 *
 * A histogram `h` becomes four entries: `h.count`, `h.sum`, `h.p50` and `h.p99` (quantiles
 * estimated from the buckets by linear interpolation, as Prometheus' `histogram_quantile`).
 */

import type { Histogram, Scope, StatsRegistry } from "./stats.ts";
import { Counter, Gauge } from "./stats.ts";

/** type → namespace → metric → value (decimal string). */
export type StatsDump = Record<string, Record<string, Record<string, string>>>;

export interface StatsJsonOptions {
  /** Only these scope types (e.g. `["downstream"]`); all when absent or empty. */
  readonly types?: readonly string[];
}

/** Compares by UTF-16 code units, so output order never depends on the locale. */
export function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * MOSN's namespace for a label set: keys sorted, `key.value` pairs joined by ".".
 *
 * @example
 * ```ts
 * namespaceOf({ host: "127.0.0.1:8080", cluster: "c1" }); // "cluster.c1.host.127.0.0.1:8080"
 * ```
 */
export function namespaceOf(labels: Readonly<Record<string, string>>): string {
  return Object.keys(labels).sort(byCodeUnit).map((k) => `${k}.${labels[k]}`).join(".");
}

/**
 * Estimates quantile `q` (0..1) of a histogram from its buckets, interpolating linearly inside
 * the bucket that holds the rank (lower bound of the first bucket is 0). Observations above the
 * last bound are estimated as the last bound. 0 for an empty histogram.
 */
export function histogramQuantile(h: Histogram, q: number): number {
  if (h.count === 0) return 0;
  const rank = Math.min(Math.max(q, 0), 1) * h.count;
  let cumulative = 0;
  for (let i = 0; i < h.buckets.length; i++) {
    const c = h.counts[i] ?? 0;
    if (c > 0 && cumulative + c >= rank) {
      const lower = i === 0 ? 0 : h.buckets[i - 1]!;
      const upper = h.buckets[i]!;
      return lower + (upper - lower) * ((rank - cumulative) / c);
    }
    cumulative += c;
  }
  return h.buckets.at(-1) ?? 0;
}

/** Integers as they are; fractions rounded to 3 decimals. */
export function formatStatValue(v: number): string {
  if (Number.isInteger(v) || !Number.isFinite(v)) return String(v);
  return String(Math.round(v * 1000) / 1000);
}

function addScope(into: Record<string, string>, scope: Scope): void {
  for (const [name, m] of scope.metrics) {
    if (m instanceof Counter || m instanceof Gauge) {
      into[name] = formatStatValue(m.value);
    } else {
      into[`${name}.count`] = String(m.count);
      into[`${name}.sum`] = formatStatValue(m.sum);
      into[`${name}.p50`] = formatStatValue(histogramQuantile(m, 0.5));
      into[`${name}.p99`] = formatStatValue(histogramQuantile(m, 0.99));
    }
  }
}

function sortedObject<T>(entries: Iterable<[string, T]>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const [k, v] of [...entries].sort((a, b) => byCodeUnit(a[0], b[0]))) out[k] = v;
  return out;
}

/**
 * The registry as a {@link StatsDump}. Scopes of one type whose labels give the same namespace
 * are merged.
 *
 * @example
 * ```ts
 * const reg = new StatsRegistry();
 * reg.scope("upstream", { cluster: "c1" }).counter("connection_total").inc();
 * statsJson(reg); // { upstream: { "cluster.c1": { connection_total: "1" } } }
 * ```
 */
export function statsJson(reg: StatsRegistry, options: StatsJsonOptions = {}): StatsDump {
  const only = options.types && options.types.length > 0 ? new Set(options.types) : undefined;
  const byType = new Map<string, Map<string, Record<string, string>>>();
  for (const scope of reg.scopes()) {
    if (only && !only.has(scope.type)) continue;
    let namespaces = byType.get(scope.type);
    if (!namespaces) byType.set(scope.type, namespaces = new Map());
    const ns = namespaceOf(scope.labels);
    let metrics = namespaces.get(ns);
    if (!metrics) namespaces.set(ns, metrics = {});
    addScope(metrics, scope);
  }
  const out: StatsDump = {};
  for (const type of [...byType.keys()].sort(byCodeUnit)) {
    const namespaces = byType.get(type)!;
    const typeOut: Record<string, Record<string, string>> = {};
    for (const ns of [...namespaces.keys()].sort(byCodeUnit)) {
      typeOut[ns] = sortedObject(Object.entries(namespaces.get(ns)!));
    }
    out[type] = typeOut;
  }
  return out;
}

/**
 * The dump flattened to `[name, value]` pairs, name = `type.namespace.metric` (no empty parts),
 * in dump order. `/stats` prints these as `name: value` lines.
 */
export function flattenStats(dump: StatsDump): [string, string][] {
  const out: [string, string][] = [];
  for (const [type, namespaces] of Object.entries(dump)) {
    for (const [ns, metrics] of Object.entries(namespaces)) {
      const prefix = ns === "" ? type : `${type}.${ns}`;
      for (const [metric, value] of Object.entries(metrics)) {
        out.push([`${prefix}.${metric}`, value]);
      }
    }
  }
  return out;
}
