import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/parse.ts";
import { ConfigError } from "../../src/common/errors.ts";
import { PARSE_OPTIONS } from "../../src/server/parse_options.ts";
import { metricsSettings, tracingSettings } from "../../src/observability/otel/settings.ts";
import { Telemetry } from "../../src/observability/otel/telemetry.ts";
import { StatsRegistry } from "../../src/observability/stats.ts";
import { httpDoc, simpleRouter } from "../_support/http.ts";

function doc(extra: Record<string, unknown>): Record<string, unknown> {
  return {
    ...httpDoc({
      clusters: [{ name: "c", hosts: [{ address: "127.0.0.1:1" }] }],
      routers: [simpleRouter([{ match: { prefix: "/" }, route: { cluster_name: "c" } }])],
    }),
    ...extra,
  };
}

const env = (vars: Record<string, string>) => (k: string) => vars[k];

Deno.test("tracing block: defaults, then OTEL_* variables for what the config leaves out (config wins)", () => {
  const { config, warnings } = parseConfig(
    doc({ tracing: { enable: true, driver: "otel", config: { sample_ratio: 0.25 } } }),
    PARSE_OPTIONS,
  );
  assert.deepEqual(warnings, []);
  const bare = tracingSettings(config.tracing, env({}));
  assert.ok(bare);
  assert.equal(bare.exporter.url, "http://localhost:4318/v1/traces");
  assert.equal(bare.exporter.protocol, "http/protobuf");
  assert.equal(bare.serviceName, "mosn");
  assert.deepEqual(bare.propagators, ["tracecontext"]);
  assert.equal(bare.ratio, 0.25);

  const s = tracingSettings(
    config.tracing,
    env({
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4317",
      OTEL_EXPORTER_OTLP_PROTOCOL: "grpc",
      OTEL_EXPORTER_OTLP_HEADERS: "x-token=abc,x-tenant=t%201",
      OTEL_SERVICE_NAME: "edge",
      OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
      OTEL_TRACES_SAMPLER_ARG: "0.5",
      OTEL_PROPAGATORS: "tracecontext,baggage,b3multi,jaeger",
    }),
  );
  assert.ok(s);
  assert.equal(s.exporter.protocol, "grpc");
  assert.equal(s.exporter.url, "http://collector:4317");
  assert.deepEqual(s.exporter.headers, { "x-token": "abc", "x-tenant": "t 1" });
  assert.equal(s.serviceName, "edge");
  assert.equal(s.ratio, 0.25, "the config's sample_ratio wins over OTEL_TRACES_SAMPLER_ARG");
  assert.deepEqual(s.propagators, ["tracecontext", "b3multi", "jaeger"]);

  assert.equal(
    tracingSettings(
      config.tracing,
      env({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://c:9999/custom" }),
    )?.exporter.url,
    "http://c:9999/custom",
    "a signal endpoint is used as is",
  );
  assert.equal(tracingSettings(config.tracing, env({ OTEL_SDK_DISABLED: "true" })), undefined);
});

Deno.test("tracing off unless enabled; metrics sink with OTEL_METRIC_EXPORT_INTERVAL", () => {
  const { config } = parseConfig(
    doc({
      tracing: { enable: false, driver: "otel" },
      metrics: {
        sinks: [{ type: "prometheus", config: { port: 9090 } }, {
          type: "otel",
          config: { exporter: { endpoint: "http://m:4318/" } },
        }],
        stats_matcher: {},
      },
    }),
    PARSE_OPTIONS,
  );
  assert.equal(config.tracing, undefined);
  assert.equal(tracingSettings(config.tracing, env({})), undefined);
  const m = metricsSettings(config.metrics, env({ OTEL_METRIC_EXPORT_INTERVAL: "5000" }));
  assert.ok(m);
  assert.equal(m.exporter.url, "http://m:4318/v1/metrics");
  assert.equal(m.intervalMs, 5000);
});

Deno.test("malformed tracing and metrics blocks are refused with their JSON paths", () => {
  try {
    parseConfig(
      doc({
        tracing: {
          enable: true,
          driver: "zipkin",
          config: {
            sample_ratio: 2,
            propagators: ["tracecontext", "xray"],
            exporter: { protocol: "http/json", endpoint: "collector:4317", timeout: "soon" },
            batch: { max_queue_size: 10, max_export_batch_size: 20 },
          },
        },
        metrics: { sinks: [{ type: "otel", config: { interval: 5 } }] },
      }),
      PARSE_OPTIONS,
    );
    assert.fail("should have thrown");
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    const paths = e.issues.map((i) => i.path);
    for (
      const p of [
        "tracing.driver",
        "tracing.config.sample_ratio",
        "tracing.config.propagators[1]",
        "tracing.config.exporter.protocol",
        "tracing.config.exporter.endpoint",
        "tracing.config.exporter.timeout",
        "tracing.config.batch.max_export_batch_size",
        "metrics.sinks[0].config.interval",
      ]
    ) {
      assert.ok(paths.includes(p), `${p} in ${JSON.stringify(paths)}`);
    }
  }
});

Deno.test("telemetry off: no SDK, no request tracing", async () => {
  const t = new Telemetry({ metrics: {} }, new StatsRegistry(), env({}));
  await t.ready;
  assert.equal(t.tracing("l1"), undefined);
  assert.equal(t.tracingSettings, undefined);
  assert.equal(t.metricsSettings, undefined);
  await t.forceFlush();
  await t.shutdown();
});
