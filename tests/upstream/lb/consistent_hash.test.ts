/** LB_MAGLEV and LB_RING_HASH: stickiness, minimal movement, weights, health. */

import assert from "node:assert/strict";
import type { LbType } from "../../../src/config/model.ts";
import { loadBalancers } from "../../../src/upstream/lb/registry.ts";
import type { Host, LoadBalancer } from "../../../src/upstream/types.ts";
import { clusterConfig, clusterOf, DEFAULT_LB_CONFIG, near, seeded, tally } from "../_helpers.ts";

const KEYS = Array.from({ length: 10_000 }, (_, i) => `user-${i}`);

function build(lbType: LbType, hosts: readonly Host[]): LoadBalancer {
  const config = clusterConfig("test", [], lbType);
  return loadBalancers.get(lbType)!(hosts, seeded(1), config);
}

/** The host address each key maps to. */
function mapping(lb: LoadBalancer, keys = KEYS): string[] {
  return keys.map((hashKey) => lb.chooseHost({ hashKey })?.addressText ?? "none");
}

function moved(a: readonly string[], b: readonly string[]): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}

for (const lbType of ["LB_MAGLEV", "LB_RING_HASH"] as const) {
  Deno.test(`${lbType}: the same hash key gets the same host over 1000 requests`, () => {
    const c = clusterOf(lbType, [1, 1, 1, 1, 1], seeded(1));
    for (const key of ["alice", "bob", "carol", ""]) {
      const first = c.lb.chooseHost({ hashKey: key });
      assert.ok(first);
      for (let i = 0; i < 1000; i++) assert.equal(c.lb.chooseHost({ hashKey: key }), first);
    }
  });

  Deno.test(`${lbType}: a balancer rebuilt over the same hosts maps every key the same`, () => {
    const c = clusterOf(lbType, [1, 1, 1, 1, 1]);
    // Host order must not matter either: the cluster may list them differently after DNS.
    assert.deepEqual(
      mapping(build(lbType, c.hosts)),
      mapping(build(lbType, [...c.hosts].reverse())),
    );
  });

  Deno.test(`${lbType}: removing one of five hosts moves at most 25% of 10 000 keys`, () => {
    const c = clusterOf(lbType, [1, 1, 1, 1, 1]);
    const before = mapping(build(lbType, c.hosts));
    for (let gone = 0; gone < 5; gone++) {
      const after = mapping(build(lbType, c.hosts.filter((_, i) => i !== gone)));
      const n = moved(before, after);
      assert.ok(n <= 2500, `removing host ${gone} moved ${n} keys`);
      const lost = c.hosts[gone]!.addressText;
      // Every key of the removed host had to move; so ≥ its share moved in total.
      assert.ok(!after.includes(lost));
      assert.ok(n >= before.filter((a) => a === lost).length);
    }
  });

  Deno.test(`${lbType}: keys spread evenly over equal hosts`, () => {
    const c = clusterOf(lbType, [1, 1, 1, 1, 1]);
    const counts = new Map<string, number>();
    for (const a of mapping(c.lb)) counts.set(a, (counts.get(a) ?? 0) + 1);
    assert.equal(counts.size, 5);
    for (const v of counts.values()) assert.ok(near(v, 2000, 0.25), `${[...counts]}`);
  });

  Deno.test(`${lbType}: keys follow weights 3:1:1`, () => {
    const c = clusterOf(lbType, [3, 1, 1]);
    const counts = new Map<string, number>();
    for (const a of mapping(c.lb)) counts.set(a, (counts.get(a) ?? 0) + 1);
    assert.ok(near(counts.get("10.0.0.1:80"), 6000, 0.1), `${[...counts]}`);
    assert.ok(near(counts.get("10.0.0.2:80"), 2000, 0.25), `${[...counts]}`);
    assert.ok(near(counts.get("10.0.0.3:80"), 2000, 0.25), `${[...counts]}`);
  });

  Deno.test(`${lbType}: an unhealthy host is avoided and keys of healthy hosts do not move`, () => {
    const c = clusterOf(lbType, [1, 1, 1, 1, 1]);
    const before = mapping(c.lb);
    const sick = c.hosts[2]!;
    sick.setHealthFlag(1, true);
    const during = mapping(c.lb);
    assert.ok(!during.includes(sick.addressText));
    for (let i = 0; i < KEYS.length; i++) {
      if (before[i] !== sick.addressText) assert.equal(during[i], before[i], `key ${i}`);
    }
    // The sick host's keys spread over the others, and stick while it stays down.
    const spread = new Set(during.filter((_, i) => before[i] === sick.addressText));
    assert.equal(spread.size, 4);
    assert.deepEqual(mapping(c.lb), during);
    // Once it recovers, it gets its own keys back.
    sick.setHealthFlag(1, false);
    assert.deepEqual(mapping(c.lb), before);
  });

  Deno.test(`${lbType}: a second unhealthy host leaves keys of healthy hosts alone`, () => {
    const c = clusterOf(lbType, [1, 1, 1, 1, 1, 1, 1, 1]);
    const all = mapping(c.lb);
    const [a, b] = [c.hosts[0]!.addressText, c.hosts[5]!.addressText];
    c.hosts[0]!.setHealthFlag(1, true);
    const one = mapping(c.lb);
    c.hosts[5]!.setHealthFlag(2, true);
    const two = mapping(c.lb);
    assert.ok(!two.includes(a) && !two.includes(b));
    let respread = 0;
    for (let i = 0; i < KEYS.length; i++) {
      if (all[i] !== a && all[i] !== b) assert.equal(two[i], all[i], `key ${i}`);
      if (all[i] === a && one[i] !== b && two[i] !== one[i]) respread++;
    }
    // Ring hash walks on to the next healthy point, so A's keys stay put unless they were on B;
    // Maglev looks them up in a table rebuilt over the healthy hosts, which reshuffles a few.
    if (lbType === "LB_RING_HASH") assert.equal(respread, 0);
    else assert.ok(respread < KEYS.length / 8 * 0.1, `${respread}`);
  });

  Deno.test(`${lbType}: an excluded host gives the key another host, the same one each time`, () => {
    const c = clusterOf(lbType, [1, 1, 1, 1, 1]);
    const first = c.lb.chooseHost({ hashKey: "retry-me" })!;
    const exclude = new Set<Host>([first]);
    const second = c.lb.chooseHost({ hashKey: "retry-me", exclude });
    assert.ok(second && second !== first);
    for (let i = 0; i < 50; i++) {
      assert.equal(c.lb.chooseHost({ hashKey: "retry-me", exclude }), second);
    }
  });

  Deno.test(`${lbType}: in panic mode keys keep their hosts even when unhealthy`, () => {
    const c = clusterOf(lbType, [1, 1, 1, 1, 1]);
    const before = mapping(c.lb);
    for (const i of [0, 1, 2]) c.hosts[i]!.setHealthFlag(1, true);
    assert.deepEqual(mapping(c.lb), before);
  });

  Deno.test(`${lbType}: without a hash key it spreads like random`, () => {
    const c = clusterOf(lbType, [1, 1, 1], seeded(21));
    const counts = tally(() => c.lb.chooseHost(), 3000);
    for (const h of c.hosts) {
      assert.ok(near(counts.get(h.addressText), 1000, 0.15), `${[...counts]}`);
    }
  });
}

Deno.test("LB_MAGLEV rounds the table size up to a prime and still maps consistently", async () => {
  const { MaglevLoadBalancer } = await import("../../../src/upstream/lb/maglev.ts");
  const c = clusterOf("LB_MAGLEV", [1, 1, 1], undefined, { lbConfig: { maglevTableSize: 1000 } });
  const lb = new MaglevLoadBalancer(c.hosts, Math.random, { tableSize: 1000 });
  assert.equal(lb.tableSize, 1009);
  assert.deepEqual(mapping(lb, KEYS.slice(0, 500)), mapping(c.lb, KEYS.slice(0, 500)));
  assert.equal(DEFAULT_LB_CONFIG.maglevTableSize, 65537);
  assert.equal(new MaglevLoadBalancer(c.hosts).tableSize, 65537);
});

Deno.test("LB_MAGLEV table shares follow weights exactly enough for a small prime table", async () => {
  const { buildMaglevTable } = await import("../../../src/upstream/lb/maglev.ts");
  const c = clusterOf("LB_MAGLEV", [4, 2, 1, 1]);
  const table = buildMaglevTable(c.hosts, new Uint8Array([1, 1, 1, 1]), 65537);
  const counts = [0, 0, 0, 0];
  for (const i of table) counts[i]!++;
  const total = 65537;
  for (const [i, w] of [4, 2, 1, 1].entries()) {
    assert.ok(near(counts[i], (total * w) / 8, 0.01), `${counts}`);
  }
});

Deno.test("LB_RING_HASH ring points follow weights and the minimum/maximum ring size", async () => {
  const { RingHashLoadBalancer } = await import("../../../src/upstream/lb/ring_hash.ts");
  const c = clusterOf("LB_RING_HASH", [3, 1, 1]);
  // 5 weight units; the smallest power of two giving ≥ 1024 points is 256 per unit.
  assert.deepEqual(new RingHashLoadBalancer(c.hosts).pointCounts(), [768, 256, 256]);
  assert.deepEqual(
    new RingHashLoadBalancer(c.hosts, Math.random, { minimumRingSize: 10 }).pointCounts(),
    [6, 2, 2],
  );
  assert.deepEqual(
    new RingHashLoadBalancer(c.hosts, Math.random, { maximumRingSize: 500 }).pointCounts(),
    [300, 100, 100],
  );
  // Removing a host keeps the others' point counts, so only its keys move.
  assert.deepEqual(new RingHashLoadBalancer(c.hosts.slice(0, 2)).pointCounts(), [768, 256]);
});

Deno.test("LB_RING_HASH reads minimum_ring_size from the cluster's lb_config", () => {
  const small = clusterOf("LB_RING_HASH", [1, 1], undefined, { lbConfig: { minimumRingSize: 4 } });
  const big = clusterOf("LB_RING_HASH", [1, 1]);
  // A 4-point ring splits keys far less evenly than a 1024-point one; both still map them all.
  assert.ok(!mapping(small.lb, KEYS.slice(0, 100)).includes("none"));
  assert.notDeepEqual(mapping(small.lb), mapping(big.lb));
});
