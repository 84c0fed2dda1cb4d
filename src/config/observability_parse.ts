/** MOSN's `tracing` and `metrics` blocks → TracingConfig / MetricsConfig (JSON-path errors). */

import { describe, ObjReader } from "./reader.ts";
import {
  type MetricsConfig,
  OTLP_PROTOCOLS,
  type OtlpExporterConfig,
  TRACE_PROPAGATORS,
  type TracePropagatorName,
  type TracingConfig,
} from "./model.ts";

function optStr(r: ObjReader, key: string): string | undefined {
  return r.str(key, "") || undefined;
}

function parseExporter(r: ObjReader | undefined): OtlpExporterConfig {
  if (!r) return { headers: {} };
  const protocol = r.has("protocol")
    ? r.oneOf("protocol", OTLP_PROTOCOLS, "http/protobuf")
    : undefined;
  const endpoint = optStr(r, "endpoint");
  if (endpoint !== undefined && !/^https?:\/\/[^/]/.test(endpoint)) {
    r.ctx.error(r.at("endpoint"), `expected an http:// or https:// URL, got ${describe(endpoint)}`);
  }
  const timeoutMs = r.has("timeout") ? r.duration("timeout", 10_000) : undefined;
  const cfg: OtlpExporterConfig = { headers: r.strMap("headers") };
  r.done();
  return {
    ...cfg,
    ...(protocol ? { protocol } : {}),
    ...(endpoint ? { endpoint } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
  };
}

/** `tracing: {enable, driver: "otel", config: {...}}`; undefined when absent or disabled. */
export function parseTracing(root: ObjReader): TracingConfig | undefined {
  const r = root.obj("tracing");
  if (!r) return undefined;
  const enable = r.bool("enable", false);
  const driver = r.str("driver", "otel");
  if (enable && driver.toLowerCase() !== "otel" && driver.toLowerCase() !== "opentelemetry") {
    r.ctx.error(r.at("driver"), `expected "otel" (the supported driver), got ${describe(driver)}`);
  }
  const c = r.obj("config");
  let sampleRatio: number | undefined;
  let propagators: TracePropagatorName[] | undefined;
  let serviceName: string | undefined;
  let exporter: OtlpExporterConfig = { headers: {} };
  let maxQueueSize = 2048, maxExportBatchSize = 512, scheduledDelayMs = 5000;
  let exportTimeoutMs = 30_000;
  if (c) {
    serviceName = optStr(c, "service_name");
    exporter = parseExporter(c.obj("exporter"));
    const ratio = c.raw("sample_ratio");
    if (ratio !== undefined && ratio !== null) {
      if (typeof ratio !== "number" || !(ratio >= 0 && ratio <= 1)) {
        c.ctx.error(c.at("sample_ratio"), `expected a number from 0 to 1, got ${describe(ratio)}`);
      } else sampleRatio = ratio;
    }
    if (c.has("propagators")) {
      propagators = [];
      for (const item of c.arr("propagators")) {
        const v = item.value;
        const hit = typeof v === "string"
          ? TRACE_PROPAGATORS.find((p) => p === v.toLowerCase())
          : undefined;
        if (hit) propagators.push(hit);
        else {
          c.ctx.error(
            item.path,
            `expected one of ${TRACE_PROPAGATORS.join(", ")}, got ${describe(v)}`,
          );
        }
      }
    }
    const b = c.obj("batch");
    if (b) {
      maxQueueSize = b.int("max_queue_size", maxQueueSize, 1, 1 << 20);
      maxExportBatchSize = b.int("max_export_batch_size", maxExportBatchSize, 1, 1 << 20);
      scheduledDelayMs = b.duration("scheduled_delay", scheduledDelayMs);
      exportTimeoutMs = b.duration("export_timeout", exportTimeoutMs);
      if (maxExportBatchSize > maxQueueSize) {
        b.ctx.error(b.at("max_export_batch_size"), "must not exceed max_queue_size");
      }
      b.done();
    }
    c.done();
  }
  r.done();
  if (!enable) return undefined;
  return {
    enable,
    driver: "otel",
    exporter,
    maxQueueSize,
    maxExportBatchSize,
    scheduledDelayMs,
    exportTimeoutMs,
    ...(serviceName ? { serviceName } : {}),
    ...(sampleRatio !== undefined ? { sampleRatio } : {}),
    ...(propagators ? { propagators } : {}),
  };
}

/**
 * `metrics: {sinks: [{type: "otel", config: {exporter, interval, service_name}}], ...}`. Other
 * sink types (MOSN's `prometheus`) are accepted: `/stats/prometheus` on the admin API serves it.
 */
export function parseMetrics(root: ObjReader): MetricsConfig {
  const r = root.obj("metrics");
  if (!r) return {};
  let otel: MetricsConfig["otel"];
  for (const item of r.arr("sinks")) {
    const s = ObjReader.of(r.ctx, item.value, item.path);
    if (!s) continue;
    const type = s.reqStr("type").toLowerCase();
    if (type !== "otel" && type !== "otlp") {
      s.allow("config");
      continue;
    }
    if (otel) s.ctx.error(s.at("type"), "only one otel sink is supported");
    const c = s.obj("config");
    const exporter = parseExporter(c?.obj("exporter"));
    const intervalMs = c?.has("interval") ? c.duration("interval", 60_000) : undefined;
    const serviceName = c ? optStr(c, "service_name") : undefined;
    c?.done();
    s.done();
    otel = {
      exporter,
      ...(intervalMs !== undefined ? { intervalMs } : {}),
      ...(serviceName ? { serviceName } : {}),
    };
  }
  r.allow("stats_matcher", "shm_zone", "shm_size", "flush_mosn", "lazy_flush");
  r.done();
  return otel ? { otel } : {};
}
