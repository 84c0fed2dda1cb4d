import assert from "node:assert/strict";
import { clusterOf, near, seeded, tally } from "../_helpers.ts";

Deno.test("round robin spreads 300 picks over 3 hosts within ±10% of 100 each", () => {
  const c = clusterOf("LB_ROUNDROBIN", [1, 1, 1]);
  const counts = tally(() => c.lb.chooseHost(), 300);
  for (const h of c.hosts) assert.ok(near(counts.get(h.addressText), 100), `${[...counts]}`);
});

Deno.test("round robin visits hosts in order", () => {
  const c = clusterOf("LB_ROUNDROBIN", [1, 1, 1], () => 0);
  const order = Array.from({ length: 6 }, () => c.lb.chooseHost()?.addressText);
  assert.deepEqual(order, [
    "10.0.0.1:80",
    "10.0.0.2:80",
    "10.0.0.3:80",
    "10.0.0.1:80",
    "10.0.0.2:80",
    "10.0.0.3:80",
  ]);
});

Deno.test("round robin with an injected generator starts at a random host, then goes in turn", () => {
  const c = clusterOf("LB_ROUNDROBIN", [1, 1, 1], () => 0.5);
  const order = Array.from({ length: 3 }, () => c.lb.chooseHost()?.addressText);
  assert.deepEqual(order, ["10.0.0.2:80", "10.0.0.3:80", "10.0.0.1:80"]);
});

Deno.test("round robin skipping an unhealthy host splits evenly between the rest", () => {
  const c = clusterOf("LB_ROUNDROBIN", [1, 1, 1], seeded(9));
  c.hosts[2]!.setHealthFlag(1, true);
  const counts = tally(() => c.lb.chooseHost(), 300);
  assert.ok(near(counts.get("10.0.0.1:80"), 150));
  assert.ok(near(counts.get("10.0.0.2:80"), 150));
});
