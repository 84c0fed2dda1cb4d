import assert from "node:assert/strict";
import { log } from "../../../src/common/logger.ts";
import { StatsRegistry } from "../../../src/observability/stats.ts";
import type { HostImpl } from "../../../src/upstream/host.ts";
import {
  type HealthEvent,
  startHealthChecker,
} from "../../../src/upstream/health/health_checker.ts";
import { HealthFlag } from "../../../src/upstream/types.ts";
import { hcConfig, hcStat, listen, makeCluster, sleep, waitFor } from "./_helpers.ts";

const FAC = HealthFlag.FailedActiveHealthCheck;

Deno.test("tcp: unhealthy within interval × unhealthy_threshold after the listener closes, healthy when it is back", async () => {
  let server = listen();
  const port = server.port;
  const stats = new StatsRegistry();
  const cluster = makeCluster(stats, [`127.0.0.1:${port}`]);
  const host = cluster.hosts[0] as HostImpl;
  const events: HealthEvent[] = [];
  const cfg = hcConfig({ protocol: "tcp", intervalMs: 100, unhealthyThreshold: 2 });
  const hc = startHealthChecker(cluster, cfg, { stats, onEvent: (e) => events.push(e) });
  cluster.attach(hc);
  try {
    await waitFor(() => hcStat(stats, "hc", "success") >= 2, 2000, "two successes");
    assert.equal(host.healthy, true);
    assert.equal(hcStat(stats, "hc", "healthy"), 1);

    await server.close();
    const down = performance.now();
    await waitFor(() => !host.healthy, 2000, "host unhealthy");
    const took = performance.now() - down;
    // At most one interval to the next check, then one more: 2 × 100 ms, plus scheduling slack.
    assert.ok(took <= 100 * 2 + 150, `took ${took} ms`);
    assert.equal(host.healthFlags & FAC, FAC);
    assert.equal(host.healthReasons.get(FAC), "connect refused");
    assert.equal(hcStat(stats, "hc", "healthy"), 0);
    assert.ok(hcStat(stats, "hc", "failure") >= 2);
    assert.ok(hcStat(stats, "hc", "network_failure") >= 2);

    server = listen(undefined, port);
    const up = performance.now();
    await waitFor(() => host.healthy, 2000, "host healthy again");
    assert.ok(performance.now() - up <= 100 + 150, "healthy_threshold 1: the next check");
    assert.equal(hcStat(stats, "hc", "healthy"), 1);
    assert.equal(host.healthReasons.size, 0);

    assert.deepEqual(
      events.map((e) => [e.cluster, e.host, e.healthy, e.flag, e.reason]),
      [
        ["hc", `127.0.0.1:${port}`, false, "failed_active_hc", "connect refused"],
        ["hc", `127.0.0.1:${port}`, true, "failed_active_hc", "check succeeded"],
      ],
    );
    // Every finished attempt is a success or a failure; one may still be in flight.
    const attempts = hcStat(stats, "hc", "attempt");
    const finished = hcStat(stats, "hc", "success") + hcStat(stats, "hc", "failure");
    assert.ok(attempts === finished || attempts === finished + 1, `${attempts} vs ${finished}`);
  } finally {
    cluster.close();
    await hc.settled();
    await server.close();
  }
});

Deno.test("tcp: healthy_threshold successes in a row clear a flag set before the checker started", async () => {
  const server = listen();
  const stats = new StatsRegistry();
  const cluster = makeCluster(stats, [`127.0.0.1:${server.port}`]);
  const host = cluster.hosts[0]!;
  host.setHealthFlag(FAC, true, "inherited"); // e.g. copied over from a replaced cluster
  const hc = startHealthChecker(
    cluster,
    hcConfig({ intervalMs: 30, healthyThreshold: 3 }),
    { stats },
  );
  try {
    await waitFor(() => hcStat(stats, "hc", "success") >= 2, 2000, "two successes");
    assert.equal(host.healthy, false, "two successes are not enough");
    await waitFor(() => host.healthy, 2000, "healthy after three successes");
    assert.ok(hcStat(stats, "hc", "success") >= 3);
  } finally {
    hc.close();
    await hc.settled();
    await server.close();
  }
});

Deno.test("tcp: the first check waits initial_delay; jitter comes from `random`", async () => {
  const server = listen();
  const stats = new StatsRegistry();
  const cluster = makeCluster(stats, [`127.0.0.1:${server.port}`]);
  const draws: number[] = [];
  const hc = startHealthChecker(
    cluster,
    hcConfig({ initialDelayMs: 150, intervalMs: 50, intervalJitterMs: 40 }),
    {
      stats,
      random: () => {
        draws.push(1);
        return 0.5;
      },
    },
  );
  try {
    await sleep(100);
    assert.equal(hcStat(stats, "hc", "attempt"), 0, "no check before initial_delay");
    await waitFor(() => hcStat(stats, "hc", "success") >= 2, 2000, "checks after the delay");
    assert.ok(draws.length >= 2, "jitter drawn per scheduled check");
  } finally {
    hc.close();
    await hc.settled();
    await server.close();
  }
});

Deno.test("tcp: host list changes start and stop checks; the healthy gauge follows", async () => {
  const a = listen();
  const b = listen();
  const stats = new StatsRegistry();
  const cluster = makeCluster(stats, [`127.0.0.1:${a.port}`]);
  const hc = startHealthChecker(cluster, hcConfig({ intervalMs: 30 }), { stats });
  cluster.attach(hc);
  try {
    await waitFor(() => hcStat(stats, "hc", "success") >= 1, 2000, "a checked");
    assert.equal(hcStat(stats, "hc", "healthy"), 1);

    let seenB = 0;
    const b2 = listen(() => {
      seenB++;
      return Promise.resolve();
    });
    await b.close();
    cluster.setHosts([
      { ...cluster.hosts[0]!.config },
      {
        address: { kind: "tcp", host: "127.0.0.1", port: b2.port },
        addressText: `127.0.0.1:${b2.port}`,
        hostname: "",
        weight: 1,
        metadata: {},
      },
    ]);
    assert.equal(hcStat(stats, "hc", "healthy"), 2);
    await waitFor(() => seenB >= 2, 2000, "new host checked");

    // Drop the first host: its checks stop; the second keeps going.
    let seenA = 0;
    await a.close();
    const a2 = listen(() => {
      seenA++;
      return Promise.resolve();
    }, a.port);
    cluster.setHosts([{ ...cluster.hosts[1]!.config }]);
    assert.equal(hcStat(stats, "hc", "healthy"), 1);
    const before = seenB;
    // Wait for a few more checks of the remaining host: the removed one must see none of them.
    await waitFor(() => seenB >= before + 3, 5000, "remaining host still checked");
    assert.equal(seenA, 0, "removed host no longer checked");
    await a2.close();
    await b2.close();
  } finally {
    cluster.close();
    await hc.settled();
  }
});

Deno.test("event log: one JSON line per transition, appended, and an INFO log line", async () => {
  const logged: string[] = [];
  log.setSink((line) => logged.push(line));
  const dir = await Deno.makeTempDir();
  const path = `${dir}/hc_events.log`;
  await Deno.writeTextFile(path, "earlier line\n");
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close(); // nothing listens: connect refused
  const stats = new StatsRegistry();
  const cluster = makeCluster(stats, [`127.0.0.1:${port}`], "logged");
  const hc = startHealthChecker(
    cluster,
    hcConfig({ intervalMs: 20, unhealthyThreshold: 1, eventLogPath: path }),
    { stats },
  );
  let server: ReturnType<typeof listen> | undefined;
  try {
    await waitFor(() => !cluster.hosts[0]!.healthy, 2000, "unhealthy");
    server = listen(undefined, port);
    await waitFor(() => cluster.hosts[0]!.healthy, 2000, "healthy");
    hc.close();
    await hc.settled();
    const lines = (await Deno.readTextFile(path)).trimEnd().split("\n");
    assert.equal(lines[0], "earlier line");
    const events = lines.slice(1).map((l) => JSON.parse(l));
    assert.equal(events.length, 2);
    assert.deepEqual(Object.keys(events[0]), [
      "time",
      "cluster",
      "host",
      "healthy",
      "flag",
      "reason",
    ]);
    assert.ok(!Number.isNaN(Date.parse(events[0].time)));
    assert.deepEqual(
      events.map((e) => [e.cluster, e.host, e.healthy, e.flag, e.reason]),
      [
        ["logged", `127.0.0.1:${port}`, false, "failed_active_hc", "connect refused"],
        ["logged", `127.0.0.1:${port}`, true, "failed_active_hc", "check succeeded"],
      ],
    );
  } finally {
    hc.close();
    await hc.settled();
    await server?.close();
    await Deno.remove(dir, { recursive: true });
    const stderr = new TextEncoder();
    log.setSink((line) => Deno.stderr.writeSync(stderr.encode(line)));
  }
  const infos = logged.map((l) => JSON.parse(l)).filter((r) => r.cluster === "logged");
  assert.deepEqual(infos.map((r) => [r.level, r.msg, r.reason]), [
    ["INFO", "health check: host unhealthy", "connect refused"],
    ["INFO", "health check: host healthy", "check succeeded"],
  ]);
});
