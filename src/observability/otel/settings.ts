/**
 * Final OpenTelemetry settings: the config's `tracing` / `metrics` blocks first, then the
 * standard OTEL_* environment variables for whatever the config leaves out, then OTel's
 * defaults. (The config wins, as with the OTel SDKs' programmatic options.)
 *
 * Variables read: OTEL_SDK_DISABLED, OTEL_SERVICE_NAME, OTEL_EXPORTER_OTLP_{,TRACES_,METRICS_}
 * ENDPOINT / PROTOCOL / HEADERS / TIMEOUT, OTEL_TRACES_SAMPLER(_ARG), OTEL_PROPAGATORS,
 * OTEL_METRIC_EXPORT_INTERVAL.
 */

import { log } from "../../common/logger.ts";
import {
  type MetricsConfig,
  OTLP_PROTOCOLS,
  type OtlpExporterConfig,
  type OtlpProtocol,
  TRACE_PROPAGATORS,
  type TracePropagatorName,
  type TracingConfig,
} from "../../config/model.ts";

export type EnvLookup = (name: string) => string | undefined;

/** Deno.env, or nothing when the process may not read the environment. */
export const processEnv: EnvLookup = (name) => {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
};

export interface ExporterSettings {
  readonly protocol: OtlpProtocol;
  /** The full URL: `…/v1/traces` or `…/v1/metrics` for HTTP, the base URL for gRPC. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
}

export interface TracingSettings {
  readonly serviceName: string;
  readonly exporter: ExporterSettings;
  readonly ratio: number;
  readonly propagators: readonly TracePropagatorName[];
  readonly batch: {
    readonly maxQueueSize: number;
    readonly maxExportBatchSize: number;
    readonly scheduledDelayMs: number;
    readonly exportTimeoutMs: number;
  };
}

export interface MetricsSettings {
  readonly serviceName: string;
  readonly exporter: ExporterSettings;
  readonly intervalMs: number;
}

function parseHeaders(v: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!v) return out;
  for (const part of v.split(",")) {
    const eq = part.indexOf("=");
    if (eq <= 0) continue;
    try {
      out[decodeURIComponent(part.slice(0, eq).trim())] = decodeURIComponent(
        part.slice(eq + 1).trim(),
      );
    } catch {
      log.warn("otel: malformed OTEL_EXPORTER_OTLP_HEADERS entry ignored", { entry: part });
    }
  }
  return out;
}

function envProtocol(v: string | undefined): OtlpProtocol | undefined {
  if (!v) return undefined;
  const hit = OTLP_PROTOCOLS.find((p) => p === v.trim().toLowerCase());
  if (!hit) log.warn("otel: unsupported OTLP protocol, using http/protobuf", { protocol: v });
  return hit ?? "http/protobuf";
}

function envNumber(v: string | undefined): number | undefined {
  if (v === undefined || v.trim() === "") return undefined;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

function exporterSettings(
  cfg: OtlpExporterConfig | undefined,
  signal: "traces" | "metrics",
  env: EnvLookup,
): ExporterSettings {
  const S = signal.toUpperCase();
  const protocol = cfg?.protocol ?? envProtocol(env(`OTEL_EXPORTER_OTLP_${S}_PROTOCOL`)) ??
    envProtocol(env("OTEL_EXPORTER_OTLP_PROTOCOL")) ?? "http/protobuf";
  const grpc = protocol === "grpc";
  let url: string;
  const signalUrl = env(`OTEL_EXPORTER_OTLP_${S}_ENDPOINT`);
  const base = cfg?.endpoint ?? (signalUrl ? undefined : env("OTEL_EXPORTER_OTLP_ENDPOINT")) ??
    (signalUrl ? undefined : grpc ? "http://localhost:4317" : "http://localhost:4318");
  if (base === undefined) url = signalUrl!; // used as is, per the spec
  else if (grpc) url = base;
  else {
    const trimmed = base.replace(/\/+$/, "");
    url = trimmed.endsWith(`/v1/${signal}`) ? trimmed : `${trimmed}/v1/${signal}`;
  }
  const headers = {
    ...parseHeaders(env("OTEL_EXPORTER_OTLP_HEADERS")),
    ...parseHeaders(env(`OTEL_EXPORTER_OTLP_${S}_HEADERS`)),
    ...cfg?.headers,
  };
  const timeoutMs = cfg?.timeoutMs ?? envNumber(env(`OTEL_EXPORTER_OTLP_${S}_TIMEOUT`)) ??
    envNumber(env("OTEL_EXPORTER_OTLP_TIMEOUT")) ?? 10_000;
  return { protocol, url, headers, timeoutMs };
}

/** OTEL_TRACES_SAMPLER(_ARG) as a ratio; every sampler here is parent-based. */
function envRatio(env: EnvLookup): number | undefined {
  const s = env("OTEL_TRACES_SAMPLER")?.trim().toLowerCase();
  if (!s) return undefined;
  if (s === "always_on" || s === "parentbased_always_on") return 1;
  if (s === "always_off" || s === "parentbased_always_off") return 0;
  if (s === "traceidratio" || s === "parentbased_traceidratio") {
    const arg = envNumber(env("OTEL_TRACES_SAMPLER_ARG"));
    return arg === undefined ? 1 : Math.min(1, arg);
  }
  log.warn("otel: unsupported OTEL_TRACES_SAMPLER, sampling everything", { sampler: s });
  return undefined;
}

function envPropagators(env: EnvLookup): TracePropagatorName[] | undefined {
  const v = env("OTEL_PROPAGATORS");
  if (!v) return undefined;
  const out: TracePropagatorName[] = [];
  for (const raw of v.split(",")) {
    const name = raw.trim().toLowerCase();
    if (name === "none") return [];
    const hit = TRACE_PROPAGATORS.find((p) => p === name);
    if (hit) out.push(hit);
    else if (name !== "baggage" && name !== "") log.warn("otel: unknown propagator", { name });
  }
  return out;
}

function disabled(env: EnvLookup): boolean {
  return env("OTEL_SDK_DISABLED")?.trim().toLowerCase() === "true";
}

function serviceName(cfg: string | undefined, env: EnvLookup): string {
  return cfg ?? env("OTEL_SERVICE_NAME") ?? "mosn";
}

export function tracingSettings(
  cfg: TracingConfig | undefined,
  env: EnvLookup,
): TracingSettings | undefined {
  if (!cfg?.enable || disabled(env)) return undefined;
  return {
    serviceName: serviceName(cfg.serviceName, env),
    exporter: exporterSettings(cfg.exporter, "traces", env),
    ratio: cfg.sampleRatio ?? envRatio(env) ?? 1,
    propagators: cfg.propagators ?? envPropagators(env) ?? ["tracecontext"],
    batch: {
      maxQueueSize: cfg.maxQueueSize,
      maxExportBatchSize: cfg.maxExportBatchSize,
      scheduledDelayMs: cfg.scheduledDelayMs,
      exportTimeoutMs: cfg.exportTimeoutMs,
    },
  };
}

export function metricsSettings(
  cfg: MetricsConfig,
  env: EnvLookup,
): MetricsSettings | undefined {
  const o = cfg.otel;
  if (!o || disabled(env)) return undefined;
  return {
    serviceName: serviceName(o.serviceName, env),
    exporter: exporterSettings(o.exporter, "metrics", env),
    intervalMs: o.intervalMs ?? envNumber(env("OTEL_METRIC_EXPORT_INTERVAL")) ?? 60_000,
  };
}
