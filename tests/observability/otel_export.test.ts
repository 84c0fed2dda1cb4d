import assert from "node:assert/strict";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { origin } from "../_support/http.ts";
import { freePort } from "../_support/net.ts";
import { startOtlpGrpcReceiver, startOtlpHttpReceiver } from "../_support/otlp.ts";
import { startTraced, tracedHttpDoc } from "./_otel_fixtures.ts";

interface PromFamily {
  name: string;
  help: string;
  type: string;
  metrics: { labels?: Record<string, string>; value?: string; count?: string }[];
}

async function tracingStats(adminPort: number): Promise<Record<string, string>> {
  const s = await (await fetch(`http://127.0.0.1:${adminPort}/api/v1/stats`)).json();
  // A scope without labels is listed under its type alone.
  const t = s.tracing ?? {};
  return (Object.values(t)[0] ?? {}) as Record<string, string>;
}

async function hammer(port: number, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const r = await fetch(`http://127.0.0.1:${port}/x${i}`);
    assert.equal(r.status, 200);
    assert.equal(await r.text(), "hello");
  }
}

Deno.test("otel: collector down — full service, every span counted as dropped or failed", async () => {
  const o = origin(() => new Response("hello"));
  const p = await startTraced(
    tracedHttpDoc({
      service: "down",
      upstream: o.address,
      collector: `http://127.0.0.1:${freePort()}`,
      timeout: "300ms",
      batch: { max_queue_size: 4, max_export_batch_size: 2, export_timeout: "500ms" },
    }),
    { admin: true },
  );
  try {
    await hammer(p.listenerPort("http"), 30);
    await p.telemetry.forceFlush();
    const t = await tracingStats(p.adminPort);
    const lost = Number(t.span_dropped ?? 0) + Number(t.span_export_failed ?? 0);
    assert.equal(Number(t.span_exported ?? 0), 0);
    assert.equal(lost, 60, `2 spans per request, all lost and counted: ${JSON.stringify(t)}`);
    assert.ok(Number(t.export_failed) >= 1);
  } finally {
    await p.stop("fast");
    await o.close();
  }
});

Deno.test("otel: collector answering 503 — full service, failed exports counted", async () => {
  const collector = startOtlpHttpReceiver();
  collector.failWith = 503;
  const o = origin(() => new Response("hello"));
  const p = await startTraced(
    tracedHttpDoc({
      service: "busy",
      upstream: o.address,
      collector: collector.url,
      timeout: "300ms",
      batch: { max_queue_size: 8, max_export_batch_size: 4 },
    }),
    { admin: true },
  );
  try {
    await hammer(p.listenerPort("http"), 20);
    await p.telemetry.forceFlush();
    const t = await tracingStats(p.adminPort);
    assert.ok(collector.requests >= 1, "the collector was asked");
    assert.equal(collector.spans.length, 0);
    assert.equal(Number(t.span_exported ?? 0), 0);
    assert.equal(Number(t.span_dropped ?? 0) + Number(t.span_export_failed ?? 0), 40);
    // The collector recovers: new spans go through.
    collector.failWith = 0;
    await hammer(p.listenerPort("http"), 1);
    await p.telemetry.forceFlush();
    assert.equal(collector.spans.length, 2);
    assert.equal(Number((await tracingStats(p.adminPort)).span_exported), 2);
  } finally {
    await p.stop("fast");
    await o.close();
    await collector.close();
  }
});

Deno.test("otel: spans over OTLP/gRPC reach a grpc-js collector", async () => {
  const collector = await startOtlpGrpcReceiver();
  const o = origin(() => new Response("hello"));
  const p = await startTraced(tracedHttpDoc({
    service: "grpc-export",
    upstream: o.address,
    collector: collector.url,
    protocol: "grpc",
  }));
  try {
    await hammer(p.listenerPort("http"), 1);
    await p.telemetry.forceFlush();
    const spans = await collector.waitSpans(2);
    assert.deepEqual(spans.map((s) => s.kind).sort(), [2, 3]);
    assert.equal(spans[0]!.service, "grpc-export");
  } finally {
    await p.stop("fast");
    await o.close();
    await collector.close();
  }
});

for (const protocol of ["http/protobuf", "grpc"] as const) {
  Deno.test(`otel: after N requests the OTLP metrics (${protocol}) carry N, as /api/v1/stats and /stats/prometheus do`, async () => {
    const collector = protocol === "grpc" ? await startOtlpGrpcReceiver() : startOtlpHttpReceiver();
    const o = origin(() => new Response("hello"));
    const p = await startTraced(
      tracedHttpDoc({
        service: "metrics",
        upstream: o.address,
        collector: collector.url,
        ratio: 0,
        metrics: {
          sinks: [{
            type: "otel",
            config: { exporter: { protocol, endpoint: collector.url }, interval: "1h" },
          }],
        },
      }),
      { admin: true },
    );
    const N = 7;
    try {
      await hammer(p.listenerPort("http"), N);
      await p.telemetry.forceFlush();
      const points = collector.metricExports.at(-1);
      assert.ok(points, "a metrics export arrived");
      const find = (metric: string, attrs: Record<string, string>) =>
        points.find((x) =>
          x.metric === metric &&
          Object.entries(attrs).every(([k, v]) => x.attributes[k] === v) &&
          Object.keys(x.attributes).length === Object.keys(attrs).length
        );
      const down = { listener: "http", proxy: "global" };
      assert.equal(find("mosn.downstream.request_total", down)?.value, N);
      assert.equal(find("mosn.downstream.request_total", down)?.kind, "sum");
      assert.equal(find("mosn.downstream.request_200_total", down)?.value, N);
      assert.equal(find("mosn.downstream.request_time", down)?.value, N, "histogram count");
      assert.equal(find("mosn.downstream.request_active", down)?.kind, "gauge");
      assert.equal(find("mosn.upstream.request_total", { cluster: "next" })?.value, N);
      assert.equal(find("mosn.downstream.connection_total", down)?.kind, "sum");
      assert.ok(find("mosn.upstream.bytes_read_total", { cluster: "next" }));
      const route = { listener: "http", protocol: "HTTP/1.1", route: "/", cluster: "next" };
      assert.equal(find("mosn.proxy.request_total", route)?.value, N);
      assert.equal(find("mosn.proxy.response_2xx_total", route)?.value, N);
      assert.equal(find("mosn.proxy.response_5xx_total", route)?.value, 0);
      assert.equal(find("mosn.proxy.request_time", route)?.kind, "histogram");

      const admin = `http://127.0.0.1:${p.adminPort}`;
      const stats = await (await fetch(`${admin}/api/v1/stats`)).json();
      assert.equal(stats.downstream["listener.http.proxy.global"].request_total, String(N));
      assert.equal(stats.upstream["cluster.next"].request_total, String(N));

      const text = await (await fetch(`${admin}/stats/prometheus`)).text();
      const families = parsePrometheusTextFormat(text) as PromFamily[];
      const fam = families.find((f) => f.name === "mosn_downstream_request_total");
      assert.ok(fam);
      const sample = fam.metrics.find((m) => m.labels?.listener === "http");
      assert.equal(sample?.value, String(N));
      // Every metric family has HELP and TYPE.
      for (const f of families) {
        assert.ok(f.help && f.help.length > 0, `HELP for ${f.name}`);
        assert.ok(["COUNTER", "GAUGE", "HISTOGRAM"].includes(f.type), `TYPE for ${f.name}`);
      }
      const typed = new Set(
        text.split("\n").filter((l) => l.startsWith("# TYPE ")).map((l) => l.split(" ")[2]),
      );
      const helped = new Set(
        text.split("\n").filter((l) => l.startsWith("# HELP ")).map((l) => l.split(" ")[2]),
      );
      assert.deepEqual(helped, typed);
      assert.equal(typed.size, families.length);
    } finally {
      await p.stop("fast");
      await o.close();
      await collector.close();
    }
  });
}
