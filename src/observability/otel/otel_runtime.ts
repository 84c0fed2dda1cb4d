/**
 * The OpenTelemetry SDK side of `Telemetry`, loaded only when tracing or OTLP metrics are
 * configured (it pulls in the SDK, the OTLP exporters and grpc-js, ~10 MB of RSS): a tracer
 * provider (SDK spans, bounded batch export over OTLP HTTP/protobuf or gRPC) and a meter
 * provider whose only source is the stats registry (`RegistryMetricProducer`), pushed over OTLP
 * at an interval.
 */

import { Metadata } from "@grpc/grpc-js";
import { OTLPMetricExporter as GrpcMetricExporter } from "@opentelemetry/exporter-metrics-otlp-grpc";
import { OTLPMetricExporter as ProtoMetricExporter } from "@opentelemetry/exporter-metrics-otlp-proto";
import { OTLPTraceExporter as GrpcTraceExporter } from "@opentelemetry/exporter-trace-otlp-grpc";
import { OTLPTraceExporter as ProtoTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { type Resource, resourceFromAttributes } from "@opentelemetry/resources";
import { MeterProvider, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
import { AlwaysOnSampler, type SpanExporter, TracerProvider } from "@opentelemetry/sdk-trace";
import type { Tracer } from "@opentelemetry/api";
import { VERSION } from "../../version.ts";
import type { StatsRegistry } from "../stats.ts";
import { BoundedBatchSpanProcessor } from "./bounded_processor.ts";
import { RegistryMetricProducer } from "./metrics_producer.ts";
import { type Propagator, propagator } from "./propagation.ts";
import { OtelRequestTracing } from "./request_tracing.ts";
import type { ExporterSettings, MetricsSettings, TracingSettings } from "./settings.ts";
import type { RequestTracing } from "./types.ts";

function resource(serviceName: string): Resource {
  return resourceFromAttributes({
    "service.name": serviceName,
    "service.version": VERSION,
    "telemetry.sdk.language": "js",
  });
}

function grpcMetadata(headers: Readonly<Record<string, string>>): Metadata {
  const m = new Metadata();
  for (const [k, v] of Object.entries(headers)) m.set(k, v);
  return m;
}

function traceExporter(e: ExporterSettings): SpanExporter {
  // The processor runs one export at a time; a limit of 2 leaves room for the exporter's own
  // bookkeeping (with 1, an export right after another can be refused as over the limit).
  if (e.protocol === "grpc") {
    return new GrpcTraceExporter({
      url: e.url,
      timeoutMillis: e.timeoutMs,
      metadata: grpcMetadata(e.headers),
      concurrencyLimit: 2,
    });
  }
  return new ProtoTraceExporter({
    url: e.url,
    timeoutMillis: e.timeoutMs,
    headers: { ...e.headers },
    concurrencyLimit: 2,
  });
}

function metricExporter(e: ExporterSettings): GrpcMetricExporter | ProtoMetricExporter {
  if (e.protocol === "grpc") {
    return new GrpcMetricExporter({
      url: e.url,
      timeoutMillis: e.timeoutMs,
      metadata: grpcMetadata(e.headers),
    });
  }
  return new ProtoMetricExporter({ url: e.url, timeoutMillis: e.timeoutMs, headers: e.headers });
}

export class OtelRuntime {
  readonly #tracingSettings: TracingSettings | undefined;
  readonly #tracerProvider: TracerProvider | undefined;
  readonly #tracer: Tracer | undefined;
  readonly #propagators: readonly Propagator[];
  readonly #meterProvider: MeterProvider | undefined;
  readonly #perListener = new Map<string, RequestTracing>();

  constructor(
    ts: TracingSettings | undefined,
    ms: MetricsSettings | undefined,
    stats: StatsRegistry,
  ) {
    this.#tracingSettings = ts;
    this.#propagators = (ts?.propagators ?? []).map(propagator);
    if (ts) {
      const processor = new BoundedBatchSpanProcessor(
        traceExporter(ts.exporter),
        ts.batch,
        stats.scope("tracing", { driver: "otel" }),
      );
      this.#tracerProvider = new TracerProvider({
        resource: resource(ts.serviceName),
        // Sampling is decided before a span is started (RequestTracing), so the SDK samples on.
        sampler: new AlwaysOnSampler(),
        spanProcessors: [processor],
      });
      this.#tracer = this.#tracerProvider.getTracer("mosn.ts", VERSION);
    }
    if (ms) {
      const reader = new PeriodicExportingMetricReader({
        exporter: metricExporter(ms.exporter),
        exportIntervalMillis: ms.intervalMs,
        exportTimeoutMillis: Math.min(ms.exporter.timeoutMs, ms.intervalMs),
        metricProducers: [new RegistryMetricProducer(stats)],
      });
      this.#meterProvider = new MeterProvider({
        resource: resource(ms.serviceName),
        readers: [reader],
      });
    }
  }

  /** The request tracing of one listener; undefined when tracing is off (the proxy skips it). */
  tracing(listenerName: string): RequestTracing | undefined {
    const ts = this.#tracingSettings;
    if (!this.#tracer || !ts) return undefined;
    let t = this.#perListener.get(listenerName);
    if (!t) {
      t = new OtelRequestTracing(this.#tracer, {
        ratio: ts.ratio,
        propagators: this.#propagators,
        listenerName,
      });
      this.#perListener.set(listenerName, t);
    }
    return t;
  }

  /** Exports every finished span and the current metrics now. */
  async forceFlush(): Promise<void> {
    await Promise.all([this.#tracerProvider?.forceFlush(), this.#meterProvider?.forceFlush()]);
  }

  /** Flushes, then stops the exporters. */
  async shutdown(): Promise<void> {
    await Promise.all([this.#tracerProvider?.shutdown(), this.#meterProvider?.shutdown()]);
  }
}
