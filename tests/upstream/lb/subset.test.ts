/** Subset load balancing: selector matching, fallback policies, default subset, registry wiring. */

import assert from "node:assert/strict";
import type { LbSubsetConfig, LbType, SubsetFallback } from "../../../src/config/model.ts";
import { StatsRegistry } from "../../../src/observability/stats.ts";
import { ClusterImpl } from "../../../src/upstream/cluster.ts";
import { createBalancer, loadBalancers } from "../../../src/upstream/lb/registry.ts";
import { SubsetLoadBalancer } from "../../../src/upstream/lb/subset.ts";
import { RoundRobinLoadBalancer } from "../../../src/upstream/lb/round_robin.ts";
import type { Host, LbContext } from "../../../src/upstream/types.ts";
import { clusterConfig, type ClusterOverrides, hostConfig, seeded, tally } from "../_helpers.ts";

const METADATA: readonly Record<string, string>[] = [
  { version: "v1", zone: "a" }, // 10.0.0.1
  { version: "v1", zone: "b" }, // 10.0.0.2
  { version: "v2", zone: "a" }, // 10.0.0.3
  { version: "v2", zone: "b", canary: "true" }, // 10.0.0.4
  {}, // 10.0.0.5
];

function subsetCluster(
  fallBackPolicy: SubsetFallback,
  defaultSubset: Record<string, string> = {},
  lbType: LbType = "LB_RANDOM",
  overrides: ClusterOverrides = {},
): ClusterImpl {
  const hosts = METADATA.map((m, i) => hostConfig(`10.0.0.${i + 1}:80`, 1, m));
  const lbSubset: LbSubsetConfig = {
    fallBackPolicy,
    defaultSubset,
    subsetSelectors: [["version"], ["zone", "version"]],
  };
  return new ClusterImpl(
    clusterConfig("subset", hosts, lbType, { lbSubset, ...overrides }),
    new StatsRegistry(),
    { random: seeded(3) },
  );
}

/** The sorted host numbers picked over 200 picks (0 = undefined). */
function reached(c: ClusterImpl, ctx?: LbContext): number[] {
  const counts = tally(() => c.lb.chooseHost(ctx), 200);
  return [...counts.keys()].map((a) => a === "undefined" ? 0 : Number(a.slice(7, 8))).sort();
}

Deno.test("subset: a match on one selector's keys balances over the hosts with those values", () => {
  const c = subsetCluster("NO_FALLBACK");
  assert.ok(c.lb instanceof SubsetLoadBalancer);
  assert.deepEqual(reached(c, { metadataMatch: { version: "v1" } }), [1, 2]);
  assert.deepEqual(reached(c, { metadataMatch: { version: "v2" } }), [3, 4]);
});

Deno.test("subset: a match on a multi-key selector needs every key and value, in any order", () => {
  const c = subsetCluster("NO_FALLBACK");
  assert.deepEqual(reached(c, { metadataMatch: { version: "v2", zone: "a" } }), [3]);
  assert.deepEqual(reached(c, { metadataMatch: { zone: "b", version: "v1" } }), [2]);
});

Deno.test("subset: keys that are no selector's exact key set fall back (NO_FALLBACK fails)", () => {
  const c = subsetCluster("NO_FALLBACK");
  // zone alone is not a selector; version+canary neither, though host 4 has both.
  assert.deepEqual(reached(c, { metadataMatch: { zone: "a" } }), [0]);
  assert.deepEqual(reached(c, { metadataMatch: { version: "v2", canary: "true" } }), [0]);
});

Deno.test("subset: NO_FALLBACK fails picks with no match, an empty match or an unknown value", () => {
  const c = subsetCluster("NO_FALLBACK");
  assert.equal(c.lb.chooseHost(), undefined);
  assert.equal(c.lb.chooseHost({ metadataMatch: {} }), undefined);
  assert.equal(c.lb.chooseHost({ metadataMatch: { version: "v3" } }), undefined);
});

Deno.test("subset: ANY_ENDPOINT falls back to every host, metadata or not", () => {
  const c = subsetCluster("ANY_ENDPOINT");
  assert.deepEqual(reached(c), [1, 2, 3, 4, 5]);
  assert.deepEqual(reached(c, { metadataMatch: { version: "v3" } }), [1, 2, 3, 4, 5]);
  assert.deepEqual(reached(c, { metadataMatch: { version: "v1" } }), [1, 2]);
});

Deno.test("subset: DEFAULT_SUBSET falls back to the hosts with every default_subset pair", () => {
  const c = subsetCluster("DEFAULT_SUBSET", { version: "v2" });
  assert.deepEqual(reached(c), [3, 4]);
  assert.deepEqual(reached(c, { metadataMatch: { version: "v9" } }), [3, 4]);
  assert.deepEqual(reached(c, { metadataMatch: { version: "v1" } }), [1, 2]);
  const narrow = subsetCluster("DEFAULT_SUBSET", { version: "v2", canary: "true" });
  assert.deepEqual(reached(narrow), [4]);
});

Deno.test("subset: DEFAULT_SUBSET with an empty default_subset means every host", () => {
  assert.deepEqual(reached(subsetCluster("DEFAULT_SUBSET", {})), [1, 2, 3, 4, 5]);
});

Deno.test("subset: DEFAULT_SUBSET that no host matches fails the pick", () => {
  assert.deepEqual(reached(subsetCluster("DEFAULT_SUBSET", { version: "v9" })), [0]);
});

Deno.test("subset: each subset is balanced by the cluster's lb_type", () => {
  const rr = subsetCluster("NO_FALLBACK", {}, "LB_ROUNDROBIN");
  const ctx = { metadataMatch: { version: "v1" } };
  const order = Array.from({ length: 4 }, () => rr.lb.chooseHost(ctx)?.addressText);
  assert.equal(order[0], order[2]);
  assert.equal(order[1], order[3]);
  assert.notEqual(order[0], order[1]);

  const maglev = subsetCluster("NO_FALLBACK", {}, "LB_MAGLEV");
  for (const key of ["a", "b", "c", "d", "e"]) {
    const first = maglev.lb.chooseHost({ metadataMatch: { version: "v2" }, hashKey: key });
    assert.ok(first === maglev.hosts[2] || first === maglev.hosts[3]);
    for (let i = 0; i < 100; i++) {
      assert.equal(maglev.lb.chooseHost({ metadataMatch: { version: "v2" }, hashKey: key }), first);
    }
  }
});

Deno.test("subset: health and exclusions apply within the subset, without falling back", () => {
  const c = subsetCluster("ANY_ENDPOINT", {}, "LB_RANDOM", {
    lbConfig: { healthyPanicThreshold: 0 },
  });
  const ctx = { metadataMatch: { version: "v1" } };
  c.hosts[0]!.setHealthFlag(1, true);
  assert.deepEqual(reached(c, ctx), [2]);
  assert.deepEqual(reached(c, { ...ctx, exclude: new Set<Host>([c.hosts[1]!]) }), [0]);
});

Deno.test("subset: the panic threshold is judged per subset", () => {
  const c = subsetCluster("NO_FALLBACK");
  c.hosts[0]!.setHealthFlag(1, true); // v1 subset: 1 of 2 healthy (50%): not in panic
  assert.deepEqual(reached(c, { metadataMatch: { version: "v1" } }), [2]);
  c.hosts[2]!.setHealthFlag(1, true);
  c.hosts[3]!.setHealthFlag(1, true); // v2 subset: 0 of 2 healthy: panic
  assert.deepEqual(reached(c, { metadataMatch: { version: "v2" } }), [3, 4]);
});

Deno.test("subset: a match object used repeatedly, and an equal new object, pick the same subset", () => {
  const c = subsetCluster("NO_FALLBACK");
  const match = { version: "v2", zone: "b" };
  for (let i = 0; i < 10; i++) assert.equal(c.lb.chooseHost({ metadataMatch: match }), c.hosts[3]);
  assert.equal(c.lb.chooseHost({ metadataMatch: { zone: "b", version: "v2" } }), c.hosts[3]);
});

Deno.test("subset: without lb_subset_config the plain balancer is built", () => {
  const c = new ClusterImpl(
    clusterConfig("plain", [hostConfig("10.0.0.1:80")], "LB_ROUNDROBIN"),
    new StatsRegistry(),
  );
  assert.ok(c.lb instanceof RoundRobinLoadBalancer);
  assert.equal(c.lb.chooseHost({ metadataMatch: { version: "v1" } }), c.hosts[0]);
});

Deno.test("createBalancer applies subsets to built-ins and to factories registered later", () => {
  const hosts = subsetCluster("NO_FALLBACK").hosts;
  const lbSubset: LbSubsetConfig = {
    fallBackPolicy: "NO_FALLBACK",
    defaultSubset: {},
    subsetSelectors: [["version"]],
  };
  const config = clusterConfig("x", [], "LB_RANDOM", { lbSubset });
  const viaGet = loadBalancers.get("LB_RANDOM")!(hosts, seeded(1), config);
  const viaCreate = createBalancer(hosts, seeded(1), config);
  assert.ok(viaGet instanceof SubsetLoadBalancer);
  assert.ok(viaCreate instanceof SubsetLoadBalancer);

  // A factory from outside the registry's built-ins: always the first host it is given.
  loadBalancers.register("TEST_FIRST_HOST", (hs) => ({ chooseHost: () => hs[0] }));
  const custom = createBalancer(hosts, undefined, {
    ...config,
    lbType: "TEST_FIRST_HOST" as LbType,
  });
  assert.equal(custom.chooseHost({ metadataMatch: { version: "v2" } }), hosts[2]);
  assert.equal(custom.chooseHost(), undefined);
});

Deno.test("createBalancer rejects an unknown lb_type with REGISTRY_UNKNOWN", () => {
  assert.throws(
    () => createBalancer([], undefined, clusterConfig("x", [], "LB_NOPE" as LbType)),
    (e: unknown) => e instanceof Error && "code" in e && e.code === "REGISTRY_UNKNOWN",
  );
});
