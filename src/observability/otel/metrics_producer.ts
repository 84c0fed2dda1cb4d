/**
 * The stats registry as OpenTelemetry metric data: a `MetricProducer` the SDK's metric reader
 * calls at export time, so OTLP export is a third view of the same counters that back
 * `/api/v1/stats` and `/stats/prometheus` (no second set of instruments to keep in step).
 *
 * Names: `mosn.<type>.<metric>` (e.g. `mosn.downstream.request_total`), attributes = the
 * scope's labels. Counters → cumulative monotonic sums; gauges → gauges; histograms →
 * cumulative explicit-bucket histograms (milliseconds) with the registry's boundaries.
 */

import { type Attributes, type HrTime, ValueType } from "@opentelemetry/api";
import { millisToHrTime } from "@opentelemetry/core";
import { emptyResource } from "@opentelemetry/resources";
import {
  AggregationTemporality,
  type CollectionResult,
  type DataPoint,
  DataPointType,
  type Histogram as OtelHistogram,
  type MetricData,
  type MetricProducer,
} from "@opentelemetry/sdk-metrics";
import { VERSION } from "../../version.ts";
import { Counter, Gauge, type Metric, type StatsRegistry } from "../stats.ts";

interface Family {
  kind: "counter" | "gauge" | "histogram";
  points: DataPoint<number>[] | DataPoint<OtelHistogram>[];
}

function kindOf(m: Metric): Family["kind"] {
  return m instanceof Counter ? "counter" : m instanceof Gauge ? "gauge" : "histogram";
}

export class RegistryMetricProducer implements MetricProducer {
  readonly #reg: StatsRegistry;
  readonly #start: HrTime;

  constructor(reg: StatsRegistry, startMs = Date.now()) {
    this.#reg = reg;
    this.#start = millisToHrTime(startMs);
  }

  collect(): Promise<CollectionResult> {
    return Promise.resolve({
      resourceMetrics: {
        // Ignored by the reader: the MeterProvider's resource is used.
        resource: emptyResource(),
        scopeMetrics: [{ scope: { name: "mosn.ts", version: VERSION }, metrics: this.metrics() }],
      },
      errors: [],
    });
  }

  /** The registry's current values as metric data (one entry per `type` + metric name). */
  metrics(): MetricData[] {
    const now = millisToHrTime(Date.now());
    const families = new Map<string, Family>();
    for (const scope of this.#reg.scopes()) {
      const attributes: Attributes = { ...scope.labels };
      for (const [name, m] of scope.metrics) {
        const kind = kindOf(m);
        let key = `mosn.${scope.type}.${name}`;
        let fam = families.get(key);
        // A name used with two kinds (never by the built-ins) keeps one kind per metric.
        if (fam && fam.kind !== kind) {
          key = `${key}.${kind}`;
          fam = families.get(key);
        }
        if (!fam) families.set(key, fam = { kind, points: [] });
        if (m instanceof Counter || m instanceof Gauge) {
          (fam.points as DataPoint<number>[]).push({
            startTime: this.#start,
            endTime: now,
            attributes,
            value: m.value,
          });
        } else {
          // OTLP buckets: one per boundary plus the overflow bucket.
          const counts = [...m.counts];
          let inBounds = 0;
          for (const c of counts) inBounds += c;
          counts.push(m.count - inBounds);
          (fam.points as DataPoint<OtelHistogram>[]).push({
            startTime: this.#start,
            endTime: now,
            attributes,
            value: {
              buckets: { boundaries: [...m.buckets], counts },
              sum: m.sum,
              count: m.count,
            },
          });
        }
      }
    }
    const out: MetricData[] = [];
    for (const [name, f] of families) {
      const descriptor = {
        name,
        description: "",
        unit: f.kind === "histogram" ? "ms" : "",
        valueType: ValueType.DOUBLE,
      };
      if (f.kind === "counter") {
        out.push({
          descriptor,
          aggregationTemporality: AggregationTemporality.CUMULATIVE,
          dataPointType: DataPointType.SUM,
          isMonotonic: true,
          dataPoints: f.points as DataPoint<number>[],
        });
      } else if (f.kind === "gauge") {
        out.push({
          descriptor,
          aggregationTemporality: AggregationTemporality.CUMULATIVE,
          dataPointType: DataPointType.GAUGE,
          dataPoints: f.points as DataPoint<number>[],
        });
      } else {
        out.push({
          descriptor,
          aggregationTemporality: AggregationTemporality.CUMULATIVE,
          dataPointType: DataPointType.HISTOGRAM,
          dataPoints: f.points as DataPoint<OtelHistogram>[],
        });
      }
    }
    return out;
  }
}
