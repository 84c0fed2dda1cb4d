import assert from "node:assert/strict";
import { clusterOf, near, tally } from "../_helpers.ts";

Deno.test("weighted round robin with weights 3:1 gives 400 picks within ±10% of 300/100", () => {
  const c = clusterOf("LB_WEIGHTED_ROUNDROBIN", [3, 1]);
  const counts = tally(() => c.lb.chooseHost(), 400);
  assert.ok(near(counts.get("10.0.0.1:80"), 300), `${[...counts]}`);
  assert.ok(near(counts.get("10.0.0.2:80"), 100), `${[...counts]}`);
});

Deno.test("weighted round robin interleaves picks smoothly instead of in bursts", () => {
  const c = clusterOf("LB_WEIGHTED_ROUNDROBIN", [5, 1, 1]);
  const order = Array.from({ length: 7 }, () => c.lb.chooseHost()?.addressText.slice(7, 8));
  // nginx's published sequence for weights 5,1,1.
  assert.deepEqual(order, ["1", "1", "2", "1", "3", "1", "1"]);
});

Deno.test("weighted round robin shares exactly by weight over one full cycle", () => {
  const c = clusterOf("LB_WEIGHTED_ROUNDROBIN", [4, 2, 1]);
  const counts = tally(() => c.lb.chooseHost(), 7 * 10);
  assert.deepEqual([...counts.values()], [40, 20, 10]);
});

Deno.test("weighted round robin spreads a skipped host's share over the others by weight", () => {
  const c = clusterOf("LB_WEIGHTED_ROUNDROBIN", [3, 1, 4]);
  c.hosts[2]!.setHealthFlag(1, true);
  const counts = tally(() => c.lb.chooseHost(), 400);
  assert.ok(near(counts.get("10.0.0.1:80"), 300));
  assert.ok(near(counts.get("10.0.0.2:80"), 100));
});
