import assert from "node:assert/strict";
import { HeaderMap } from "../../src/protocol/header_map.ts";
import { RouteTable } from "../../src/router/mod.ts";
import { goodConfig, req, sequence, tableOf } from "./_helpers.ts";

function weighted(random: () => number) {
  return tableOf([{
    match: { prefix: "/" },
    route: {
      metadata_match: { filter_metadata: { "mosn.lb": { zone: "a", version: "1" } } },
      weighted_clusters: [
        { cluster: { name: "stable", weight: 70 } },
        {
          cluster: {
            name: "canary",
            weight: 30,
            metadata_match: { filter_metadata: { "mosn.lb": { version: "2" } } },
          },
        },
      ],
    },
  }], { random });
}

Deno.test("weighted clusters split 70/30 within ±5% over 1000 picks (seeded random)", () => {
  let seed = 42;
  const lcg = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const m = weighted(lcg).match(req("/"))!;
  const counts: Record<string, number> = {};
  for (let i = 0; i < 1000; i++) {
    const c = m.clusterName();
    counts[c] = (counts[c] ?? 0) + 1;
  }
  assert.deepEqual(Object.keys(counts).sort(), ["canary", "stable"]);
  assert.ok(Math.abs(counts["stable"]! - 700) <= 50, JSON.stringify(counts));
  assert.ok(Math.abs(counts["canary"]! - 300) <= 50, JSON.stringify(counts));
});

Deno.test("a weighted pick maps random ranges onto cumulative weights", () => {
  const m = weighted(sequence([0, 0.699, 0.7, 0.999])).match(req("/"))!;
  assert.deepEqual([1, 2, 3, 4].map(() => m.clusterName()), [
    "stable",
    "stable",
    "canary",
    "canary",
  ]);
});

Deno.test("a weighted cluster's metadata_match is merged over the route's", () => {
  const m = weighted(Math.random).match(req("/"))!;
  assert.deepEqual(m.metadataMatch, { zone: "a", version: "1" });
  assert.deepEqual(m.metadataMatchFor("canary"), { zone: "a", version: "2" });
  assert.deepEqual(m.metadataMatchFor("stable"), { zone: "a", version: "1" });
});

Deno.test("cluster_header picks the cluster from the request", () => {
  const m = tableOf([{ match: {}, route: { cluster_header: "X-Cluster" } }]).match(req("/"))!;
  assert.equal(m.clusterName(req("/", { headers: { "x-cluster": "c2" } })), "c2");
  assert.equal(m.clusterName(req("/")), "");
});

Deno.test("timeout, retry policy and upstream protocol are exposed on the match", () => {
  const m = tableOf([{
    match: {},
    route: {
      cluster_name: "c1",
      timeout: "250ms",
      retry_policy: { retry_on: true, num_retries: 1 },
      upstream_protocol: "http1",
    },
  }]).match(req("/"))!;
  assert.equal(m.timeoutMs, 250);
  assert.equal(m.retryPolicy?.numRetries, 1);
  assert.equal(m.upstreamProtocol, "Http1");
  assert.equal(m.directResponse, undefined);
});

Deno.test("prefix_rewrite replaces the matched prefix and keeps the query string", () => {
  const t = tableOf([
    { match: { prefix: "/api/" }, route: { cluster_name: "c1", prefix_rewrite: "/v2/" } },
    { match: { prefix: "/Strip" }, route: { cluster_name: "c1", prefix_rewrite: "" } },
    {
      match: { path: "/old", case_sensitive: false },
      route: { cluster_name: "c1", prefix_rewrite: "/new" },
    },
    { match: {}, route: { cluster_name: "c1", prefix_rewrite: "/root/" } },
  ]);
  const rw = (p: string) => t.match(req(p))!.rewritePath(p);
  assert.equal(rw("/api/users?id=1&x=/api/"), "/v2/users?id=1&x=/api/");
  assert.equal(rw("/Strip/x?q"), "/Strip/x?q"); // "" is no rewrite
  assert.equal(rw("/OLD?a=b"), "/new?a=b");
  assert.equal(rw("/else?z"), "/root/else?z");
});

Deno.test("regex_rewrite replaces every match in the path and keeps the query string", () => {
  const t = tableOf([
    {
      match: { prefix: "/svc/" },
      route: {
        cluster_name: "c1",
        regex_rewrite: { pattern: { regex: "^/svc/([^/]+)/(.*)$" }, substitution: "/$2/${1}x" },
      },
    },
    {
      match: { prefix: "/named/" },
      route: {
        cluster_name: "c1",
        regex_rewrite: {
          pattern: { regex: "/named/(?P<id>[0-9]+)" },
          substitution: "/by-id/${id}",
        },
      },
    },
    {
      match: { prefix: "/envoy" },
      route: {
        cluster_name: "c1",
        regex_rewrite: { pattern: { regex: "^/envoy/(.*)" }, substitution: "/\\1" },
      },
    },
    {
      match: {},
      route: {
        cluster_name: "c1",
        regex_rewrite: { pattern: { regex: "o" }, substitution: "0" },
      },
    },
  ]);
  const rw = (p: string) => t.match(req(p))!.rewritePath(p);
  assert.equal(rw("/svc/users/list?o=o"), "/list/usersx?o=o");
  assert.equal(rw("/named/42/x"), "/by-id/42/x");
  assert.equal(rw("/foo/boo?o"), "/f00/b00?o");
  assert.equal(rw("/envoy/a/b?k=v"), "/a/b?k=v"); // Envoy-style \1
});

Deno.test("host_rewrite and auto_host_rewrite_header give the upstream host", () => {
  const t = tableOf([
    { match: { prefix: "/a" }, route: { cluster_name: "c1", host_rewrite: "backend:8080" } },
    { match: { prefix: "/b" }, route: { cluster_name: "c1", auto_host_rewrite_header: "X-Host" } },
    { match: {}, route: { cluster_name: "c1" } },
  ]);
  assert.equal(t.match(req("/a"))!.rewriteHost(), "backend:8080");
  const b = req("/b", { headers: { "x-host": "from-header" } });
  assert.equal(t.match(b)!.rewriteHost(b), "from-header");
  assert.equal(t.match(req("/c"))!.rewriteHost(req("/c")), undefined);
});

function headerTable(): RouteTable {
  const add = (key: string, value: string, append?: boolean) => ({
    header: { key, value },
    ...(append === undefined ? {} : { append }),
  });
  return new RouteTable(goodConfig({
    router_config_name: "r",
    request_headers_to_add: [add("x-level", "router", false), add("x-trail", "router")],
    request_headers_to_remove: ["x-vh-only"],
    response_headers_to_add: [add("x-resp", "router")],
    virtual_hosts: [{
      domains: ["*"],
      request_headers_to_add: [
        add("x-level", "vhost", false),
        add("x-trail", "vhost"),
        add("x-vh-only", "1"),
      ],
      response_headers_to_add: [add("x-resp", "vhost", false)],
      routers: [{
        match: {},
        route: {
          cluster_name: "c1",
          request_headers_to_add: [
            add("x-level", "route", false),
            add("x-trail", "route"),
            add("x-replace", "new", false),
            add("x-client", "%DOWNSTREAM_REMOTE_ADDRESS%", false),
            add("x-unknown-var", "%NOPE%", false),
          ],
          request_headers_to_remove: ["x-secret", "x-replace"],
          response_headers_to_add: [add("set-cookie", "b=2")],
          response_headers_to_remove: ["server"],
        },
      }],
    }],
  }));
}

Deno.test("request headers: route, then virtual host, then router; remove before add per level", () => {
  const h = HeaderMap.from([
    ["X-Trail", "client"],
    ["X-Secret", "s"],
    ["X-Replace", "old"],
    ["Host", "example.com"],
  ]);
  const vars = (name: string) => name === "DOWNSTREAM_REMOTE_ADDRESS" ? "10.0.0.1:5555" : undefined;
  headerTable().match(req("/"))!.applyRequestHeaders(h, vars);
  // append=false: the least specific level is applied last and wins (Envoy's default order).
  assert.deepEqual(h.getAll("x-level"), ["router"]);
  // append=true: every level adds a value after the client's, most specific first.
  assert.deepEqual(h.getAll("x-trail"), ["client", "route", "vhost", "router"]);
  assert.equal(h.get("x-secret"), undefined);
  assert.deepEqual(h.getAll("x-replace"), ["new"]); // removed, then added at the same level
  assert.equal(h.get("x-vh-only"), undefined); // the router level removed what the vhost added
  assert.equal(h.get("x-client"), "10.0.0.1:5555");
  assert.equal(h.get("x-unknown-var"), "%NOPE%");
  assert.equal(h.get("host"), "example.com");
});

Deno.test("response headers: append keeps existing values (Set-Cookie stays separate lines)", () => {
  const h = HeaderMap.from([["Set-Cookie", "a=1"], ["Server", "upstream"]]);
  headerTable().match(req("/"))!.applyResponseHeaders(h);
  assert.deepEqual(h.getAll("set-cookie"), ["a=1", "b=2"]);
  assert.equal(h.get("server"), undefined);
  assert.deepEqual(h.getAll("x-resp"), ["vhost", "router"]); // vhost replaced, router appended
});

Deno.test("direct response routes expose status and body and no cluster", () => {
  const m = tableOf([{ match: { path: "/health" }, direct_response: { status: 204 } }])
    .match(req("/health"))!;
  assert.deepEqual(m.directResponse, { status: 204, body: "" });
  assert.equal(m.clusterName(), "");
  assert.equal(m.redirectLocation(req("/health")), undefined);
});

Deno.test("redirect locations", () => {
  const t = tableOf([
    { match: { prefix: "/host" }, redirect: { host_redirect: "new.example.com" } },
    { match: { prefix: "/https" }, redirect: { https_redirect: true, response_code: 308 } },
    { match: { prefix: "/scheme" }, redirect: { scheme_redirect: "http" } },
    { match: { prefix: "/path" }, redirect: { path_redirect: "/moved", strip_query: true } },
    { match: { prefix: "/pq" }, redirect: { path_redirect: "/moved?x=1", strip_query: true } },
    { match: { prefix: "/old/" }, redirect: { prefix_rewrite: "/new/", response_code: 302 } },
    { match: { prefix: "/port" }, redirect: { port_redirect: 8443, scheme_redirect: "https" } },
  ]);
  const loc = (path: string, authority = "example.com", scheme?: string) => {
    const r = req(path, { authority, ...(scheme ? { scheme } : {}) });
    return t.match(r)!.redirectLocation(r);
  };
  assert.equal(loc("/host/a?q=1"), "http://new.example.com/host/a?q=1");
  assert.equal(loc("/https/x", "example.com:80"), "https://example.com/https/x");
  assert.equal(loc("/https/x", "example.com:8080"), "https://example.com:8080/https/x");
  assert.equal(loc("/scheme", "example.com:443", "https"), "http://example.com/scheme");
  assert.equal(loc("/path/a?q=1"), "http://example.com/moved");
  assert.equal(loc("/pq?q=1"), "http://example.com/moved?x=1");
  assert.equal(loc("/old/a/b?c=d"), "http://example.com/new/a/b?c=d");
  assert.equal(loc("/port/x", "example.com:80"), "https://example.com:8443/port/x");
  assert.equal(t.match(req("/https"))!.redirect?.responseCode, 308);
  assert.equal(t.match(req("/host"))!.redirect?.responseCode, 301);
});
