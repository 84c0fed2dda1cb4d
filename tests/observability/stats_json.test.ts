import assert from "node:assert/strict";
import {
  downstreamStats,
  Histogram,
  StatsRegistry,
  upstreamStats,
} from "../../src/observability/stats.ts";
import {
  flattenStats,
  histogramQuantile,
  namespaceOf,
  statsJson,
} from "../../src/observability/stats_json.ts";

Deno.test("namespace joins labels sorted by key as key.value pairs", () => {
  assert.equal(
    namespaceOf({ host: "127.0.0.1:8080", cluster: "c1" }),
    "cluster.c1.host.127.0.0.1:8080",
  );
  assert.equal(
    namespaceOf({ listener: "egress", proxy: "global" }),
    "listener.egress.proxy.global",
  );
  assert.equal(namespaceOf({}), "");
});

Deno.test("stats dump groups by type then namespace with exact decimal-string values", () => {
  const reg = new StatsRegistry();
  const ds = downstreamStats(reg, "egress_listener");
  ds.connectionTotal.inc(3);
  ds.connectionActive.set(1);
  const c1 = upstreamStats(reg, { cluster: "c1" });
  c1.connectionTotal.inc(5);
  const h1 = upstreamStats(reg, { cluster: "c1", host: "127.0.0.1:8080" });
  h1.connectionTotal.inc(2);
  h1.connectionConFail.inc();

  const dump = statsJson(reg);
  assert.deepEqual(Object.keys(dump), ["downstream", "upstream"]);
  const listener = dump["downstream"]!["listener.egress_listener.proxy.global"]!;
  assert.equal(listener["connection_total"], "3");
  assert.equal(listener["connection_active"], "1");
  assert.equal(listener["bytes_read_total"], "0");
  assert.deepEqual(Object.keys(dump["upstream"]!), [
    "cluster.c1",
    "cluster.c1.host.127.0.0.1:8080",
  ]);
  assert.equal(dump["upstream"]!["cluster.c1"]!["connection_total"], "5");
  assert.equal(dump["upstream"]!["cluster.c1.host.127.0.0.1:8080"]!["connection_total"], "2");
  assert.equal(dump["upstream"]!["cluster.c1.host.127.0.0.1:8080"]!["connection_con_fail"], "1");
  // metric names sorted
  const names = Object.keys(listener);
  assert.deepEqual(names, [...names].sort());
});

Deno.test("stats dump filters by type", () => {
  const reg = new StatsRegistry();
  downstreamStats(reg, "l1").connectionTotal.inc();
  upstreamStats(reg, { cluster: "c1" }).connectionTotal.inc();
  assert.deepEqual(Object.keys(statsJson(reg, { types: ["downstream"] })), ["downstream"]);
  assert.deepEqual(statsJson(reg, { types: ["nope"] }), {});
  assert.deepEqual(Object.keys(statsJson(reg, { types: [] })), ["downstream", "upstream"]);
});

Deno.test("histograms dump count, sum, p50 and p99 estimated from buckets", () => {
  const reg = new StatsRegistry();
  const h = reg.scope("downstream", { listener: "l" }).histogram("request_time");
  for (let i = 0; i < 100; i++) h.record(i < 50 ? 3 : 8); // 50 in (2.5,5], 50 in (5,10]
  const m = statsJson(reg)["downstream"]!["listener.l"]!;
  assert.equal(m["request_time.count"], "100");
  assert.equal(m["request_time.sum"], "550");
  assert.equal(m["request_time.p50"], "5");
  assert.equal(m["request_time.p99"], "9.9");
});

Deno.test("histogram quantile interpolates inside a bucket and caps overflow at the last bound", () => {
  const h = new Histogram([10, 20]);
  assert.equal(histogramQuantile(h, 0.5), 0);
  h.record(15);
  h.record(15);
  assert.equal(histogramQuantile(h, 0.5), 15);
  assert.equal(histogramQuantile(h, 1), 20);
  const over = new Histogram([10]);
  over.record(100);
  assert.equal(histogramQuantile(over, 0.99), 10);
});

Deno.test("flattened stats read type.namespace.metric", () => {
  const reg = new StatsRegistry();
  upstreamStats(reg, { cluster: "c1" }).connectionTotal.inc(7);
  reg.scope("server", {}).gauge("uptime").set(4);
  const flat = new Map(flattenStats(statsJson(reg)));
  assert.equal(flat.get("upstream.cluster.c1.connection_total"), "7");
  assert.equal(flat.get("server.uptime"), "4");
});
