import assert from "node:assert/strict";
import { RouteTable } from "../../src/router/mod.ts";
import { goodConfig, req } from "./_helpers.ts";

function tableWith(vhosts: Record<string, string[]>): RouteTable {
  return new RouteTable(goodConfig({
    router_config_name: "r",
    virtual_hosts: Object.entries(vhosts).map(([name, domains]) => ({
      name,
      domains,
      routers: [{ match: { prefix: "/" }, route: { cluster_name: "c1" } }],
    })),
  }));
}

const table = tableWith({
  exact: ["example.com"],
  exactPort: ["example.com:8080"],
  suffix: ["*.example.com"],
  longerSuffix: ["*.api.example.com"],
  dashSuffix: ["*-bar.foo.com"],
  prefix: ["foo.*"],
  longerPrefix: ["foo.bar.*"],
  anyPort: ["legacy.local:*"],
  ipv6: ["[::1]:9000"],
  fallback: ["*"],
});

const cases: [string, string][] = [
  ["example.com", "exact"],
  ["EXAMPLE.Com", "exact"],
  ["example.com:8080", "exactPort"],
  ["example.com:9090", "exact"], // no exact host:port → the port-less domain
  ["www.example.com", "suffix"],
  ["www.example.com:443", "suffix"],
  ["v1.api.example.com", "longerSuffix"], // longest suffix first, whatever the config order
  ["a.b.api.example.com:1", "longerSuffix"],
  ["baz-bar.foo.com", "dashSuffix"],
  ["foo.org", "prefix"],
  ["foo.bar.org", "longerPrefix"],
  ["foo.bar.org:81", "longerPrefix"],
  ["legacy.local:1234", "anyPort"],
  ["legacy.local", "anyPort"],
  ["[::1]:9000", "ipv6"],
  [".example.com", "fallback"], // a wildcard never matches an empty label
  ["other.org", "fallback"],
  ["", "fallback"],
];

for (const [authority, want] of cases) {
  Deno.test(`authority ${JSON.stringify(authority)} selects virtual host ${want}`, () => {
    assert.equal(table.virtualHostFor(authority), want);
    assert.equal(table.match(req("/", { authority }))?.virtualHost, want);
  });
}

Deno.test("exact beats suffix beats prefix beats *", () => {
  const t = tableWith({
    star: ["*"],
    prefix: ["a.example.*"],
    suffix: ["*.example.com"],
    exact: ["a.example.com"],
  });
  assert.equal(t.virtualHostFor("a.example.com"), "exact");
  assert.equal(t.virtualHostFor("b.example.com"), "suffix");
  assert.equal(t.virtualHostFor("a.example.org"), "prefix");
  assert.equal(t.virtualHostFor("b.example.org"), "star");
});

Deno.test("a domain with a port only matches that port", () => {
  const t = tableWith({ p: ["example.com:8080"] });
  assert.equal(t.virtualHostFor("example.com:8080"), "p");
  assert.equal(t.virtualHostFor("example.com"), undefined);
  assert.equal(t.virtualHostFor("example.com:80"), undefined);
});

Deno.test("no matching virtual host and no * gives no route", () => {
  const t = tableWith({ a: ["a.com"], b: ["*.b.com"] });
  assert.equal(t.match(req("/", { authority: "c.com" })), undefined);
  assert.equal(t.virtualHostFor("b.com"), undefined);
});

Deno.test("a router with only * ignores the authority entirely", () => {
  const t = tableWith({ only: ["*"] });
  assert.equal(t.virtualHostFor(""), "only");
  assert.equal(t.virtualHostFor("anything:1"), "only");
});

Deno.test("the authority cache gives the same answers on repeats and for many distinct hosts", () => {
  const t = tableWith({ exact: ["a.com"], suffix: ["*.b.com"] });
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < 5000; i++) {
      assert.equal(t.virtualHostFor(`h${i}.b.com:${i}`), "suffix");
      assert.equal(t.virtualHostFor(`h${i}.c.com`), undefined);
    }
    assert.equal(t.virtualHostFor("A.com:1"), "exact");
    assert.equal(t.virtualHostFor("x".repeat(400) + ".b.com"), "suffix");
  }
});
