/**
 * Route matching on a 50-route table: `./deno bench bench/micro/route_match.bench.ts`.
 * Target: a typical request ≪ 1 µs (vhost lookup + first-match scan + cluster pick).
 */

import { parseRouters } from "../../src/config/router_parse.ts";
import { ParseContext } from "../../src/config/reader.ts";
import { HeaderMap } from "../../src/protocol/header_map.ts";
import { RouteTable } from "../../src/router/mod.ts";
import type { RouteRequest } from "../../src/router/mod.ts";

const clusters = new Set(Array.from({ length: 10 }, (_, i) => `c${i}`));
const routes: unknown[] = [];
for (let i = 0; i < 40; i++) {
  routes.push({ match: { prefix: `/svc${i}/` }, route: { cluster_name: `c${i % 10}` } });
}
for (let i = 0; i < 5; i++) {
  routes.push({ match: { path: `/exact/${i}` }, route: { cluster_name: "c1" } });
}
routes.push({
  match: { prefix: "/hdr", headers: [{ name: "x-version", value: "v2" }] },
  route: { cluster_name: "c2" },
});
routes.push({ match: { regex: "^/re/[0-9]+/items$" }, route: { cluster_name: "c3" } });
routes.push({
  match: { prefix: "/q", query_parameters: [{ name: "tenant", value: "acme" }] },
  route: { cluster_name: "c4" },
});
routes.push({
  match: { prefix: "/w" },
  route: {
    weighted_clusters: [
      { cluster: { name: "c5", weight: 90 } },
      { cluster: { name: "c6", weight: 10 } },
    ],
  },
});
routes.push({ match: { prefix: "/" }, route: { cluster_name: "c0" } });

const ctx = new ParseContext();
const [config] = parseRouters(
  [{
    value: {
      router_config_name: "bench",
      virtual_hosts: [
        { name: "other", domains: ["other.example.com", "*.other.net"], routers: [routes[0]] },
        { name: "main", domains: ["api.example.com", "*.example.com", "*"], routers: routes },
      ],
    },
    path: "routers[0]",
  }],
  ctx,
  clusters,
);
if (ctx.issues.length > 0) throw new Error(JSON.stringify(ctx.issues));
const table = new RouteTable(config!);

function request(path: string, authority = "api.example.com", extra: [string, string][] = []) {
  const headers = HeaderMap.from([
    ["Host", authority],
    ["User-Agent", "bench/1.0"],
    ["Accept", "*/*"],
    ["X-Request-Id", "0123456789abcdef"],
    ...extra,
  ]);
  return { authority, path, method: "GET", headers } satisfies RouteRequest;
}

function bench(name: string, r: RouteRequest, want: boolean) {
  if ((table.match(r) !== undefined) !== want) throw new Error(`${name}: unexpected result`);
  Deno.bench(name, () => {
    table.match(r)?.clusterName(r);
  });
}

bench("first route (prefix), exact host", request("/svc0/users/42?x=1"), true);
bench("20th route (prefix)", request("/svc19/users/42"), true);
bench("40th route (prefix), host with port", request("/svc39/a", "api.example.com:8080"), true);
bench("exact path, case-insensitive", request("/EXACT/4"), true);
bench("header matcher", request("/hdr/x", "api.example.com", [["X-Version", "v2"]]), true);
bench("regex route (unanchored test)", request("/re/123/items?page=2"), true);
bench("query parameter matcher", request("/q/list?page=1&tenant=acme"), true);
bench("weighted clusters pick", request("/w/x"), true);
bench("suffix-wildcard host, catch-all route", request("/zzz", "eu.example.com"), true);
bench("default vhost, catch-all (50th route)", request("/nothing-else", "unknown.org"), true);
