import assert from "node:assert/strict";
import { StatsRegistry } from "../../../src/observability/stats.ts";
import { ClusterManagerImpl } from "../../../src/upstream/cluster_manager.ts";
import type { ClusterImpl } from "../../../src/upstream/cluster.ts";
import { OutlierDetector } from "../../../src/upstream/outlier/detector.ts";
import { HealthFlag } from "../../../src/upstream/types.ts";
import { clusterConfig, E500, E502, E503, fixture, hostConfig, mixed, OK } from "./_fixture.ts";

const BASE = 30_000;
const INTERVAL = 10_000;
const EJECTED = "outlier_detection_ejections_active";

Deno.test("five 5xx in a row eject a host for base_ejection_time, then a sweep returns it", () => {
  const f = fixture();
  const h = f.hosts[0]!;
  f.report(h, E500, 4);
  assert.equal(h.healthy, true, "four 5xx are not enough");
  f.report(h, E500);
  assert.equal(h.healthy, false);
  assert.equal(h.healthFlags & HealthFlag.FailedOutlierCheck, HealthFlag.FailedOutlierCheck);
  assert.deepEqual(f.events, [{ host: "10.0.0.1:80", on: true, reason: "consecutive_5xx" }]);
  assert.equal(f.gauge(EJECTED), 1);
  assert.equal(f.counter("outlier_detection_ejections_enforced_total"), 1);
  assert.equal(f.counter("outlier_detection_ejections_enforced_consecutive_5xx"), 1);
  assert.equal(f.detector.ejectionsActive, 1);

  f.sweepAfter(BASE - 1);
  assert.equal(h.healthy, false, "still out just before base_ejection_time");
  f.sweepAfter(1);
  assert.equal(h.healthy, true);
  assert.deepEqual(f.events[1], {
    host: "10.0.0.1:80",
    on: false,
    reason: "ejection time elapsed",
  });
  assert.equal(f.gauge(EJECTED), 0);
  assert.equal(f.detector.ejectionsActive, 0);
});

Deno.test("a host returns only at the first sweep after its ejection time, not before", () => {
  const f = fixture();
  const h = f.hosts[0]!;
  f.report(h, E503, 5);
  f.advance(BASE + 5_000);
  assert.equal(h.healthy, false, "no sweep yet");
  f.detector.tick();
  assert.equal(h.healthy, true);
});

Deno.test("a host ejected again before its multiplier decays stays out twice as long", () => {
  const f = fixture();
  const h = f.hosts[0]!;
  f.report(h, E500, 5);
  f.sweepAfter(BASE);
  assert.equal(h.healthy, true);

  f.report(h, E500, 5);
  assert.equal(h.healthy, false);
  assert.equal(f.detector.status(h)?.multiplier, 2);
  f.sweepAfter(BASE);
  assert.equal(h.healthy, false, "second ejection lasts 2 × base");
  f.sweepAfter(BASE);
  assert.equal(h.healthy, true);
  assert.equal(f.detector.status(h)?.ejections, 2);
  assert.equal(f.counter("outlier_detection_ejections_enforced_consecutive_5xx"), 2);
});

Deno.test("each sweep a host stays in decays its multiplier, so a later ejection is short again", () => {
  const f = fixture();
  const h = f.hosts[0]!;
  f.report(h, E500, 5);
  f.sweepAfter(BASE); // returns; multiplier stays 1 this sweep
  assert.equal(f.detector.status(h)?.multiplier, 1);
  f.sweepAfter(INTERVAL); // a sweep while in service
  assert.equal(f.detector.status(h)?.multiplier, 0);

  f.report(h, E500, 5);
  assert.equal(f.detector.status(h)?.multiplier, 1);
  f.sweepAfter(BASE);
  assert.equal(h.healthy, true, "back after one base_ejection_time");
});

Deno.test("ejection time grows with each ejection but is capped at max_ejection_time", () => {
  const f = fixture({ maxEjectionTimeMs: 2 * BASE + 10_000 }); // 70 s
  const h = f.hosts[0]!;
  // Ejections 1, 2, 3 without a decaying sweep in between: 30 s, 60 s, then min(90 s, 70 s).
  for (const stay of [BASE, 2 * BASE]) {
    f.report(h, E500, 5);
    f.sweepAfter(stay);
    assert.equal(h.healthy, true);
  }
  f.report(h, E500, 5);
  f.sweepAfter(2 * BASE + 9_999);
  assert.equal(h.healthy, false);
  f.sweepAfter(1);
  assert.equal(h.healthy, true, "out for max_ejection_time, not 3 × base");
});

Deno.test("a success between 5xx responses resets the consecutive count", () => {
  const f = fixture();
  const h = f.hosts[0]!;
  f.report(h, E500, 4);
  f.report(h, OK);
  f.report(h, E500, 4);
  assert.equal(h.healthy, true);
  f.report(h, E500);
  assert.equal(h.healthy, false, "five in a row after the success");
});

Deno.test("a 4xx response counts as a success for outlier detection", () => {
  const f = fixture();
  const h = f.hosts[0]!;
  f.report(h, E500, 4);
  f.report(h, { kind: "status", status: 404 });
  f.report(h, E500, 4);
  assert.equal(h.healthy, true);
});

Deno.test("connect failures, timeouts and resets count as consecutive 5xx", () => {
  const f = fixture();
  const h = f.hosts[0]!;
  f.report(h, { kind: "connect_failure" }, 2);
  f.report(h, { kind: "timeout" });
  f.report(h, { kind: "reset" });
  assert.equal(h.healthy, true);
  f.report(h, E500);
  assert.equal(h.healthy, false);
  assert.equal(f.events[0]?.reason, "consecutive_5xx");
});

Deno.test("max_ejection_percent=20 with 5 hosts lets one host out and counts the rest as overflow", () => {
  const f = fixture({ maxEjectionPercent: 20 });
  const [a, b, c] = f.hosts;
  f.report(a!, E500, 5);
  f.report(b!, E500, 5);
  f.report(c!, E500, 5);
  assert.equal(a!.healthy, false);
  assert.equal(b!.healthy, true);
  assert.equal(c!.healthy, true);
  assert.equal(f.counter("outlier_detection_ejections_overflow"), 2);
  assert.equal(f.counter("outlier_detection_ejections_enforced_total"), 1);
  assert.equal(f.gauge(EJECTED), 1);

  // Once the first host returns, the next streak may eject another one.
  f.sweepAfter(BASE);
  f.report(b!, E500, 5);
  assert.equal(b!.healthy, false);
});

Deno.test("max_ejection_percent rounds down: 40% of 5 hosts is 2, 50% of 5 is still 2", () => {
  for (const pct of [40, 50]) {
    const f = fixture({ maxEjectionPercent: pct });
    for (const h of f.hosts) f.report(h, E500, 5);
    assert.equal(f.detector.ejectionsActive, 2, `max_ejection_percent=${pct}`);
    assert.equal(f.counter("outlier_detection_ejections_overflow"), 3);
  }
});

Deno.test("max_ejection_percent=10 still ejects one host of five; 0 ejects none", () => {
  const ten = fixture({ maxEjectionPercent: 10 });
  for (const h of ten.hosts) ten.report(h, E500, 5);
  assert.equal(ten.detector.ejectionsActive, 1);

  const zero = fixture({ maxEjectionPercent: 0 });
  for (const h of zero.hosts) zero.report(h, E500, 5);
  assert.equal(zero.detector.ejectionsActive, 0);
  assert.equal(zero.counter("outlier_detection_ejections_overflow"), 5);
});

Deno.test("consecutive gateway failures eject when enforced; a 500 resets only the gateway count", () => {
  const f = fixture({
    consecutive5xx: 100,
    consecutiveGatewayFailure: 3,
    enforcingConsecutiveGatewayFailure: 100,
  });
  const h = f.hosts[0]!;
  f.report(h, E502, 2);
  f.report(h, E500);
  f.report(h, E503, 2);
  assert.equal(h.healthy, true, "the 500 broke the gateway streak");
  f.report(h, { kind: "timeout" });
  assert.equal(h.healthy, false);
  assert.equal(f.events[0]?.reason, "consecutive_gateway_failure");
  assert.equal(f.counter("outlier_detection_ejections_enforced_consecutive_gateway_failure"), 1);
  assert.equal(f.counter("outlier_detection_ejections_enforced_consecutive_5xx"), 0);
});

Deno.test("with enforcing_consecutive_gateway_failure=0 (default) gateway errors eject through consecutive_5xx", () => {
  const f = fixture();
  const h = f.hosts[0]!;
  f.report(h, E503, 5);
  assert.equal(h.healthy, false);
  assert.equal(f.events[0]?.reason, "consecutive_5xx");
  assert.equal(f.counter("outlier_detection_ejections_detected_consecutive_gateway_failure"), 1);
  assert.equal(f.counter("outlier_detection_ejections_enforced_consecutive_gateway_failure"), 0);
});

Deno.test("success rate ejects a host far below the cluster mean at the sweep", () => {
  const f = fixture({ consecutive5xx: 0, maxEjectionPercent: 100 });
  const [bad, ...good] = f.hosts;
  // 50% vs 100% ×4: mean 90, stdev 20, threshold 90 − 1.9 × 20 = 52.
  mixed(f, bad!, 50, 50);
  for (const h of good) f.report(h, OK, 100);
  assert.equal(bad!.healthy, true, "success rate only runs at the sweep");
  f.sweepAfter(INTERVAL);
  assert.equal(bad!.healthy, false);
  assert.equal(f.events[0]?.reason, "success_rate");
  for (const h of good) assert.equal(h.healthy, true);
  assert.equal(f.counter("outlier_detection_ejections_enforced_success_rate"), 1);
  assert.equal(f.detector.status(good[0]!)?.successRate, 100);
  assert.equal(f.detector.status(bad!)?.successRate, 50);
});

Deno.test("success rate spares a host within stdev_factor of the mean", () => {
  const f = fixture({ consecutive5xx: 0, maxEjectionPercent: 100 });
  const [weak, ...good] = f.hosts;
  // 60% vs 100% ×4: mean 92, stdev 16, threshold 61.6 → 60 is out; with factor 3000: 44 → in.
  mixed(f, weak!, 60, 40);
  for (const h of good) f.report(h, OK, 100);
  f.sweepAfter(INTERVAL);
  assert.equal(weak!.healthy, false);

  const lenient = fixture({
    consecutive5xx: 0,
    maxEjectionPercent: 100,
    successRateStdevFactor: 3000,
  });
  mixed(lenient, lenient.hosts[0]!, 60, 40);
  for (const h of lenient.hosts.slice(1)) lenient.report(h, OK, 100);
  lenient.sweepAfter(INTERVAL);
  assert.equal(lenient.hosts[0]!.healthy, true);
});

Deno.test("success rate needs success_rate_minimum_hosts hosts with success_rate_request_volume requests", () => {
  const f = fixture({ consecutive5xx: 0, maxEjectionPercent: 100 });
  const [bad, quiet, ...good] = f.hosts;
  mixed(f, bad!, 50, 50);
  f.report(quiet!, OK, 99); // one short of the volume: only 4 hosts qualify
  for (const h of good) f.report(h, OK, 100);
  f.sweepAfter(INTERVAL);
  assert.equal(bad!.healthy, true);
  assert.equal(f.counter("outlier_detection_ejections_detected_success_rate"), 0);
});

Deno.test("success rate looks only at the interval that just ended", () => {
  const f = fixture({ consecutive5xx: 0, maxEjectionPercent: 100 });
  const [bad, ...good] = f.hosts;
  mixed(f, bad!, 50, 50);
  f.sweepAfter(INTERVAL); // the others had no traffic: nothing to compare
  for (const h of f.hosts) f.report(h, OK, 100);
  f.sweepAfter(INTERVAL);
  assert.equal(bad!.healthy, true);
  for (const h of good) assert.equal(h.healthy, true);
});

Deno.test("failure percentage ejects hosts at or above the threshold", () => {
  const f = fixture({
    consecutive5xx: 0,
    maxEjectionPercent: 100,
    enforcingSuccessRate: 0,
    enforcingFailurePercentage: 100,
  });
  const [worst, edge, below, ...good] = f.hosts;
  mixed(f, worst!, 5, 45); // 90% failures
  mixed(f, edge!, 15, 85); // exactly 85%
  mixed(f, below!, 17, 83); // 83%
  for (const h of good) f.report(h, OK, 50);
  f.sweepAfter(INTERVAL);
  assert.equal(worst!.healthy, false);
  assert.equal(edge!.healthy, false);
  assert.equal(below!.healthy, true);
  assert.deepEqual(f.events.map((e) => e.reason), ["failure_percentage", "failure_percentage"]);
  assert.equal(f.counter("outlier_detection_ejections_enforced_failure_percentage"), 2);
  assert.equal(f.counter("outlier_detection_ejections_enforced_success_rate"), 0);
});

Deno.test("failure percentage needs failure_percentage_minimum_hosts hosts with enough requests", () => {
  const f = fixture({
    consecutive5xx: 0,
    enforcingSuccessRate: 0,
    enforcingFailurePercentage: 100,
  });
  const [bad, quiet, ...good] = f.hosts;
  mixed(f, bad!, 0, 50);
  f.report(quiet!, OK, 49);
  for (const h of good) f.report(h, OK, 50);
  f.sweepAfter(INTERVAL);
  assert.equal(bad!.healthy, true);
});

Deno.test("enforcing 0% never ejects but still counts detections", () => {
  const f = fixture({
    enforcingConsecutive5xx: 0,
    enforcingSuccessRate: 0,
    enforcingFailurePercentage: 0,
    maxEjectionPercent: 100,
  });
  const h = f.hosts[0]!;
  f.report(h, E500, 100);
  for (const o of f.hosts.slice(1)) f.report(o, OK, 100);
  f.sweepAfter(INTERVAL);
  assert.equal(h.healthy, true);
  assert.equal(f.events.length, 0);
  assert.equal(f.counter("outlier_detection_ejections_detected_consecutive_5xx"), 20);
  assert.equal(f.counter("outlier_detection_ejections_detected_success_rate"), 1);
  assert.equal(f.counter("outlier_detection_ejections_detected_failure_percentage"), 1);
  assert.equal(f.counter("outlier_detection_ejections_enforced_total"), 0);
});

Deno.test("an enforcing percentage between 0 and 100 ejects when random() × 100 falls below it", () => {
  let r = 0.7;
  const f = fixture({ enforcingConsecutive5xx: 50 }, { random: () => r });
  const h = f.hosts[0]!;
  f.report(h, E500, 5);
  assert.equal(h.healthy, true, "70 ≥ 50: not enforced");
  r = 0.3;
  f.report(h, E500, 4);
  assert.equal(h.healthy, true, "the streak starts again after a detection");
  f.report(h, E500);
  assert.equal(h.healthy, false);
});

Deno.test("hosts added later are watched; a removed ejected host frees its ejection slot", () => {
  const f = fixture({ maxEjectionPercent: 20 });
  const first = f.hosts[0]!;
  f.report(first, E500, 5);
  assert.equal(f.detector.ejectionsActive, 1);

  const kept = f.hosts.slice(1).map((h) => h.config);
  f.cluster.setHosts([...kept, hostConfig("10.0.0.9:80")]);
  assert.equal(f.detector.ejectionsActive, 0);
  assert.equal(f.gauge(EJECTED), 0);
  assert.equal(f.detector.status(first), undefined);

  const added = f.cluster.hosts.find((h) => h.addressText === "10.0.0.9:80")!;
  f.report(added, E500, 5);
  assert.equal(added.healthy, false);
  assert.equal(f.detector.ejectionsActive, 1);
});

Deno.test("results for hosts the detector does not watch are ignored", () => {
  const f = fixture();
  const stray = f.cluster.hostFor({ kind: "tcp", host: "10.9.9.9", port: 80 });
  f.report(stray, E500, 10);
  assert.equal(stray.healthy, true);
  assert.equal(f.detector.ejectionsActive, 0);
});

Deno.test("the detector sweeps every interval with its timers and close() stops them", () => {
  const calls: string[] = [];
  let sweep: (() => void) | undefined;
  const f = fixture({}, {
    timers: {
      setInterval(fn, ms) {
        calls.push(`set ${ms}`);
        sweep = fn;
        return 7;
      },
      clearInterval(id) {
        calls.push(`clear ${id}`);
      },
    },
  });
  const h = f.hosts[0]!;
  f.report(h, E500, 5);
  f.advance(BASE);
  sweep!();
  assert.equal(h.healthy, true);

  f.report(h, E500, 5);
  f.cluster.close();
  assert.deepEqual(calls, ["set 10000", "clear 7"]);
  assert.equal(f.gauge(EJECTED), 0, "a closed detector no longer counts its ejections");
  const other = f.hosts[1]!;
  f.report(other, E500, 5);
  assert.equal(other.healthy, true, "results after close are ignored");
});

Deno.test("the cluster manager attaches a detector to clusters with outlier_detection", () => {
  const stats = new StatsRegistry();
  const cm = new ClusterManagerImpl([clusterConfig(5)], stats);
  try {
    const cluster = cm.get("backend") as ClusterImpl;
    assert.ok(cluster.outlier instanceof OutlierDetector);
    const h = cluster.hosts[2]!;
    for (let i = 0; i < 5; i++) cluster.reportResult(h, E503);
    assert.equal(h.healthy, false);
  } finally {
    cm.close();
  }
});

Deno.test("a config update keeps an ejected host out; the new detector adopts it", () => {
  const stats = new StatsRegistry();
  const cm = new ClusterManagerImpl([clusterConfig(5)], stats);
  const prev = cm.get("backend") as ClusterImpl;
  try {
    for (let i = 0; i < 5; i++) prev.reportResult(prev.hosts[0]!, E500);
    const next = cm.addOrUpdate(clusterConfig(5)) as ClusterImpl;
    const carried = next.hosts[0]!;
    assert.equal(carried.healthy, false);
    const d = next.outlier as OutlierDetector;
    assert.equal(d.status(carried)?.ejected, true);
    assert.equal(d.ejectionsActive, 1);
  } finally {
    prev.close(); // a retired cluster is not closed by the manager once idle
    cm.close();
  }
});
