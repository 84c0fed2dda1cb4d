/**
 * Behaviour every host-list balancer shares: skip unhealthy/excluded hosts, spread, give up,
 * and Envoy's panic threshold. Hash balancers get a different hash key per pick so the hash
 * path is exercised. LB_ORIGINAL_DST has no host list to balance (see original_dst.test.ts).
 */

import assert from "node:assert/strict";
import { LB_TYPES, type LbType } from "../../../src/config/model.ts";
import { loadBalancers } from "../../../src/upstream/lb/registry.ts";
import type { Host, LbContext } from "../../../src/upstream/types.ts";
import { clusterOf, seeded, tally } from "../_helpers.ts";

const HASHED: readonly LbType[] = ["LB_MAGLEV", "LB_RING_HASH"];

for (const lbType of LB_TYPES) {
  Deno.test(`${lbType} is registered under its MOSN lb_type`, () => {
    assert.ok(loadBalancers.has(lbType));
  });
}

for (const lbType of LB_TYPES.filter((t) => t !== "LB_ORIGINAL_DST")) {
  let n = 0;
  /** The pick context: the exclude set, plus a fresh hash key for the hash balancers. */
  const ctx = (exclude?: ReadonlySet<Host>): LbContext => ({
    ...(exclude ? { exclude } : {}),
    ...(HASHED.includes(lbType) ? { hashKey: `key-${n++}` } : {}),
  });
  /** Panic mode off: the "never unhealthy" contract without Envoy's panic escape. */
  const noPanic = { lbConfig: { healthyPanicThreshold: 0 } };

  Deno.test(`${lbType} reaches every host of a healthy cluster`, () => {
    const c = clusterOf(lbType, [1, 1, 1], seeded(1));
    const counts = tally(() => c.lb.chooseHost(ctx()), 300);
    assert.equal(counts.size, 3);
    assert.ok(!counts.has("undefined"));
  });

  Deno.test(`${lbType} never picks an unhealthy host`, () => {
    const c = clusterOf(lbType, [1, 1, 1], seeded(2));
    c.hosts[1]!.setHealthFlag(1, true);
    const counts = tally(() => c.lb.chooseHost(ctx()), 300);
    assert.deepEqual([...counts.keys()].sort(), ["10.0.0.1:80", "10.0.0.3:80"]);
  });

  Deno.test(`${lbType} never picks an excluded host`, () => {
    const c = clusterOf(lbType, [1, 1, 1], seeded(3));
    const exclude = new Set<Host>([c.hosts[0]!]);
    const counts = tally(() => c.lb.chooseHost(ctx(exclude)), 300);
    assert.deepEqual([...counts.keys()].sort(), ["10.0.0.2:80", "10.0.0.3:80"]);
  });

  Deno.test(`${lbType} picks the one host left when all others are unusable`, () => {
    const c = clusterOf(lbType, [1, 1, 1], seeded(4));
    c.hosts[0]!.setHealthFlag(1, true);
    const exclude = new Set<Host>([c.hosts[2]!]);
    for (let i = 0; i < 20; i++) assert.equal(c.lb.chooseHost(ctx(exclude)), c.hosts[1]);
  });

  Deno.test(`${lbType} returns undefined when every host is excluded`, () => {
    const c = clusterOf(lbType, [1, 1, 1], seeded(5));
    const exclude = new Set<Host>(c.hosts);
    assert.equal(c.lb.chooseHost(ctx(exclude)), undefined);
  });

  Deno.test(`${lbType} without panic mode returns undefined when every host is unhealthy or excluded`, () => {
    const c = clusterOf(lbType, [1, 1, 1], seeded(6), noPanic);
    c.hosts[0]!.setHealthFlag(1, true);
    c.hosts[1]!.setHealthFlag(1, true);
    for (let i = 0; i < 20; i++) {
      assert.equal(c.lb.chooseHost(ctx(new Set<Host>([c.hosts[2]!]))), undefined);
    }
  });

  Deno.test(`${lbType} returns undefined for a cluster without hosts`, () => {
    const c = clusterOf(lbType, [], seeded(7));
    assert.equal(c.lb.chooseHost(ctx()), undefined);
  });

  Deno.test(`${lbType} without panic mode picks again once an unhealthy host recovers`, () => {
    const c = clusterOf(lbType, [1, 1], seeded(8), noPanic);
    c.hosts[0]!.setHealthFlag(1, true);
    c.hosts[1]!.setHealthFlag(1, true);
    assert.equal(c.lb.chooseHost(ctx()), undefined);
    c.hosts[1]!.setHealthFlag(1, false);
    for (let i = 0; i < 20; i++) assert.equal(c.lb.chooseHost(ctx()), c.hosts[1]);
  });

  Deno.test(`${lbType} in panic mode (2 of 5 healthy, threshold 50) sends traffic to all 5 hosts`, () => {
    const c = clusterOf(lbType, [1, 1, 1, 1, 1], seeded(9));
    for (const i of [0, 1, 2]) c.hosts[i]!.setHealthFlag(1, true);
    const counts = tally(() => c.lb.chooseHost(ctx()), 1000);
    assert.equal(counts.size, 5, `${[...counts]}`);
    assert.ok(!counts.has("undefined"));
    for (const v of counts.values()) assert.ok(v >= 100, `${[...counts]}`);
  });

  Deno.test(`${lbType} at the threshold (3 of 5 healthy = 60%) is not in panic`, () => {
    const c = clusterOf(lbType, [1, 1, 1, 1, 1], seeded(10));
    for (const i of [0, 1]) c.hosts[i]!.setHealthFlag(1, true);
    const counts = tally(() => c.lb.chooseHost(ctx()), 600);
    assert.deepEqual([...counts.keys()].sort(), ["10.0.0.3:80", "10.0.0.4:80", "10.0.0.5:80"]);
  });

  Deno.test(`${lbType} with healthy_panic_threshold 0 never panics (2 of 5 healthy)`, () => {
    const c = clusterOf(lbType, [1, 1, 1, 1, 1], seeded(11), noPanic);
    for (const i of [0, 1, 2]) c.hosts[i]!.setHealthFlag(1, true);
    const counts = tally(() => c.lb.chooseHost(ctx()), 600);
    assert.deepEqual([...counts.keys()].sort(), ["10.0.0.4:80", "10.0.0.5:80"]);
  });

  Deno.test(`${lbType} in panic mode still skips excluded hosts`, () => {
    const c = clusterOf(lbType, [1, 1, 1, 1, 1], seeded(12));
    for (const i of [0, 1, 2]) c.hosts[i]!.setHealthFlag(1, true);
    const exclude = new Set<Host>([c.hosts[0]!, c.hosts[4]!]);
    const counts = tally(() => c.lb.chooseHost(ctx(exclude)), 600);
    assert.deepEqual([...counts.keys()].sort(), ["10.0.0.2:80", "10.0.0.3:80", "10.0.0.4:80"]);
  });

  Deno.test(`${lbType} with every host unhealthy (default threshold) balances over all hosts`, () => {
    const c = clusterOf(lbType, [1, 1, 1], seeded(13));
    for (const h of c.hosts) h.setHealthFlag(2, true);
    const counts = tally(() => c.lb.chooseHost(ctx()), 300);
    assert.equal(counts.size, 3, `${[...counts]}`);
    assert.ok(!counts.has("undefined"));
  });
}
