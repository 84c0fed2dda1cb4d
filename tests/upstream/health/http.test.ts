import assert from "node:assert/strict";
import { StatsRegistry } from "../../../src/observability/stats.ts";
import type { HostImpl } from "../../../src/upstream/host.ts";
import { startHealthChecker } from "../../../src/upstream/health/health_checker.ts";
import { httpCheckRequest, statusExpected } from "../../../src/upstream/health/http.ts";
import { HealthFlag } from "../../../src/upstream/types.ts";
import { hcConfig, hcStat, listen, makeCluster, readN, waitFor } from "./_helpers.ts";

const FAC = HealthFlag.FailedActiveHealthCheck;

Deno.test("http: expected statuses are [start, end) ranges", () => {
  const ranges = [[200, 300], [404, 405]] as const;
  assert.equal(statusExpected(200, ranges), true);
  assert.equal(statusExpected(299, ranges), true);
  assert.equal(statusExpected(300, ranges), false);
  assert.equal(statusExpected(404, ranges), true);
  assert.equal(statusExpected(503, ranges), false);
});

Deno.test("http: the request line, Host and User-Agent are as configured", () => {
  const stats = new StatsRegistry();
  const cluster = makeCluster(stats, ["127.0.0.1:8080"]);
  const h = cluster.hosts[0]!;
  const dec = new TextDecoder();
  assert.equal(
    dec.decode(httpCheckRequest(h, hcConfig({ method: "HEAD", path: "/ping", host: "svc" }))),
    "HEAD /ping HTTP/1.1\r\nHost: svc\r\nUser-Agent: mosn-health-check\r\nConnection: close\r\n\r\n",
  );
  assert.match(
    dec.decode(httpCheckRequest(h, hcConfig())),
    /^GET \/ HTTP\/1\.1\r\nHost: 127\.0\.0\.1:8080\r\n/,
  );
});

Deno.test("http: 503 marks the host unhealthy, 200 healthy again; path and Host as configured", async () => {
  let status = 503;
  const seen: { path: string; host: string | null; ua: string | null; method: string }[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const u = new URL(req.url);
    seen.push({
      path: u.pathname + u.search,
      host: req.headers.get("host"),
      ua: req.headers.get("user-agent"),
      method: req.method,
    });
    return new Response(status === 200 ? "ok" : "down", { status });
  });
  const stats = new StatsRegistry();
  const cluster = makeCluster(stats, [`127.0.0.1:${server.addr.port}`], "web");
  const host = cluster.hosts[0] as HostImpl;
  const hc = startHealthChecker(
    cluster,
    hcConfig({
      protocol: "http",
      intervalMs: 50,
      unhealthyThreshold: 2,
      path: "/healthz?full=1",
      host: "backend.example",
      expectedStatuses: [[200, 300]],
    }),
    { stats },
  );
  try {
    await waitFor(() => !host.healthy, 2000, "unhealthy on 503");
    assert.equal(host.healthReasons.get(FAC), "status 503");
    assert.ok(seen.length >= 2);
    assert.deepEqual(seen[0], {
      path: "/healthz?full=1",
      host: "backend.example",
      ua: "mosn-health-check",
      method: "GET",
    });
    assert.equal(hcStat(stats, "web", "network_failure"), 0, "a bad status is no network failure");
    assert.ok(hcStat(stats, "web", "failure") >= 2);

    status = 200;
    await waitFor(() => host.healthy, 2000, "healthy on 200");
    assert.ok(hcStat(stats, "web", "success") >= 1);
    assert.equal(hcStat(stats, "web", "healthy"), 1);
  } finally {
    hc.close();
    await hc.settled();
    await server.shutdown();
  }
});

Deno.test("http: a server that never answers fails the check as a timeout", async () => {
  let requests = 0;
  const server = listen(async (c) => {
    if (await readN(c, 16)) requests++;
    const buf = new Uint8Array(1024);
    while (await c.read(buf) !== null) {
      // swallow the request; answer nothing until the checker gives up and closes
    }
  });
  const stats = new StatsRegistry();
  const cluster = makeCluster(stats, [`127.0.0.1:${server.port}`], "mute");
  const host = cluster.hosts[0] as HostImpl;
  const hc = startHealthChecker(
    cluster,
    hcConfig({ protocol: "http", timeoutMs: 60, intervalMs: 20, unhealthyThreshold: 1 }),
    { stats },
  );
  try {
    const t0 = performance.now();
    await waitFor(() => !host.healthy, 2000, "unhealthy");
    assert.ok(performance.now() - t0 < 60 + 200);
    assert.equal(host.healthReasons.get(FAC), "timeout");
    assert.ok(requests >= 1);
    assert.equal(hcStat(stats, "mute", "network_failure"), hcStat(stats, "mute", "failure"));
  } finally {
    hc.close();
    await hc.settled();
    await server.close();
  }
});

Deno.test("http: a non-HTTP answer is a failure, not a network failure", async () => {
  const server = listen(async (c) => {
    await readN(c, 16);
    await c.write(new TextEncoder().encode("SSH-2.0-OpenSSH\r\n\r\n"));
  });
  const stats = new StatsRegistry();
  const cluster = makeCluster(stats, [`127.0.0.1:${server.port}`], "junk");
  const host = cluster.hosts[0] as HostImpl;
  const hc = startHealthChecker(
    cluster,
    hcConfig({ protocol: "http", intervalMs: 20, unhealthyThreshold: 1 }),
    { stats },
  );
  try {
    await waitFor(() => !host.healthy, 2000, "unhealthy");
    assert.match(host.healthReasons.get(FAC)!, /^bad response: /);
    assert.equal(hcStat(stats, "junk", "network_failure"), 0);
  } finally {
    hc.close();
    await hc.settled();
    await server.close();
  }
});
