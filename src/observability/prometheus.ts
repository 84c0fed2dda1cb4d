/**
 * Prometheus text exposition (format 0.0.4) of the stats registry, answered by
 * `GET /stats/prometheus`.
 *
 * - Family name: `mosn_<type>_<metric>`, characters outside `[a-zA-Z0-9_:]` replaced by `_`.
 * - Counters end in `_total`: a metric already named `…_total` keeps its name (no
 *   `_total_total`), any other counter gets the suffix (`connection_destroy` →
 *   `mosn_downstream_connection_destroy_total`).
 * - Gauges keep their name. Histograms (milliseconds, as recorded) give cumulative
 *   `_bucket{le="…"}` samples ending with `le="+Inf"`, then `_sum` and `_count`.
 * - The scope's labels become sample labels (names sanitized to `[a-zA-Z_][a-zA-Z0-9_]*`, values
 *   escaped: `\` → `\\`, `"` → `\"`, newline → `\n`), sorted by name.
 * - `# HELP` and `# TYPE` once per family; families sorted by name, samples by label set.
 * - If two metrics of different kinds would share a family name, the later kind (counter,
 *   gauge, histogram order) gets `_<kind>` appended so every family keeps one TYPE.
 *
 * ```text
 * # HELP mosn_upstream_connection_total Connections opened in total.
 * # TYPE mosn_upstream_connection_total counter
 * mosn_upstream_connection_total{cluster="c1"} 3
 * mosn_upstream_connection_total{cluster="c1",host="127.0.0.1:8080"} 2
 * ```
 */

import type { Metric, StatsRegistry } from "./stats.ts";
import { Counter, Gauge } from "./stats.ts";
import { byCodeUnit } from "./stats_json.ts";

/** The Content-Type of the text exposition format. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export interface PrometheusOptions {
  /** Family name prefix; default `"mosn"`. */
  readonly prefix?: string;
}

type Kind = "counter" | "gauge" | "histogram";

interface Sample {
  /** Sanitized label names with their raw values, sorted by name. */
  readonly labels: readonly [string, string][];
  readonly metric: Metric;
}

interface Family {
  readonly name: string;
  readonly kind: Kind;
  readonly help: string;
  readonly samples: Sample[];
}

/** What MOSN's well-known metrics count, for `# HELP`. */
const HELP: Readonly<Record<string, string>> = {
  connection_total: "Connections opened in total.",
  connection_active: "Connections currently open.",
  connection_destroy: "Connections closed in total.",
  connection_con_fail: "Upstream connection attempts that failed.",
  connection_con_timeout: "Upstream connection attempts that timed out.",
  connection_idle_timeout: "Connections closed for being idle.",
  bytes_read_total: "Bytes read in total.",
  bytes_write_total: "Bytes written in total.",
  request_total: "Requests in total.",
  request_active: "Requests in flight.",
  request_failed: "Requests that failed.",
  request_timeout: "Requests that timed out.",
  request_retry: "Request retries.",
  request_time: "Request duration in milliseconds.",
  request_duration_time: "Upstream request duration in milliseconds.",
  request_pending_overflow: "Requests refused because the pending queue was full.",
  response_success: "Responses that succeeded.",
  response_failed: "Responses that failed.",
  response_1xx_total: "Responses with a 1xx status.",
  response_2xx_total: "Responses with a 2xx status.",
  response_3xx_total: "Responses with a 3xx status.",
  response_4xx_total: "Responses with a 4xx status.",
  response_5xx_total: "Responses with a 5xx status.",
  response_none_total: "Requests that ended without a response status.",
  request_reset: "Requests reset (by either side) before completing.",
  span_exported: "Spans exported to the OTLP collector.",
  span_dropped: "Spans dropped because the export queue was full.",
  span_export_failed: "Spans lost in exports the collector did not accept.",
  span_queued: "Spans waiting for export.",
  export_failed: "OTLP export requests that failed.",
  handshake: "TLS handshakes completed.",
  handshake_failed: "TLS handshakes that failed (any reason).",
  fail_verify_no_cert: "TLS handshakes refused: no client certificate.",
  fail_verify_error: "TLS handshakes refused: the peer certificate did not verify.",
  fail_handshake_timeout: "TLS handshakes not finished in time.",
  fail_alpn:
    "Upstream TLS connections refused: the server did not choose the protocol offered by ALPN.",
  connection_error: "TLS handshakes that failed on a protocol error or a closed connection.",
  plaintext: "Connections an inspector listener served as plain text.",
  request_protocol_error: "Downstream connections closed for malformed requests.",
  stream_active: "HTTP/2 streams currently open.",
  stream_total: "HTTP/2 streams opened in total.",
  reset_sent_total: "HTTP/2 streams reset by this side (RST_STREAM sent).",
  reset_received_total: "HTTP/2 streams reset by the peer (RST_STREAM received).",
  protocol_error_total: "Connections closed on a protocol error.",
  heartbeat_total: "RPC heartbeats answered.",
  oneway_total: "RPC oneway requests.",
  health_check_attempt: "Active health checks made.",
  health_check_success: "Active health checks that passed.",
  health_check_failure: "Active health checks that failed.",
  health_check_network_failure: "Active health checks that failed to connect.",
  health_check_healthy: "Hosts passing active health checks.",
  outlier_detection_ejections_active: "Hosts ejected by outlier detection now.",
  outlier_detection_ejections_enforced_total: "Outlier ejections enforced in total.",
  outlier_detection_ejections_overflow: "Outlier ejections skipped at max_ejection_percent.",
};

/** HELP of metrics named after a value: status codes, outlier ejection kinds. */
function helpFor(type: string, metric: string): string {
  const known = HELP[metric];
  if (known) return known;
  let m = /^request_(\d{3})_total$/.exec(metric);
  if (m) return `Responses with HTTP status ${m[1]}.`;
  m = /^response_(\d+)_total$/.exec(metric);
  if (m) return `RPC responses with protocol status ${m[1]}.`;
  m = /^outlier_detection_ejections_(enforced|detected)_(\w+)$/.exec(metric);
  if (m) return `Outlier ejections ${m[1]} for ${m[2]}.`;
  return `MOSN ${type} metric ${metric}.`;
}

function kindOf(m: Metric): Kind {
  return m instanceof Counter ? "counter" : m instanceof Gauge ? "gauge" : "histogram";
}

/** Replaces characters a metric name may not hold; a leading digit gets a `_` in front. */
export function sanitizeMetricName(name: string): string {
  const s = name.replace(/[^a-zA-Z0-9_:]/g, "_");
  return /^[0-9]/.test(s) ? `_${s}` : s;
}

/** Replaces characters a label name may not hold; a leading digit gets a `_` in front. */
export function sanitizeLabelName(name: string): string {
  const s = name.replace(/[^a-zA-Z0-9_]/g, "_");
  return /^[0-9]/.test(s) || s === "" ? `_${s}` : s;
}

/** Escapes a label value: backslash, double quote and newline. */
export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

/** A sample value as Prometheus parses it (`+Inf`, `-Inf`, `NaN` for the non-finite). */
export function formatSampleValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

function renderLabels(labels: readonly [string, string][]): string {
  if (labels.length === 0) return "";
  return `{${labels.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(",")}}`;
}

function labelKey(labels: readonly [string, string][]): string {
  return labels.map(([k, v]) => `${k}\u0000${v}`).join("\u0001");
}

function familyName(prefix: string, type: string, metric: string, kind: Kind): string {
  const base = sanitizeMetricName(`${prefix}_${type}_${metric}`);
  if (kind === "counter" && !base.endsWith("_total")) return `${base}_total`;
  return base;
}

const KIND_ORDER: readonly Kind[] = ["counter", "gauge", "histogram"];

function collect(reg: StatsRegistry, prefix: string): Family[] {
  const families = new Map<string, Family>();
  // Visit metrics in a fixed order so kind conflicts resolve the same way every time.
  const items: { type: string; metric: string; labels: [string, string][]; m: Metric }[] = [];
  for (const scope of reg.scopes()) {
    const labels = Object.keys(scope.labels).sort(byCodeUnit).map((
      k,
    ): [string, string] => [sanitizeLabelName(k), scope.labels[k]!]);
    for (const [metric, m] of scope.metrics) items.push({ type: scope.type, metric, labels, m });
  }
  items.sort((a, b) =>
    KIND_ORDER.indexOf(kindOf(a.m)) - KIND_ORDER.indexOf(kindOf(b.m)) ||
    byCodeUnit(a.type, b.type) || byCodeUnit(a.metric, b.metric)
  );
  for (const { type, metric, labels, m } of items) {
    const kind = kindOf(m);
    let name = familyName(prefix, type, metric, kind);
    const existing = families.get(name);
    if (existing && existing.kind !== kind) name = `${name}_${kind}`;
    let fam = families.get(name);
    if (!fam) {
      const help = helpFor(type, metric);
      families.set(name, fam = { name, kind, help, samples: [] });
    }
    fam.samples.push({ labels, metric: m });
  }
  return [...families.values()].sort((a, b) => byCodeUnit(a.name, b.name));
}

function renderFamily(f: Family, out: string[]): void {
  out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`);
  out.push(`# TYPE ${f.name} ${f.kind}`);
  const samples = [...f.samples].sort((a, b) => byCodeUnit(labelKey(a.labels), labelKey(b.labels)));
  for (const { labels, metric } of samples) {
    if (metric instanceof Counter || metric instanceof Gauge) {
      out.push(`${f.name}${renderLabels(labels)} ${formatSampleValue(metric.value)}`);
      continue;
    }
    let cumulative = 0;
    for (let i = 0; i < metric.buckets.length; i++) {
      cumulative += metric.counts[i] ?? 0;
      const le: [string, string] = ["le", formatSampleValue(metric.buckets[i]!)];
      out.push(`${f.name}_bucket${renderLabels([...labels, le])} ${cumulative}`);
    }
    out.push(`${f.name}_bucket${renderLabels([...labels, ["le", "+Inf"]])} ${metric.count}`);
    out.push(`${f.name}_sum${renderLabels(labels)} ${formatSampleValue(metric.sum)}`);
    out.push(`${f.name}_count${renderLabels(labels)} ${metric.count}`);
  }
}

/**
 * Renders the registry in the Prometheus text format; "" when the registry is empty, otherwise
 * newline-terminated.
 *
 * @example
 * ```ts
 * const reg = new StatsRegistry();
 * reg.scope("upstream", { cluster: "c1" }).counter("connection_total").inc(3);
 * renderPrometheus(reg);
 * // # HELP mosn_upstream_connection_total Connections opened in total.
 * // # TYPE mosn_upstream_connection_total counter
 * // mosn_upstream_connection_total{cluster="c1"} 3
 * ```
 */
export function renderPrometheus(reg: StatsRegistry, options: PrometheusOptions = {}): string {
  const out: string[] = [];
  for (const f of collect(reg, options.prefix ?? "mosn")) renderFamily(f, out);
  return out.length === 0 ? "" : out.join("\n") + "\n";
}
