// deno-lint-ignore-file no-explicit-any -- test documents are built by mutating loose JSON
import assert from "node:assert/strict";
import { compileGoRegex, parseRouters } from "../../src/config/router_parse.ts";
import { ParseContext } from "../../src/config/reader.ts";
import { CLUSTERS, goodConfig, parseOne } from "./_helpers.ts";

function fullDoc(): Record<string, any> {
  return {
    router_config_name: "http_router",
    request_headers_to_add: [{ header: { key: "X-Router", value: "r" }, append: false }],
    response_headers_to_remove: ["Server"],
    virtual_hosts: [{
      name: "vh1",
      domains: ["Example.COM", "*.example.com", "api.example.com:*"],
      request_headers_to_add: [{ header: { key: "x-vh", value: "v" } }],
      per_filter_config: { fault: { delay: "1s" } },
      routers: [
        {
          match: {
            prefix: "/api",
            headers: [
              { name: "X-Version", value: "v[12]", regex: true },
              { name: "x-user", value: "bob" },
              { name: "x-debug" },
            ],
            query_parameters: [{ name: "q", value: "1" }],
            methods: ["get", "POST"],
          },
          route: {
            weighted_clusters: [
              { cluster: { name: "stable", weight: 90 } },
              {
                cluster: {
                  name: "canary",
                  weight: 10,
                  metadata_match: { filter_metadata: { "mosn.lb": { version: "2" } } },
                },
              },
            ],
            metadata_match: { filter_metadata: { "mosn.lb": { zone: "a" } } },
            timeout: "1.5s",
            retry_policy: { retry_on: true, retry_timeout: "300ms", num_retries: 2 },
            prefix_rewrite: "/v2",
            host_rewrite: "backend.local",
            upstream_protocol: "Http2",
            hash_policy: [{ header: { key: "X-User" } }],
            request_headers_to_remove: ["X-Internal"],
          },
          metadata: { filter_metadata: { "mosn.lb": { label: "gray" } } },
        },
        { match: { path: "/health" }, direct_response: { status: 200, body: "ok" } },
        {
          match: { regex: "^/old/.*" },
          redirect: { host_redirect: "new.example.com", scheme_redirect: "HTTPS" },
        },
        { match: {}, route: { cluster_name: "c1" } },
      ],
    }],
  };
}

Deno.test("a full MOSN router config parses into the typed model with defaults", () => {
  const cfg = goodConfig(fullDoc());
  assert.equal(cfg.routerConfigName, "http_router");
  assert.deepEqual(cfg.requestHeadersToAdd, [{ key: "x-router", value: "r", append: false }]);
  assert.deepEqual(cfg.responseHeadersToRemove, ["server"]);
  const vh = cfg.virtualHosts[0]!;
  assert.deepEqual(vh.domains, ["example.com", "*.example.com", "api.example.com"]);
  assert.deepEqual(vh.requestHeadersToAdd, [{ key: "x-vh", value: "v", append: true }]);
  assert.deepEqual(vh.perFilterConfig, { fault: { delay: "1s" } });

  const [api, health, old, fallback] = vh.routers;
  assert.deepEqual(api!.match, {
    prefix: "/api",
    headers: [
      { name: "x-version", value: "v[12]", regex: true, invert: false },
      { name: "x-user", value: "bob", regex: false, invert: false },
      { name: "x-debug", value: "", regex: false, invert: false, present: true },
    ],
    queryParameters: [{ name: "q", value: "1", regex: false }],
    methods: ["GET", "POST"],
  });
  assert.deepEqual(api!.route, {
    clusterName: "",
    weightedClusters: [
      { name: "stable", weight: 90 },
      { name: "canary", weight: 10, metadataMatch: { version: "2" } },
    ],
    metadataMatch: { zone: "a" },
    timeoutMs: 1500,
    retryPolicy: {
      retryOn: ["connect-failure", "reset", "per-try-timeout", "5xx"],
      retriableStatusCodes: [],
      numRetries: 2,
      retryTimeoutMs: 300,
    },
    prefixRewrite: "/v2",
    hostRewrite: "backend.local",
    autoHostRewrite: false,
    upstreamProtocol: "Http2",
    hashPolicy: [{ kind: "header", key: "x-user" }],
  });
  assert.deepEqual(api!.requestHeadersToRemove, ["x-internal"]);
  assert.deepEqual(api!.metadata, { label: "gray" });
  assert.deepEqual(health!.directResponse, { status: 200, body: "ok" });
  assert.equal(health!.route, undefined);
  assert.deepEqual(old!.redirect, {
    responseCode: 301,
    schemeRedirect: "https",
    httpsRedirect: false,
    hostRedirect: "new.example.com",
    stripQuery: false,
  });
  assert.deepEqual(fallback!.match, { headers: [], queryParameters: [] });
  assert.equal(fallback!.route?.clusterName, "c1");
  assert.equal(fallback!.route?.timeoutMs, 0);
  assert.equal(fallback!.route?.retryPolicy, undefined);
  assert.ok(Object.isFrozen(cfg) && Object.isFrozen(api!.match.headers[0]));
});

Deno.test("keys are case-insensitive and Envoy spellings are accepted", () => {
  const cfg = goodConfig({
    Router_Config_Name: "r",
    virtual_hosts: [{
      domains: ["*"],
      routers: [{
        match: {
          PREFIX: "/",
          case_sensitive: false,
          headers: [
            { name: "a", exact_match: "x", invert_match: true },
            { name: "b", safe_regex_match: { regex: "y+" } },
            { name: "c", present_match: false },
          ],
          query_parameters: [{ name: "p", string_match: { exact: "1" } }, { name: "flag" }],
        },
        route: {
          cluster_header: "X-Cluster",
          retry_policy: {
            retry_on: "5xx, connect-failure",
            per_try_timeout: "2s",
            retriable_status_codes: [503],
          },
          regex_rewrite: { pattern: { google_re2: {}, regex: "^/a/(.*)" }, substitution: "/b/\\1" },
        },
        request_headers_to_add: [{
          header: { key: "x-a", value: "1" },
          append_action: "OVERWRITE_IF_EXISTS_OR_ADD",
        }],
      }],
    }],
  });
  const r = cfg.virtualHosts[0]!.routers[0]!;
  assert.equal(r.match.caseSensitive, false);
  assert.deepEqual(r.match.headers, [
    { name: "a", value: "x", regex: false, invert: true },
    { name: "b", value: "y+", regex: true, invert: false },
    { name: "c", value: "", regex: false, invert: false, present: false },
  ]);
  assert.deepEqual(r.match.queryParameters, [
    { name: "p", value: "1", regex: false },
    { name: "flag", value: "", regex: false, present: true },
  ]);
  assert.equal(r.route?.clusterHeader, "x-cluster");
  assert.deepEqual(r.route?.retryPolicy, {
    retryOn: ["5xx", "connect-failure"],
    retriableStatusCodes: [503],
    numRetries: 3,
    retryTimeoutMs: 2000,
  });
  assert.deepEqual(r.route?.regexRewrite, {
    pattern: { regex: "^/a/(.*)" },
    substitution: "/b/\\1",
  });
  assert.deepEqual(r.requestHeadersToAdd, [{ key: "x-a", value: "1", append: false }]);
});

Deno.test("MOSN retry_on false keeps connect-failure retries; status_codes switch 5xx off", () => {
  const policy = (rp: unknown) =>
    goodConfig({
      router_config_name: "r",
      virtual_hosts: [{
        domains: ["*"],
        routers: [{ match: { prefix: "/" }, route: { cluster_name: "c1", retry_policy: rp } }],
      }],
    }).virtualHosts[0]!.routers[0]!.route!.retryPolicy;
  assert.deepEqual(policy({ retry_on: false })?.retryOn, ["connect-failure"]);
  assert.deepEqual(policy({ retry_on: true, status_codes: [502, 504] }), {
    retryOn: ["connect-failure", "reset", "per-try-timeout", "retriable-status-codes"],
    retriableStatusCodes: [502, 504],
    numRetries: 3,
    retryTimeoutMs: 0,
  });
});

Deno.test("a route in MOSN's config-dump shape (empty route next to direct_response) is accepted", () => {
  const cfg = goodConfig({
    router_config_name: "r",
    virtual_hosts: [{
      domains: ["*"],
      routers: [{
        match: { prefix: "/" },
        route: { timeout: "0s" },
        direct_response: { status: 503, body: { inline_string: "down" } },
      }],
    }],
  });
  const r = cfg.virtualHosts[0]!.routers[0]!;
  assert.equal(r.route, undefined);
  assert.deepEqual(r.directResponse, { status: 503, body: "down" });
});

Deno.test("unknown keys are warned about with their path, not fatal", () => {
  const doc = fullDoc();
  doc.virtual_hosts[0].routers[3].match.prefx = "/typo";
  const { ctx } = parseOne(doc);
  assert.deepEqual(ctx.issues, []);
  assert.deepEqual(ctx.warnings, [{
    path: "routers[0].virtual_hosts[0].routers[3].match.prefx",
    message: "unknown key, ignored",
  }]);
});

const R = "routers[0].virtual_hosts[0].routers[0]";
const bad: { name: string; edit: (d: Record<string, any>) => void; path: string; msg: RegExp }[] = [
  {
    name: "unknown cluster_name",
    edit: (d) => (d.virtual_hosts[0].routers[3].route.cluster_name = "nope"),
    path: "routers[0].virtual_hosts[0].routers[3].route.cluster_name",
    msg: /^unknown cluster "nope"$/,
  },
  {
    name: "unknown weighted cluster",
    edit: (d) => (d.virtual_hosts[0].routers[0].route.weighted_clusters[1].cluster.name = "x"),
    path: `${R}.route.weighted_clusters[1].cluster.name`,
    msg: /^unknown cluster "x"$/,
  },
  {
    name: "zero weight",
    edit: (d) => (d.virtual_hosts[0].routers[0].route.weighted_clusters[0].cluster.weight = 0),
    path: `${R}.route.weighted_clusters[0].cluster.weight`,
    msg: /must be > 0, got 0/,
  },
  {
    name: "bad path regex",
    edit: (d) => (d.virtual_hosts[0].routers[2].match.regex = "^/old/(.*"),
    path: "routers[0].virtual_hosts[0].routers[2].match.regex",
    msg: /invalid regex "\^\/old\/\(\.\*"/,
  },
  {
    name: "bad header regex",
    edit: (d) => (d.virtual_hosts[0].routers[0].match.headers[0].value = "v[12"),
    path: `${R}.match.headers[0].value`,
    msg: /invalid regex "v\[12"/,
  },
  {
    name: "bad regex_rewrite pattern",
    edit: (d) => {
      const a = d.virtual_hosts[0].routers[0].route;
      delete a.prefix_rewrite;
      a.regex_rewrite = { pattern: { regex: "(?P<x" }, substitution: "" };
    },
    path: `${R}.route.regex_rewrite.pattern.regex`,
    msg: /invalid regex "\(\?P<x"/,
  },
  {
    name: "route without an action",
    edit: (d) => delete d.virtual_hosts[0].routers[3].route,
    path: "routers[0].virtual_hosts[0].routers[3]",
    msg: /needs one of route, direct_response, redirect/,
  },
  {
    name: "route and direct_response together",
    edit: (d) => (d.virtual_hosts[0].routers[3].direct_response = { status: 200 }),
    path: "routers[0].virtual_hosts[0].routers[3]",
    msg: /only one of route, direct_response, redirect/,
  },
  {
    name: "route action without a cluster",
    edit: (d) => (d.virtual_hosts[0].routers[3].route = { timeout: "1s" }),
    path: "routers[0].virtual_hosts[0].routers[3].route",
    msg: /needs one of cluster_name, weighted_clusters, cluster_header/,
  },
  {
    name: "direct response status out of range",
    edit: (d) => (d.virtual_hosts[0].routers[1].direct_response.status = 42),
    path: "routers[0].virtual_hosts[0].routers[1].direct_response.status",
    msg: /expected an HTTP status code 100-599, got 42/,
  },
  {
    name: "direct response without status",
    edit: (d) => delete d.virtual_hosts[0].routers[1].direct_response.status,
    path: "routers[0].virtual_hosts[0].routers[1].direct_response.status",
    msg: /is required/,
  },
  {
    name: "unsupported redirect code",
    edit: (d) => (d.virtual_hosts[0].routers[2].redirect.response_code = 200),
    path: "routers[0].virtual_hosts[0].routers[2].redirect.response_code",
    msg: /unsupported redirect code 200/,
  },
  {
    name: "retriable status code out of range",
    edit: (d) => (d.virtual_hosts[0].routers[0].route.retry_policy.status_codes = [700]),
    path: `${R}.route.retry_policy.status_codes[0]`,
    msg: /expected an HTTP status code 100-599, got 700/,
  },
  {
    name: "unknown retry condition",
    edit: (d) => (d.virtual_hosts[0].routers[0].route.retry_policy.retry_on = "5xx,teapot"),
    path: `${R}.route.retry_policy.retry_on`,
    msg: /unknown retry condition "teapot"/,
  },
  {
    name: "bad duration",
    edit: (d) => (d.virtual_hosts[0].routers[0].route.timeout = "soon"),
    path: `${R}.route.timeout`,
    msg: /expected a duration/,
  },
  {
    name: "two path matchers",
    edit: (d) => (d.virtual_hosts[0].routers[0].match.path = "/api"),
    path: `${R}.match`,
    msg: /only one of prefix, path, regex/,
  },
  {
    name: "wildcard in the middle of a domain",
    edit: (d) => (d.virtual_hosts[0].domains[1] = "a.*.com"),
    path: "routers[0].virtual_hosts[0].domains[1]",
    msg: /wildcard must be the first or the last character/,
  },
  {
    name: "the same domain in two virtual hosts",
    edit: (d) => d.virtual_hosts.push({ domains: ["EXAMPLE.com"], routers: [] }),
    path: "routers[0].virtual_hosts[1].domains[0]",
    msg:
      /duplicate domain "example.com" \(also at routers\[0\]\.virtual_hosts\[0\]\.domains\[0\]\)/,
  },
  {
    name: "invalid redirect scheme",
    edit: (d) => (d.virtual_hosts[0].routers[2].redirect.scheme_redirect = "ht tp"),
    path: "routers[0].virtual_hosts[0].routers[2].redirect.scheme_redirect",
    msg: /invalid scheme "ht tp"/,
  },
  {
    name: "header to add without a key",
    edit: (d) => (d.request_headers_to_add[0].header = { value: "x" }),
    path: "routers[0].request_headers_to_add[0].header.key",
    msg: /is required/,
  },
  {
    name: "missing router_config_name",
    edit: (d) => delete d.router_config_name,
    path: "routers[0].router_config_name",
    msg: /is required/,
  },
];

for (const c of bad) {
  Deno.test(`bad router config: ${c.name} is reported at ${c.path}`, () => {
    const doc = fullDoc();
    c.edit(doc);
    const { ctx } = parseOne(doc);
    const hit = ctx.issues.find((i) => i.path === c.path);
    assert.ok(hit, `no issue at ${c.path}; got ${JSON.stringify(ctx.issues)}`);
    assert.match(hit.message, c.msg);
  });
}

Deno.test("a duplicate router_config_name is an error naming the first one", () => {
  const ctx = new ParseContext();
  const doc = { router_config_name: "r", virtual_hosts: [] };
  parseRouters(
    [
      { value: doc, path: "servers[0].routers[0]" },
      { value: doc, path: "servers[0].routers[1]" },
    ],
    ctx,
    CLUSTERS,
  );
  assert.deepEqual(ctx.issues, [{
    path: "servers[0].routers[1].router_config_name",
    message: 'duplicate router_config_name "r" (also at servers[0].routers[0])',
  }]);
  assert.equal(ctx.warnings.length, 2); // no virtual hosts → every request 404s
});

Deno.test("Go regex syntax is translated to JS", () => {
  const re = (s: string, mode: "search" | "full" = "search") => {
    const r = compileGoRegex(s, mode);
    assert.ok(r instanceof RegExp, String(r));
    return r;
  };
  assert.ok(re("(?i)^/API").test("/api/x"));
  assert.equal(re("(?P<ver>v[0-9]+)").exec("/v12/")?.groups?.["ver"], "v12");
  assert.ok(re("\\A/a\\z").test("/a") && !re("\\A/a\\z").test("/a/"));
  assert.ok(re("^[[:digit:]]+$").test("123") && !re("^[[:digit:]]+$").test("12a"));
  assert.ok(re("v1", "full").test("v1") && !re("v1", "full").test("xv1"));
  assert.ok(re("a|b", "full").test("b") && !re("a|b", "full").test("ab"));
  assert.match(String(compileGoRegex("(?U)a+", "search")), /U flag is not supported/);
});
