/** A compiled router config: picks the virtual host by authority, then the first matching route. */

import type { RouterConfig } from "../config/router_model.ts";
import { DomainIndex } from "./_domains.ts";
import { HeaderMutations } from "./_header_mutations.ts";
import { RouteEntry } from "./_route_entry.ts";
import type { RouteMatch, RouteRequest } from "./types.ts";

export interface RouteTableOptions {
  /** Uniform in [0, 1); drives weighted-cluster picks. Default `Math.random`. */
  random?: () => number;
}

/** A virtual host as built: its domains and compiled routes (read by the admin API). */
export interface CompiledVirtualHost {
  readonly name: string;
  readonly domains: readonly string[];
  readonly routes: readonly RouteEntry[];
}

/**
 * Route lookup for one `router_config_name`. Built once per config (regexes compiled, domains
 * lower-cased); `match` allocates nothing for prefix/path routes without query conditions.
 *
 * @example
 * ```ts
 * const table = new RouteTable(config);
 * const m = table.match({ authority: "a.com", path: "/api?x=1", method: "GET", headers });
 * if (m === undefined) respond(404);
 * else forward(m.clusterName(req), m.rewritePath(req.path));
 * ```
 */
export class RouteTable {
  readonly name: string;
  readonly config: RouterConfig;
  readonly #hosts = new DomainIndex<CompiledVirtualHost>();
  readonly #virtualHosts: CompiledVirtualHost[] = [];

  constructor(config: RouterConfig, options: RouteTableOptions = {}) {
    this.name = config.routerConfigName;
    this.config = config;
    const random = options.random ?? Math.random;
    const top = {
      request: HeaderMutations.of(config.requestHeadersToAdd, config.requestHeadersToRemove),
      response: HeaderMutations.of(config.responseHeadersToAdd, config.responseHeadersToRemove),
    };
    for (const vh of config.virtualHosts) {
      const own = {
        request: HeaderMutations.of(vh.requestHeadersToAdd, vh.requestHeadersToRemove),
        response: HeaderMutations.of(vh.responseHeadersToAdd, vh.responseHeadersToRemove),
      };
      const outer = {
        request: [own.request, top.request].filter((x) => x !== undefined),
        response: [own.response, top.response].filter((x) => x !== undefined),
      };
      const compiled: CompiledVirtualHost = {
        name: vh.name,
        domains: vh.domains,
        routes: vh.routers.map((r) => new RouteEntry(vh.name, r, outer, random)),
      };
      this.#virtualHosts.push(compiled);
      for (const d of vh.domains) this.#hosts.add(d, compiled);
    }
    this.#hosts.seal();
  }

  /** The first route of the selected virtual host that `req` satisfies, or undefined (→ 404). */
  match(req: RouteRequest): RouteMatch | undefined {
    const vh = this.#hosts.find(req.authority);
    if (vh === undefined) return undefined;
    const path = req.path;
    let pathEnd = path.indexOf("?");
    if (pathEnd < 0) pathEnd = path.length;
    const routes = vh.routes;
    for (let i = 0; i < routes.length; i++) {
      const r = routes[i]!;
      if (r.matches(req, pathEnd)) {
        r.hits++;
        return r;
      }
    }
    return undefined;
  }

  /** The virtual hosts in config order, with their routes and hit counts. */
  virtualHosts(): readonly CompiledVirtualHost[] {
    return this.#virtualHosts;
  }

  /** Name of the virtual host `authority` selects, or undefined (for diagnostics and tests). */
  virtualHostFor(authority: string): string | undefined {
    return this.#hosts.find(authority)?.name;
  }
}
