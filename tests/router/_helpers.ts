/** Builds router configs the way mosn.ts does (JSON → parseRouters) and requests for them. */

import assert from "node:assert/strict";
import type { RouterConfig } from "../../src/config/router_model.ts";
import { parseRouters } from "../../src/config/router_parse.ts";
import { ParseContext } from "../../src/config/reader.ts";
import { HeaderMap } from "../../src/protocol/header_map.ts";
import { RouteTable, type RouteTableOptions } from "../../src/router/mod.ts";
import type { RouteRequest } from "../../src/router/mod.ts";

export const CLUSTERS: ReadonlySet<string> = new Set(["c1", "c2", "c3", "canary", "stable"]);

/** Parses one router document at path `routers[0]`. */
export function parseOne(
  doc: unknown,
  clusters = CLUSTERS,
): { cfg: RouterConfig; ctx: ParseContext } {
  const ctx = new ParseContext();
  const [cfg] = parseRouters([{ value: doc, path: "routers[0]" }], ctx, clusters);
  return { cfg: cfg!, ctx };
}

/** A parsed config that must have no issues and no warnings. */
export function goodConfig(doc: unknown): RouterConfig {
  const { cfg, ctx } = parseOne(doc);
  assert.deepEqual(ctx.issues, []);
  assert.deepEqual(ctx.warnings, []);
  return cfg;
}

/** A table with one virtual host (domains `*` unless given) holding `routes`. */
export function tableOf(
  routes: unknown[],
  opts: RouteTableOptions & { domains?: string[]; vhost?: Record<string, unknown> } = {},
): RouteTable {
  return new RouteTable(
    goodConfig({
      router_config_name: "r",
      virtual_hosts: [{
        name: "vh",
        domains: opts.domains ?? ["*"],
        routers: routes,
        ...opts.vhost,
      }],
    }),
    opts,
  );
}

/** A route to cluster `cluster` with the given match. */
export function to(cluster: string, match: Record<string, unknown> = {}): unknown {
  return { match, route: { cluster_name: cluster } };
}

export function req(
  path: string,
  opts: { authority?: string; method?: string; headers?: Record<string, string>; scheme?: string } =
    {},
): RouteRequest {
  return {
    authority: opts.authority ?? "example.com",
    path,
    method: opts.method ?? "GET",
    headers: HeaderMap.from(opts.headers ?? {}),
    ...(opts.scheme ? { scheme: opts.scheme } : {}),
  };
}

/** The cluster a request routes to, or undefined for no route. */
export function clusterFor(table: RouteTable, r: RouteRequest): string | undefined {
  return table.match(r)?.clusterName(r);
}

/** A deterministic random source cycling through `values`. */
export function sequence(values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length]!;
}
