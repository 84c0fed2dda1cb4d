import assert from "node:assert/strict";
import type {
  ClustersResponse,
  ListenersResponse,
  ServerInfoResponse,
  StatsFlatResponse,
} from "../../src/admin/types.ts";
import { PROMETHEUS_CONTENT_TYPE } from "../../src/observability/prometheus.ts";
import { parsePrometheus } from "../observability/_prometheus_checker.ts";
import { HealthFlag } from "../../src/upstream/types.ts";
import { withAdmin } from "./_harness.ts";

Deno.test("GET /ready is 200 LIVE while RUNNING and 503 otherwise", async () => {
  await withAdmin(async ({ src, get }) => {
    const live = await get("/ready");
    assert.equal(live.res.status, 200);
    assert.equal(live.body, "LIVE\n");
    src.currentState = "DRAINING";
    const draining = await get("/ready");
    assert.equal(draining.res.status, 503);
    assert.equal(draining.body, "DRAINING\n");
  });
});

Deno.test("GET /server_info answers version, state, uptime and command line", async () => {
  await withAdmin(async ({ get }) => {
    const info = JSON.parse((await get("/server_info")).body) as ServerInfoResponse;
    assert.deepEqual(info, {
      version: "9.9.9-test",
      state: "RUNNING",
      uptime_seconds: 7,
      start_time: new Date(1_000_000).toISOString(),
      command_line: ["start", "-c", "mosn.json"],
      pid: Deno.pid,
    });
  }, { now: () => 1_007_000 });
});

Deno.test("GET /clusters answers Envoy's cluster::host::stat::value lines", async () => {
  await withAdmin(async ({ src, get }) => {
    const h0 = src.cluster.hosts[0]!;
    h0.stats.connectionActive.set(1);
    h0.stats.connectionTotal.inc(4);
    src.cluster.hosts[1]!.setHealthFlag(HealthFlag.FailedActiveHealthCheck, true, "status 503");
    const { res, body } = await get("/clusters");
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type")!, /^text\/plain/);
    const lines = body.trimEnd().split("\n");
    for (const l of lines) {
      const parts = l.split("::");
      assert.equal(parts[0], "c1", l);
      assert.ok(parts.length === 3 || parts.length === 4, l);
    }
    for (
      const expected of [
        "c1::default_priority::max_connections::100",
        "c1::default_priority::max_retries::3",
        "c1::added_via_api::false",
        "c1::127.0.0.1:8080::cx_active::1",
        "c1::127.0.0.1:8080::cx_total::4",
        "c1::127.0.0.1:8080::rq_active::0",
        "c1::127.0.0.1:8080::health_flags::healthy",
        "c1::127.0.0.1:8080::weight::1",
        "c1::127.0.0.1:8081::health_flags::/failed_active_hc",
        "c1::127.0.0.1:8081::weight::3",
      ]
    ) assert.ok(lines.includes(expected), `missing line ${expected}`);
  });
});

Deno.test("GET /clusters?format=json answers cluster_statuses", async () => {
  await withAdmin(async ({ src, get }) => {
    src.cluster.hosts[0]!.stats.connectionTotal.inc(4);
    src.cluster.hosts[0]!.activeRequests = 2;
    const body = JSON.parse((await get("/clusters?format=json")).body) as ClustersResponse;
    assert.equal(body.cluster_statuses.length, 1);
    const c1 = body.cluster_statuses[0]!;
    assert.equal(c1.name, "c1");
    assert.equal(c1.lb_type, "LB_ROUNDROBIN");
    assert.equal(c1.circuit_breakers.thresholds[0]!.max_connections, 100);
    const h = c1.host_statuses[0]!;
    assert.deepEqual(h.address, { socket_address: { address: "127.0.0.1", port_value: 8080 } });
    assert.equal(h.address_text, "127.0.0.1:8080");
    assert.equal(h.weight, 1);
    assert.deepEqual(h.health_status, {
      eds_health_status: "HEALTHY",
      failed_active_health_check: false,
      failed_outlier_check: false,
    });
    assert.deepEqual(h.stats.find((s) => s.name === "cx_total"), {
      name: "cx_total",
      type: "COUNTER",
      value: 4,
    });
    assert.deepEqual(h.stats.find((s) => s.name === "rq_active"), {
      name: "rq_active",
      type: "GAUGE",
      value: 2,
    });
    assert.deepEqual(h.health_flags, []);
    assert.deepEqual(h.health_reasons, {});
  });
});

Deno.test("GET /clusters shows every health flag and, in JSON, the reasons", async () => {
  await withAdmin(async ({ src, get }) => {
    const h1 = src.cluster.hosts[1]!;
    h1.setHealthFlag(HealthFlag.FailedActiveHealthCheck, true, "connect refused");
    h1.setHealthFlag(HealthFlag.FailedOutlierCheck, true, "consecutive_5xx");
    const lines = (await get("/clusters")).body.trimEnd().split("\n");
    assert.ok(lines.includes("c1::127.0.0.1:8080::health_flags::healthy"));
    assert.ok(
      lines.includes("c1::127.0.0.1:8081::health_flags::/failed_active_hc/failed_outlier_check"),
    );
    const body = JSON.parse((await get("/clusters?format=json")).body) as ClustersResponse;
    const hs = body.cluster_statuses[0]!.host_statuses[1]!;
    assert.deepEqual(hs.health_flags, ["failed_active_hc", "failed_outlier_check"]);
    assert.deepEqual(hs.health_reasons, {
      failed_active_hc: "connect refused",
      failed_outlier_check: "consecutive_5xx",
    });
    assert.deepEqual(hs.health_status, {
      eds_health_status: "UNHEALTHY",
      failed_active_health_check: true,
      failed_outlier_check: true,
    });

    h1.setHealthFlag(HealthFlag.FailedActiveHealthCheck, false);
    const after = (await get("/clusters")).body.trimEnd().split("\n");
    assert.ok(after.includes("c1::127.0.0.1:8081::health_flags::/failed_outlier_check"));
  });
});

Deno.test("GET /listeners answers name::address lines or listener_statuses", async () => {
  await withAdmin(async ({ get }) => {
    const { body } = await get("/listeners");
    assert.equal(body, "egress_listener::127.0.0.1:2045\nuds::unix:/tmp/mosn.sock\n");
    const json = JSON.parse((await get("/listeners?format=json")).body) as ListenersResponse;
    assert.deepEqual(json.listener_statuses, [
      {
        name: "egress_listener",
        local_address: { socket_address: { address: "127.0.0.1", port_value: 2045 } },
        address: "127.0.0.1:2045",
        accepting: true,
        active_connections: 2,
      },
      {
        name: "uds",
        local_address: { pipe: { path: "/tmp/mosn.sock" } },
        address: "unix:/tmp/mosn.sock",
        accepting: false,
        active_connections: 0,
      },
    ]);
  });
});

Deno.test("GET /stats/prometheus is text format 0.0.4 with HELP/TYPE for every family", async () => {
  await withAdmin(async ({ src, get }) => {
    src.cluster.stats.connectionTotal.inc(5);
    src.stats.scope("downstream", { listener: "egress_listener", proxy: "global" })
      .histogram("request_time").record(3);
    const { res, body } = await get("/stats/prometheus");
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), PROMETHEUS_CONTENT_TYPE);
    const families = parsePrometheus(body);
    assert.equal(body.split("\n").filter((l) => l.startsWith("# TYPE ")).length, families.size);
    const total = families.get("mosn_upstream_connection_total")!;
    assert.deepEqual(
      total.samples.find((s) => s.labels["cluster"] === "c1" && !("host" in s.labels))!.value,
      5,
    );
    assert.equal(families.get("mosn_downstream_request_time")!.type, "histogram");
  });
});

Deno.test("GET /stats answers name: value lines, filterable, or JSON", async () => {
  await withAdmin(async ({ src, get }) => {
    src.cluster.stats.connectionTotal.inc(6);
    const { res, body } = await get("/stats");
    assert.equal(res.status, 200);
    const lines = body.trimEnd().split("\n");
    for (const l of lines) assert.match(l, /^[^:\s][^\s]*: -?[\d.]+$/);
    assert.ok(lines.includes("upstream.cluster.c1.connection_total: 6"));
    assert.ok(lines.includes("upstream.cluster.c1.host.127.0.0.1:8080.connection_total: 0"));

    const filtered =
      (await get("/stats?filter=" + encodeURIComponent("^upstream\\.cluster\\.c1\\.conn")))
        .body;
    assert.ok(
      filtered.trimEnd().split("\n").every((l) => l.startsWith("upstream.cluster.c1.conn")),
    );
    assert.ok(filtered.includes("upstream.cluster.c1.connection_total: 6\n"));

    const bad = await get("/stats?filter=" + encodeURIComponent("("));
    assert.equal(bad.res.status, 400);
    assert.match(JSON.parse(bad.body).error, /invalid filter regex/);

    const json = JSON.parse((await get("/stats?format=json")).body) as StatsFlatResponse;
    assert.deepEqual(
      json.stats.find((s) => s.name === "upstream.cluster.c1.connection_total"),
      { name: "upstream.cluster.c1.connection_total", value: "6" },
    );
  });
});
