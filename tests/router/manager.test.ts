import assert from "node:assert/strict";
import type { RouterConfig } from "../../src/config/router_model.ts";
import { RouterManager } from "../../src/router/mod.ts";
import { clusterFor, goodConfig, req } from "./_helpers.ts";

function router(name: string, cluster: string): RouterConfig {
  return goodConfig({
    router_config_name: name,
    virtual_hosts: [{ domains: ["*"], routers: [{ match: {}, route: { cluster_name: cluster } }] }],
  });
}

Deno.test("RouterManager looks tables up by router_config_name", () => {
  const m = new RouterManager([router("a", "c1"), router("b", "c2")]);
  assert.deepEqual(m.names(), ["a", "b"]);
  assert.equal(clusterFor(m.get("b")!, req("/")), "c2");
  assert.equal(m.get("zzz"), undefined);
});

Deno.test("RouterManager.update swaps every table at once", () => {
  const m = new RouterManager([router("a", "c1")]);
  const before = m.get("a")!;
  m.update([router("a", "c3"), router("new", "c2")]);
  assert.equal(clusterFor(m.get("a")!, req("/")), "c3");
  assert.equal(clusterFor(before, req("/")), "c1"); // in-flight holders keep the old table
  assert.deepEqual(m.names(), ["a", "new"]);
});

Deno.test("a failed RouterManager.update keeps the current tables", () => {
  const m = new RouterManager([router("a", "c1")]);
  assert.throws(() => m.update([router("a", "c2"), router("a", "c3")]), /duplicate/);
  assert.equal(clusterFor(m.get("a")!, req("/")), "c1");
});
