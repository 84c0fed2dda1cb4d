import assert from "node:assert/strict";
import type { Host } from "../../../src/upstream/types.ts";
import { clusterOf, near, seeded, tally } from "../_helpers.ts";

Deno.test("random with an injected deterministic generator spreads over all hosts", () => {
  const c = clusterOf("LB_RANDOM", [1, 1, 1], seeded(42));
  const counts = tally(() => c.lb.chooseHost(), 3000);
  for (const h of c.hosts) assert.ok(near(counts.get(h.addressText), 1000, 0.15), `${[...counts]}`);
});

Deno.test("random maps the generator's range onto the host list", () => {
  let next = 0;
  const values = [0, 0.34, 0.67, 0.999999];
  const c = clusterOf("LB_RANDOM", [1, 1, 1], () => values[next++]!);
  const picks = values.map(() => c.lb.chooseHost()?.addressText);
  assert.deepEqual(picks, ["10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80", "10.0.0.3:80"]);
});

Deno.test("random spreads evenly over the hosts left after exclusions", () => {
  const c = clusterOf("LB_RANDOM", [1, 1, 1, 1], seeded(7));
  const exclude = new Set<Host>([c.hosts[0]!]);
  const counts = tally(() => c.lb.chooseHost({ exclude }), 3000);
  for (const h of c.hosts.slice(1)) {
    assert.ok(near(counts.get(h.addressText), 1000, 0.15), `${[...counts]}`);
  }
});
