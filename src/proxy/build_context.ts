/** Builds the per-listener ProxyContext of a `proxy` network filter from config and services. */

import type { ProxyFilterConfig } from "../config/model.ts";
import type { RetryPolicyConfig } from "../config/router_model.ts";
import type { FilterDeps } from "../filter/network/types.ts";
import type { HeaderMap } from "../protocol/header_map.ts";
import type { RouteMatch } from "../router/types.ts";
import type { RouteTable } from "../router/route_table.ts";
import type { RequestMessage } from "../stream/types.ts";
import type { ProxyContext, RetryPolicyView, RouteSource, RouteView } from "./context.ts";
import { downstreamRequestStats, RouteStatsCache, UpstreamStatsCache } from "./stats.ts";

const retryViews = new WeakMap<RetryPolicyConfig, RetryPolicyView>();

function retryView(p: RetryPolicyConfig | undefined): RetryPolicyView | undefined {
  if (!p) return undefined;
  let v = retryViews.get(p);
  if (!v) {
    v = {
      retryOn: new Set(p.retryOn),
      numRetries: p.numRetries,
      perTryTimeoutMs: p.retryTimeoutMs,
      retriableStatusCodes: new Set(p.retriableStatusCodes),
    };
    retryViews.set(p, v);
  }
  return v;
}

/** Adapts a matched route of the router to what the proxy needs. */
class MatchedRoute implements RouteView {
  readonly #m: RouteMatch;
  readonly #req: RequestMessage;
  readonly retryPolicy: RetryPolicyView | undefined;
  constructor(m: RouteMatch, req: RequestMessage) {
    this.#m = m;
    this.#req = req;
    this.retryPolicy = retryView(m.retryPolicy);
  }
  get name(): string {
    return this.#m.route.match.prefix ?? this.#m.route.match.path ?? this.#m.route.match.regex ??
      "";
  }
  get virtualHostName(): string {
    return this.#m.virtualHost;
  }
  get directResponse() {
    return this.#m.directResponse;
  }
  get timeoutMs(): number {
    return this.#m.timeoutMs;
  }
  get upstreamProtocol(): string | undefined {
    return this.#m.upstreamProtocol;
  }
  redirect(req: RequestMessage): { status: number; location: string } | undefined {
    const r = this.#m.redirect;
    if (!r) return undefined;
    const location = this.#m.redirectLocation(req);
    return location === undefined ? undefined : { status: r.responseCode, location };
  }
  clusterName(): string {
    return this.#m.clusterName(this.#req);
  }
  metadataMatchFor(cluster: string): Readonly<Record<string, string>> | undefined {
    return this.#m.metadataMatchFor(cluster);
  }
  get hashPolicy() {
    return this.#m.hashPolicy;
  }
  applyRequest(req: RequestMessage): void {
    const m = this.#m;
    const path = m.rewritePath(req.path);
    if (path !== req.path) {
      req.headers.set("x-envoy-original-path", req.path);
      req.path = path;
    }
    const host = m.rewriteHost(req);
    if (host !== undefined) {
      req.authority = host;
      req.headers.set("host", host);
    }
    m.applyRequestHeaders(req.headers);
  }
  applyResponseHeaders(h: HeaderMap): void {
    this.#m.applyResponseHeaders(h);
  }
}

class TableRoutes implements RouteSource {
  readonly #deps: FilterDeps;
  readonly #name: string;
  constructor(deps: FilterDeps, name: string) {
    this.#deps = deps;
    this.#name = name;
  }
  route(req: RequestMessage): RouteView | undefined {
    // Looked up per request so that a reload's new table applies to new requests at once.
    const table = this.#deps.routers.get(this.#name) as RouteTable | undefined;
    const m = table?.match(req);
    return m ? new MatchedRoute(m, req) : undefined;
  }
}

export function buildProxyContext(config: ProxyFilterConfig, deps: FilterDeps): ProxyContext {
  return {
    listenerName: deps.listenerName,
    upstreamProtocol: config.upstreamProtocol,
    routes: new TableRoutes(deps, config.routerConfigName),
    clusterManager: deps.clusterManager,
    downstreamStats: downstreamRequestStats(deps.stats, deps.listenerName),
    upstreamStats: new UpstreamStatsCache(deps.stats),
    routeStats: new RouteStatsCache(deps.stats, deps.listenerName),
    streamFilters: deps.streamFilters,
    accessLogs: deps.accessLogs,
    tracing: deps.tracing,
    defaultTimeoutMs: config.defaultTimeoutMs,
    random: Math.random,
  };
}
