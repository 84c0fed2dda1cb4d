/** Behaviour every registered balancer shares: skip unhealthy/excluded hosts, spread, give up. */

import assert from "node:assert/strict";
import { LB_TYPES } from "../../../src/config/model.ts";
import { loadBalancers } from "../../../src/upstream/lb/registry.ts";
import type { Host } from "../../../src/upstream/types.ts";
import { clusterOf, seeded, tally } from "../_helpers.ts";

for (const lbType of LB_TYPES) {
  Deno.test(`${lbType} is registered under its MOSN lb_type`, () => {
    assert.ok(loadBalancers.has(lbType));
  });

  Deno.test(`${lbType} reaches every host of a healthy cluster`, () => {
    const c = clusterOf(lbType, [1, 1, 1], seeded(1));
    const counts = tally(() => c.lb.chooseHost(), 300);
    assert.equal(counts.size, 3);
    assert.ok(!counts.has("undefined"));
  });

  Deno.test(`${lbType} never picks an unhealthy host`, () => {
    const c = clusterOf(lbType, [1, 1, 1], seeded(2));
    c.hosts[1]!.healthy = false;
    const counts = tally(() => c.lb.chooseHost(), 300);
    assert.deepEqual([...counts.keys()].sort(), ["10.0.0.1:80", "10.0.0.3:80"]);
  });

  Deno.test(`${lbType} never picks an excluded host`, () => {
    const c = clusterOf(lbType, [1, 1, 1], seeded(3));
    const exclude = new Set<Host>([c.hosts[0]!]);
    const counts = tally(() => c.lb.chooseHost({ exclude }), 300);
    assert.deepEqual([...counts.keys()].sort(), ["10.0.0.2:80", "10.0.0.3:80"]);
  });

  Deno.test(`${lbType} picks the one host left when all others are unusable`, () => {
    const c = clusterOf(lbType, [1, 1, 1], seeded(4));
    c.hosts[0]!.healthy = false;
    const exclude = new Set<Host>([c.hosts[2]!]);
    for (let i = 0; i < 20; i++) assert.equal(c.lb.chooseHost({ exclude }), c.hosts[1]);
  });

  Deno.test(`${lbType} returns undefined when every host is excluded`, () => {
    const c = clusterOf(lbType, [1, 1, 1], seeded(5));
    const exclude = new Set<Host>(c.hosts);
    assert.equal(c.lb.chooseHost({ exclude }), undefined);
  });

  Deno.test(`${lbType} returns undefined when every host is unhealthy or excluded`, () => {
    const c = clusterOf(lbType, [1, 1, 1], seeded(6));
    c.hosts[0]!.healthy = false;
    c.hosts[1]!.healthy = false;
    assert.equal(c.lb.chooseHost({ exclude: new Set<Host>([c.hosts[2]!]) }), undefined);
  });

  Deno.test(`${lbType} returns undefined for a cluster without hosts`, () => {
    const c = clusterOf(lbType, [], seeded(7));
    assert.equal(c.lb.chooseHost(), undefined);
  });

  Deno.test(`${lbType} picks again once an unhealthy host recovers`, () => {
    const c = clusterOf(lbType, [1, 1], seeded(8));
    c.hosts[0]!.healthy = false;
    c.hosts[1]!.healthy = false;
    assert.equal(c.lb.chooseHost(), undefined);
    c.hosts[1]!.healthy = true;
    assert.equal(c.lb.chooseHost(), c.hosts[1]);
  });
}
