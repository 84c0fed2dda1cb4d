import assert from "node:assert/strict";
import { downstreamStats, StatsRegistry, upstreamStats } from "../../src/observability/stats.ts";
import {
  escapeLabelValue,
  PROMETHEUS_CONTENT_TYPE,
  renderPrometheus,
} from "../../src/observability/prometheus.ts";
import { parsePrometheus } from "./_prometheus_checker.ts";
import { h2Origin } from "../_support/h2.ts";
import { startOtlpHttpReceiver } from "../_support/otlp.ts";
import { curl, pki, serverTls } from "../_support/tls.ts";
import { startTraced, tracedHttpDoc } from "./_otel_fixtures.ts";

function populated(): StatsRegistry {
  const reg = new StatsRegistry();
  const ds = downstreamStats(reg, "egress_listener");
  ds.connectionTotal.inc(3);
  ds.connectionActive.set(2);
  ds.connectionDestroy.inc(1);
  upstreamStats(reg, { cluster: "c1" }).connectionTotal.inc(5);
  upstreamStats(reg, { cluster: "c1", host: "127.0.0.1:8080" }).connectionTotal.inc(2);
  const h = reg.scope("downstream", { listener: "egress_listener", proxy: "global" })
    .histogram("request_time");
  h.record(0.2);
  h.record(7);
  h.record(99999); // above every bucket: only +Inf
  return reg;
}

Deno.test("prometheus output parses strictly, with HELP and TYPE once per family", () => {
  const text = renderPrometheus(populated());
  const families = parsePrometheus(text);
  const helps = text.split("\n").filter((l) => l.startsWith("# HELP "));
  const types = text.split("\n").filter((l) => l.startsWith("# TYPE "));
  assert.equal(helps.length, families.size);
  assert.equal(types.length, families.size);
  for (const name of families.keys()) assert.match(name, /^mosn_(downstream|upstream)_/);
});

Deno.test("counters keep one _total suffix and carry exact values with scope labels", () => {
  const families = parsePrometheus(renderPrometheus(populated()));
  const total = families.get("mosn_upstream_connection_total")!;
  assert.equal(total.type, "counter");
  assert.deepEqual(total.samples.map((s) => [s.labels, s.value]), [
    [{ cluster: "c1" }, 5],
    [{ cluster: "c1", host: "127.0.0.1:8080" }, 2],
  ]);
  assert.ok(!families.has("mosn_upstream_connection_total_total"));
  const destroy = families.get("mosn_downstream_connection_destroy_total")!;
  assert.equal(destroy.type, "counter");
  assert.deepEqual(destroy.samples[0]!.labels, { listener: "egress_listener", proxy: "global" });
  assert.equal(destroy.samples[0]!.value, 1);
  const active = families.get("mosn_downstream_connection_active")!;
  assert.equal(active.type, "gauge");
  assert.equal(active.samples[0]!.value, 2);
});

Deno.test("histograms expose cumulative buckets, +Inf, sum and count", () => {
  const fam = parsePrometheus(renderPrometheus(populated())).get("mosn_downstream_request_time")!;
  assert.equal(fam.type, "histogram");
  const bucket = (le: string) =>
    fam.samples.find((s) => s.name.endsWith("_bucket") && s.labels["le"] === le)!.value;
  assert.equal(bucket("0.5"), 1);
  assert.equal(bucket("10"), 2);
  assert.equal(bucket("60000"), 2);
  assert.equal(bucket("+Inf"), 3);
  assert.equal(fam.samples.find((s) => s.name.endsWith("_count"))!.value, 3);
  assert.equal(fam.samples.find((s) => s.name.endsWith("_sum"))!.value, 0.2 + 7 + 99999);
});

Deno.test("label values are escaped and names sanitized", () => {
  const reg = new StatsRegistry();
  const weird = 'a"b\\c\nd';
  reg.scope("up-stream", { "cluster.name": weird }).counter("req.count").inc(4);
  const text = renderPrometheus(reg);
  assert.ok(text.includes(`{cluster_name="${escapeLabelValue(weird)}"} 4\n`));
  assert.ok(text.includes('a\\"b\\\\c\\nd'));
  const fam = parsePrometheus(text).get("mosn_up_stream_req_count_total")!;
  assert.equal(fam.samples[0]!.labels["cluster_name"], weird);
});

Deno.test("output is deterministic whatever the scope creation order", () => {
  const a = new StatsRegistry();
  a.scope("upstream", { cluster: "b" }).counter("x_total").inc();
  a.scope("upstream", { cluster: "a" }).counter("x_total").inc(2);
  a.scope("downstream", { listener: "l" }).gauge("g").set(1);
  const b = new StatsRegistry();
  b.scope("downstream", { listener: "l" }).gauge("g").set(1);
  b.scope("upstream", { cluster: "a" }).counter("x_total").inc(2);
  b.scope("upstream", { cluster: "b" }).counter("x_total").inc();
  assert.equal(renderPrometheus(a), renderPrometheus(b));
  const lines = renderPrometheus(a).split("\n");
  assert.ok(
    lines.indexOf('mosn_upstream_x_total{cluster="a"} 2') <
      lines.indexOf('mosn_upstream_x_total{cluster="b"} 1'),
  );
});

Deno.test("a name shared by two kinds still gives one TYPE per family", () => {
  const reg = new StatsRegistry();
  reg.scope("t", { a: "1" }).counter("n_total").inc();
  reg.scope("t", { a: "2" }).gauge("n_total").set(3);
  const families = parsePrometheus(renderPrometheus(reg));
  assert.equal(families.get("mosn_t_n_total")!.type, "counter");
  assert.equal(families.get("mosn_t_n_total_gauge")!.type, "gauge");
});

Deno.test("an empty registry renders nothing; content type is 0.0.4", () => {
  assert.equal(renderPrometheus(new StatsRegistry()), "");
  assert.equal(PROMETHEUS_CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
});

Deno.test("the checker rejects malformed expositions", () => {
  const bad = [
    "mosn_x_total 1\n", // sample without HELP/TYPE
    "# HELP a h\n# TYPE a gauge\na 1\n# HELP a h\n# TYPE a gauge\na 2\n", // family twice
    '# HELP a h\n# TYPE a gauge\na{l="x\ty\\q"} 1\n', // bad escape
    "# HELP a_total h\n# TYPE a_total counter\na_total one\n", // bad value
    "# HELP a h\n# TYPE a counter\na 1\n", // counter without _total
    "# HELP a h\n# TYPE a gauge\na 1", // no final newline
  ];
  for (const text of bad) assert.throws(() => parsePrometheus(text), text);
});

/**
 * One running proxy that exercises every stats family at once: an mTLS listener speaking
 * HTTP/2 (tls_*, http2_* downstream), an h2c upstream (http2_* upstream, upstream_*), per-route
 * proxy_* stats, tracing_* (spans exported) and OTLP metrics. The strict parser demands HELP and
 * TYPE before every family's samples; and the TLS handshake counters are the same number in the
 * three views of the one registry (OTLP metrics, /api/v1/stats, /stats/prometheus).
 */
Deno.test("a proxy with HTTP/2, mTLS, tracing and OTLP metrics: every family has HELP and TYPE; TLS counters agree in all three views", async () => {
  const collector = startOtlpHttpReceiver();
  const up = await h2Origin((stream) => {
    stream.respond({ ":status": 200 });
    stream.end("h2");
  });
  const doc = tracedHttpDoc({
    service: "families",
    upstream: up.address,
    collector: collector.url,
    proxy: { downstream_protocol: "Http2", upstream_protocol: "Http2" },
    metrics: {
      sinks: [{
        type: "otel",
        config: {
          exporter: { protocol: "http/protobuf", endpoint: collector.url },
          interval: "1h",
        },
      }],
    },
  });
  // deno-lint-ignore no-explicit-any
  (doc as any).servers[0].listeners[0].filter_chains[0].tls_context = serverTls("a", {
    ca_cert: pki("ca.pem"),
    verify_client: true,
    alpn: "h2",
  });
  const p = await startTraced(doc, { admin: true });
  await p.listening();
  const port = p.listenerPort("http");
  const base = [
    "--http2",
    "--cacert",
    pki("ca.pem"),
    "--resolve",
    `a.example.com:${port}:127.0.0.1`,
  ];
  const url = `https://a.example.com:${port}/x`;
  const N = 3;
  try {
    for (let i = 0; i < N; i++) {
      const r = await curl([...base, "--cert", pki("client.pem"), "--key", pki("client.key"), url]);
      assert.equal(r.stdout, "h2", r.stderr);
    }
    const refused = await curl([...base, url]); // no client certificate
    assert.notEqual(refused.code, 0);
    await p.telemetry.forceFlush();
    await collector.waitSpans(2 * N);
    await p.telemetry.forceFlush(); // the tracing counters now count the exported spans

    const admin = `http://127.0.0.1:${p.adminPort}`;
    const text = await (await fetch(`${admin}/stats/prometheus`)).text();
    const families = parsePrometheus(text); // throws on a sample without HELP/TYPE before it
    const helps = text.split("\n").filter((l) => l.startsWith("# HELP "));
    const types = text.split("\n").filter((l) => l.startsWith("# TYPE "));
    assert.equal(helps.length, families.size);
    assert.equal(types.length, families.size);
    for (const kind of ["downstream", "upstream", "proxy", "http2", "tls", "tracing"]) {
      assert.ok(
        [...families.keys()].some((n) => n.startsWith(`mosn_${kind}_`)),
        `a mosn_${kind}_* family in:\n${[...families.keys()].join("\n")}`,
      );
    }
    // Every family says what it counts (no generic fallback text).
    const generic = [...families.values()].filter((f) => /^MOSN \w+ metric /.test(f.help));
    assert.deepEqual(generic.map((f) => f.name), [], "families with a generic HELP");
    const sample = (fam: string, labels: Record<string, string>) =>
      families.get(fam)?.samples.find((s) =>
        Object.entries(labels).every(([k, v]) => s.labels[k] === v)
      )?.value;
    const listener = { listener: "http" };
    assert.equal(sample("mosn_tls_handshake_total", listener), N);
    assert.equal(sample("mosn_tls_handshake_failed_total", listener), 1);
    assert.equal(sample("mosn_tls_fail_verify_no_cert_total", listener), 1);
    assert.equal(sample("mosn_http2_stream_total", listener), N);
    assert.equal(sample("mosn_http2_stream_total", { cluster: "next" }), N);
    assert.ok(Number(sample("mosn_tracing_span_exported_total", {})) >= 2 * N);

    const stats = await (await fetch(`${admin}/api/v1/stats`)).json();
    const tlsJson = stats.tls?.["listener.http"] ?? {};
    assert.equal(tlsJson.handshake, String(N));
    assert.equal(tlsJson.handshake_failed, "1");
    assert.equal(tlsJson.fail_verify_no_cert, "1");

    const points = collector.metricExports.at(-1);
    assert.ok(points, "a metrics export arrived");
    const otlp = (metric: string) =>
      points.find((x) => x.metric === metric && x.attributes["listener"] === "http")?.value;
    assert.equal(otlp("mosn.tls.handshake"), N);
    assert.equal(otlp("mosn.tls.handshake_failed"), 1);
    assert.equal(otlp("mosn.tls.fail_verify_no_cert"), 1);
    assert.equal(otlp("mosn.http2.stream_total"), N);
  } finally {
    await p.stop("fast");
    await up.close();
    await collector.close();
  }
});
