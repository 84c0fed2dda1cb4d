import assert from "node:assert/strict";
import { clusterFor, req, tableOf, to } from "./_helpers.ts";

Deno.test("routes match in order; the first match wins", () => {
  const t = tableOf([to("c1", { prefix: "/api/v1" }), to("c2", { prefix: "/api" }), to("c3")]);
  assert.equal(clusterFor(t, req("/api/v1/users")), "c1");
  assert.equal(clusterFor(t, req("/api/v2")), "c2");
  assert.equal(clusterFor(t, req("/other")), "c3");
});

Deno.test("prefix is case-sensitive and ignores the query string", () => {
  const t = tableOf([to("c1", { prefix: "/Api" })]);
  assert.equal(clusterFor(t, req("/Api/x")), "c1");
  assert.equal(clusterFor(t, req("/api/x")), undefined);
  assert.equal(clusterFor(t, req("/Ap?i")), undefined); // the prefix may not run into the query
  assert.equal(clusterFor(t, req("/Api?x=1")), "c1");
});

Deno.test("path is exact, case-insensitive (MOSN) and ignores the query string", () => {
  const t = tableOf([to("c1", { path: "/Health" })]);
  assert.equal(clusterFor(t, req("/health")), "c1");
  assert.equal(clusterFor(t, req("/HEALTH?verbose=1")), "c1");
  assert.equal(clusterFor(t, req("/health/")), undefined);
  assert.equal(clusterFor(t, req("/healt")), undefined);
});

Deno.test("case_sensitive overrides the defaults for prefix and path", () => {
  const t = tableOf([
    to("c1", { prefix: "/API", case_sensitive: false }),
    to("c2", { path: "/Exact", case_sensitive: true }),
  ]);
  assert.equal(clusterFor(t, req("/api/x")), "c1");
  assert.equal(clusterFor(t, req("/Exact")), "c2");
  assert.equal(clusterFor(t, req("/exact")), undefined);
});

Deno.test("regex is unanchored (MOSN) and tested against the path without the query", () => {
  const t = tableOf([to("c1", { regex: "/v[0-9]+/" }), to("c2", { regex: "^/only$" })]);
  assert.equal(clusterFor(t, req("/api/v2/users")), "c1");
  assert.equal(clusterFor(t, req("/only")), "c2");
  assert.equal(clusterFor(t, req("/only?x=/v1/")), "c2");
  assert.equal(clusterFor(t, req("/only/not")), undefined);
});

Deno.test("a match with no path condition matches every path, also an empty RPC path", () => {
  const t = tableOf([to("c1")]);
  assert.equal(clusterFor(t, req("/x")), "c1");
  assert.equal(clusterFor(t, req("")), "c1");
});

Deno.test("header matchers: exact, full-match regex, present, absent, invert", () => {
  const t = tableOf([
    to("c1", { headers: [{ name: "X-Env", value: "prod" }] }),
    to("c2", { headers: [{ name: "x-version", value: "v[12]", regex: true }] }),
    to("c3", { headers: [{ name: "x-debug", present_match: true }] }),
    to("canary", { headers: [{ name: "x-user", value: "bob", invert_match: true }] }),
    to("stable", { headers: [{ name: "x-user", present_match: false }] }),
  ]);
  const h = (headers: Record<string, string>) => clusterFor(t, req("/", { headers }));
  assert.equal(h({ "x-env": "prod" }), "c1");
  assert.equal(h({ "X-ENV": "prod" }), "c1"); // names are case-insensitive
  assert.equal(h({ "x-env": "Prod", "x-user": "bob" }), undefined); // values are not
  assert.equal(h({ "x-version": "v2", "x-user": "bob" }), "c2");
  assert.equal(h({ "x-version": "v22", "x-user": "bob" }), undefined); // regex is a full match
  assert.equal(h({ "x-debug": "", "x-user": "bob" }), "c3");
  assert.equal(h({ "x-user": "alice" }), "canary");
  assert.equal(h({}), "stable"); // a missing header fails an inverted value test
});

Deno.test("every header condition of a route must hold", () => {
  const t = tableOf([
    to("c1", { prefix: "/", headers: [{ name: "a", value: "1" }, { name: "b", value: "2" }] }),
  ]);
  assert.equal(clusterFor(t, req("/", { headers: { a: "1", b: "2" } })), "c1");
  assert.equal(clusterFor(t, req("/", { headers: { a: "1" } })), undefined);
});

Deno.test("pseudo-header and MOSN method matchers test the request line", () => {
  const t = tableOf([
    to("c1", { prefix: "/", headers: [{ name: "method", value: "POST" }] }),
    to("c2", { headers: [{ name: ":authority", value: ".*\\.internal", regex: true }] }),
  ], { domains: ["*"] });
  assert.equal(clusterFor(t, req("/", { method: "POST" })), "c1");
  assert.equal(clusterFor(t, req("/", { authority: "db.internal" })), "c2");
  assert.equal(clusterFor(t, req("/")), undefined);
});

Deno.test("methods restrict a route", () => {
  const t = tableOf([to("c1", { prefix: "/", methods: ["GET", "head"] }), to("c2")]);
  assert.equal(clusterFor(t, req("/", { method: "HEAD" })), "c1");
  assert.equal(clusterFor(t, req("/", { method: "DELETE" })), "c2");
});

Deno.test("query parameter matchers: exact, regex, present, absent, decoding", () => {
  const t = tableOf([
    to("c1", { prefix: "/", query_parameters: [{ name: "v", value: "2" }] }),
    to("c2", { prefix: "/", query_parameters: [{ name: "id", value: "[0-9]+", regex: true }] }),
    to("c3", { prefix: "/", query_parameters: [{ name: "debug" }] }),
    to("canary", { prefix: "/", query_parameters: [{ name: "q", value: "a b" }] }),
    to("stable", { prefix: "/", query_parameters: [{ name: "x", present_match: false }] }),
  ]);
  assert.equal(clusterFor(t, req("/p?a=1&v=2")), "c1");
  assert.equal(clusterFor(t, req("/p?vv=2&id=42")), "c2");
  assert.equal(clusterFor(t, req("/p?id=42x&x")), undefined);
  assert.equal(clusterFor(t, req("/p?x&debug")), "c3");
  assert.equal(clusterFor(t, req("/p?x=1&q=a%20b")), "canary");
  assert.equal(clusterFor(t, req("/p?x=1&q=a+b")), "canary");
  assert.equal(clusterFor(t, req("/p")), "stable");
  assert.equal(clusterFor(t, req("/p?x=")), undefined);
});
