/** The router's contracts: what a request offers for matching and what a matched route gives back. */

import type {
  DirectResponseConfig,
  HashPolicyConfig,
  RedirectConfig,
  RetryPolicyConfig,
  RouteConfig,
  UpstreamProtocol,
} from "../config/router_model.ts";
import type { HeaderMap } from "../protocol/header_map.ts";

/** What route matching reads from a request. Build it once per request; it is not copied. */
export interface RouteRequest {
  /** Host header or `:authority`, may include a port; "" when absent. */
  readonly authority: string;
  /** Raw request target: path plus an optional `?query`; "" for RPC protocols. */
  readonly path: string;
  readonly method: string;
  readonly headers: HeaderMap;
  /** Downstream scheme, "http" when absent; used to build redirect locations. */
  readonly scheme?: string;
}

/**
 * Resolves a header-to-add value written as a whole `%NAME%` (e.g. `%DOWNSTREAM_REMOTE_ADDRESS%`).
 * Returning undefined keeps the literal text, as MOSN does for unknown variables.
 */
export type HeaderVariables = (name: string) => string | undefined;

/**
 * A matched route. It is the precompiled route itself (shared by every request that matches it),
 * so methods that need the request take it as an argument.
 */
export interface RouteMatch {
  /** Name of the virtual host the route belongs to. */
  readonly virtualHost: string;
  readonly route: RouteConfig;
  /** Route-level subset criteria; see `metadataMatchFor` for weighted clusters. */
  readonly metadataMatch: Readonly<Record<string, string>> | undefined;
  /** 0 = not set (the proxy's global timeout applies). */
  readonly timeoutMs: number;
  readonly retryPolicy: RetryPolicyConfig | undefined;
  readonly directResponse: DirectResponseConfig | undefined;
  readonly redirect: RedirectConfig | undefined;
  readonly upstreamProtocol: UpstreamProtocol | undefined;
  readonly hashPolicy: readonly HashPolicyConfig[];
  readonly perFilterConfig: Readonly<Record<string, unknown>> | undefined;
  /**
   * The target cluster: the configured one, a weighted pick (new pick each call), or the value of
   * `cluster_header` in `req` ("" when that header is missing). "" for direct responses/redirects.
   */
  clusterName(req?: RouteRequest): string;
  /** Subset criteria for `cluster`: a weighted cluster's own merged over the route's. */
  metadataMatchFor(cluster: string): Readonly<Record<string, string>> | undefined;
  /** The `Location` of a redirect route (undefined for other routes). */
  redirectLocation(req: RouteRequest): string | undefined;
  /** Applies prefix_rewrite / regex_rewrite to a request target, keeping its query string. */
  rewritePath(path: string): string;
  /** The upstream Host/:authority to send, or undefined to keep the request's. */
  rewriteHost(req?: RouteRequest): string | undefined;
  /** Removes then adds request headers: route level, then virtual host, then router. */
  applyRequestHeaders(h: HeaderMap, vars?: HeaderVariables): void;
  /** Same order for response headers. */
  applyResponseHeaders(h: HeaderMap, vars?: HeaderVariables): void;
}
