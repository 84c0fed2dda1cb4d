import assert from "node:assert/strict";
import { StatsRegistry } from "../../../src/observability/stats.ts";
import { ClusterManagerImpl } from "../../../src/upstream/cluster_manager.ts";
import { startHealthChecker } from "../../../src/upstream/health/health_checker.ts";
import type { HostImpl } from "../../../src/upstream/host.ts";
import { HealthFlag } from "../../../src/upstream/types.ts";
import {
  clusterConfig,
  hcConfig,
  hcStat,
  listen,
  makeCluster,
  readN,
  sleep,
  waitFor,
} from "./_helpers.ts";

const FAC = HealthFlag.FailedActiveHealthCheck;

function refusedPort(): number {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  return port;
}

Deno.test("cluster manager: a cluster with health_check gets a checker; updates keep the flag", async () => {
  const stats = new StatsRegistry();
  const port = refusedPort();
  const cfg = clusterConfig(
    "managed",
    [`127.0.0.1:${port}`],
    hcConfig({
      intervalMs: 20,
      unhealthyThreshold: 1,
    }),
  );
  const cm = new ClusterManagerImpl([cfg], stats);
  try {
    const first = cm.get("managed")!;
    await waitFor(() => !first.hosts[0]!.healthy, 2000, "unhealthy via the manager");
    assert.ok(hcStat(stats, "managed", "attempt") >= 1);

    const next = cm.addOrUpdate(cfg);
    assert.notEqual(next, first);
    assert.equal(next.hosts[0]!.healthFlags & FAC, FAC, "flag carried over");
    assert.equal(hcStat(stats, "managed", "healthy"), 0);
    await waitFor(
      () => (next.hosts[0] as HostImpl).healthReasons.get(FAC) === "connect refused",
      2000,
      "the new checker runs",
    );
  } finally {
    cm.close();
    await sleep(30); // aborted connects settle
  }
});

Deno.test("a newer checker of the same cluster name and registry stops the older one", async () => {
  const server = listen();
  const stats = new StatsRegistry();
  const old = makeCluster(stats, [`127.0.0.1:${server.port}`], "same");
  const replacement = makeCluster(stats, [`127.0.0.1:${server.port}`], "same");
  const other = makeCluster(new StatsRegistry(), [`127.0.0.1:${server.port}`], "same");
  const a = startHealthChecker(old, hcConfig(), { stats });
  const c = startHealthChecker(other, hcConfig(), { stats: new StatsRegistry() });
  const b = startHealthChecker(replacement, hcConfig(), { stats });
  try {
    assert.equal(a.closed, true);
    assert.equal(b.closed, false);
    assert.equal(c.closed, false, "another registry is another proxy");
  } finally {
    for (const x of [a, b, c]) x.close();
    await Promise.all([a.settled(), b.settled(), c.settled()]);
    await server.close();
  }
});

Deno.test("close() during a check closes its socket at once, long before the timeout", async () => {
  let requestSeen = false;
  let peerClosed = false;
  const server = listen(async (c) => {
    await readN(c, 16);
    requestSeen = true;
    const buf = new Uint8Array(1024);
    while (await c.read(buf) !== null) { /* never answer */ }
    peerClosed = true;
  });
  const stats = new StatsRegistry();
  const cluster = makeCluster(stats, [`127.0.0.1:${server.port}`], "slow");
  const hc = startHealthChecker(cluster, hcConfig({ protocol: "http", timeoutMs: 10_000 }), {
    stats,
  });
  cluster.attach(hc);
  try {
    await waitFor(() => requestSeen, 2000, "request sent");
    const t0 = performance.now();
    cluster.close();
    await hc.settled();
    await waitFor(() => peerClosed, 1000, "socket closed");
    assert.ok(performance.now() - t0 < 1000);
    assert.equal(hcStat(stats, "slow", "failure"), 0, "an aborted check is not counted");
    assert.equal(cluster.hosts[0]!.healthy, true);
  } finally {
    hc.close();
    await server.close();
  }
});
