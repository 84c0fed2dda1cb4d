import assert from "node:assert/strict";
import { LeastRequestLoadBalancer } from "../../../src/upstream/lb/least_request.ts";
import { clusterOf, near, seeded, tally } from "../_helpers.ts";

Deno.test("least request prefers the host with fewer active requests", () => {
  const c = clusterOf("LB_LEAST_REQUEST", [1, 1], seeded(11));
  c.hosts[0]!.activeRequests = 5;
  c.hosts[1]!.activeRequests = 1;
  const counts = tally(() => c.lb.chooseHost(), 1000);
  // Two choices lose only when both land on the busy host: 1/4 of picks.
  assert.ok(near(counts.get("10.0.0.2:80"), 750), `${[...counts]}`);
});

Deno.test("least request picks the idle host whenever both candidates are compared", () => {
  const c = clusterOf("LB_LEAST_REQUEST", [1, 1]);
  c.hosts[0]!.activeRequests = 0;
  c.hosts[1]!.activeRequests = 3;
  let next = 0;
  const lb = new LeastRequestLoadBalancer(c.hosts, () => [0.9, 0.1][next++ % 2]!);
  for (let i = 0; i < 10; i++) assert.equal(lb.chooseHost(), c.hosts[0]);
});

Deno.test("least request with choice count equal to the host count always finds the least busy", () => {
  const c = clusterOf("LB_LEAST_REQUEST", [1, 1, 1, 1]);
  c.hosts.forEach((h, i) => (h.activeRequests = [4, 2, 0, 3][i]!));
  const lb = new LeastRequestLoadBalancer(c.hosts, seeded(5), { choiceCount: 64 });
  for (let i = 0; i < 50; i++) assert.equal(lb.chooseHost(), c.hosts[2]);
});

Deno.test("least request spreads evenly when all hosts are equally busy", () => {
  const c = clusterOf("LB_LEAST_REQUEST", [1, 1, 1], seeded(12));
  const counts = tally(() => c.lb.chooseHost(), 3000);
  for (const h of c.hosts) assert.ok(near(counts.get(h.addressText), 1000, 0.15), `${[...counts]}`);
});

Deno.test("least request with unequal weights sends the heavier host more when equally busy", () => {
  const c = clusterOf("LB_LEAST_REQUEST", [3, 1], seeded(13));
  const counts = tally(() => c.lb.chooseHost(), 1000);
  assert.ok((counts.get("10.0.0.1:80") ?? 0) > (counts.get("10.0.0.2:80") ?? 0) * 2);
});

Deno.test("least request reads choice_count from the cluster's lb_config", () => {
  const c = clusterOf("LB_LEAST_REQUEST", [1, 1, 1, 1], seeded(14), {
    lbConfig: { choiceCount: 64 },
  });
  c.hosts.forEach((h, i) => (h.activeRequests = [4, 2, 0, 3][i]!));
  for (let i = 0; i < 50; i++) assert.equal(c.lb.chooseHost(), c.hosts[2]);
});

Deno.test("least request with choice_count 1 is plain random", () => {
  const c = clusterOf("LB_LEAST_REQUEST", [1, 1], seeded(15), { lbConfig: { choiceCount: 1 } });
  c.hosts[0]!.activeRequests = 100;
  const counts = tally(() => c.lb.chooseHost(), 1000);
  assert.ok(near(counts.get("10.0.0.1:80"), 500, 0.15), `${[...counts]}`);
});

Deno.test("least request default choice_count 2 leaves the busy host a quarter of picks", () => {
  const c = clusterOf("LB_LEAST_REQUEST", [1, 1], seeded(16));
  c.hosts[0]!.activeRequests = 100;
  const counts = tally(() => c.lb.chooseHost(), 2000);
  assert.ok(near(counts.get("10.0.0.1:80"), 500, 0.15), `${[...counts]}`);
});
