import assert from "node:assert/strict";
import { DEFAULTS as OUTLIER_DEFAULTS } from "./outlier/_fixture.ts";
import { HealthFlag } from "../../src/upstream/types.ts";
import { MosnError } from "../../src/common/errors.ts";
import type { LbType } from "../../src/config/model.ts";
import { StatsRegistry } from "../../src/observability/stats.ts";
import { ClusterManagerImpl } from "../../src/upstream/mod.ts";
import { clusterConfig, hostConfig } from "./_helpers.ts";

Deno.test("cluster manager finds clusters by name and lists them in config order", () => {
  const cm = new ClusterManagerImpl([
    clusterConfig("a", [hostConfig("10.0.0.1:80")]),
    clusterConfig("b", [hostConfig("10.0.0.2:80")], "LB_RANDOM"),
  ], new StatsRegistry());
  assert.equal(cm.get("a")?.name, "a");
  assert.equal(cm.get("b")?.config.lbType, "LB_RANDOM");
  assert.equal(cm.get("missing"), undefined);
  assert.deepEqual(cm.clusters().map((c) => c.name), ["a", "b"]);
  cm.close();
});

Deno.test("cluster manager rejects a cluster whose lb_type is unknown", () => {
  const bad = { ...clusterConfig("a", []), lbType: "LB_NOPE" as LbType };
  assert.throws(
    () => new ClusterManagerImpl([bad], new StatsRegistry()),
    (e: unknown) => e instanceof MosnError && e.code === "REGISTRY_UNKNOWN",
  );
});

/** Envoy's outlier defaults (shared with the outlier detector's tests). */
const OUTLIER = OUTLIER_DEFAULTS;

Deno.test("cluster manager update replaces a cluster and keeps the health of hosts that stay", () => {
  const cm = new ClusterManagerImpl(
    [clusterConfig("a", [hostConfig("10.0.0.1:80"), hostConfig("10.0.0.2:80")], "LB_ROUNDROBIN", {
      outlierDetection: OUTLIER,
    })],
    new StatsRegistry(),
  );
  const old = cm.get("a")!;
  old.hosts[0]!.setHealthFlag(HealthFlag.FailedOutlierCheck, true);
  cm.addOrUpdate(
    clusterConfig("a", [hostConfig("10.0.0.1:80"), hostConfig("10.0.0.3:80")], "LB_ROUNDROBIN", {
      outlierDetection: OUTLIER,
    }),
  );
  const next = cm.get("a")!;
  assert.notEqual(next, old);
  assert.deepEqual(next.hosts.map((h) => [h.addressText, h.healthy]), [
    ["10.0.0.1:80", false],
    ["10.0.0.3:80", true],
  ]);
  assert.equal(cm.clusters().length, 1);
  cm.close();
});

Deno.test("cluster manager update drops a health flag that nothing in the new config could clear", () => {
  const cm = new ClusterManagerImpl(
    [clusterConfig("a", [hostConfig("10.0.0.1:80")], "LB_ROUNDROBIN", {
      outlierDetection: OUTLIER,
    })],
    new StatsRegistry(),
  );
  cm.get("a")!.hosts[0]!.setHealthFlag(HealthFlag.FailedOutlierCheck, true);
  cm.addOrUpdate(clusterConfig("a", [hostConfig("10.0.0.1:80")]));
  assert.equal(cm.get("a")!.hosts[0]!.healthy, true);
  cm.close();
});

Deno.test("cluster manager remove forgets the cluster and its stats", async () => {
  const stats = new StatsRegistry();
  const cm = new ClusterManagerImpl([clusterConfig("a", [hostConfig("10.0.0.1:80")])], stats);
  assert.equal(cm.remove("a"), true);
  assert.equal(cm.remove("a"), false);
  assert.equal(cm.get("a"), undefined);
  await Promise.resolve(); // stats go once the retired cluster is idle (a microtask here)
  assert.deepEqual([...stats.scopes()].filter((s) => s.labels.cluster === "a"), []);
  cm.close();
});

Deno.test("cluster manager close closes upstream connections of current and replaced clusters", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const addr = `127.0.0.1:${listener.addr.port}`;
  const cm = new ClusterManagerImpl([clusterConfig("a", [hostConfig(addr)])], new StatsRegistry());
  const old = cm.get("a")!;
  const acceptedOld = listener.accept();
  const oldConn = await old.connect(old.hosts[0]!);
  const serverOld = await acceptedOld;
  cm.addOrUpdate(clusterConfig("a", [hostConfig(addr)], "LB_RANDOM"));
  const next = cm.get("a")!;
  const acceptedNew = listener.accept();
  const newConn = await next.connect(next.hosts[0]!);
  const serverNew = await acceptedNew;
  try {
    assert.equal(oldConn.closed, false, "an update leaves running connections alone");
    assert.equal(next.stats.connectionActive.value, 2, "stats continue across the update");
    cm.close();
    assert.equal(oldConn.closed, true);
    assert.equal(newConn.closed, true);
    assert.equal(next.stats.connectionActive.value, 0);
  } finally {
    for (const c of [serverOld, serverNew, listener]) c.close();
  }
});
