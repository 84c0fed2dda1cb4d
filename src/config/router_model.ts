/**
 * Typed, defaulted model of MOSN's `servers[0].routers[]` (HTTP/RPC route configuration).
 * Produced by `parseRouters` (router_parse.ts), read by `src/router/`. Field names are camelCase;
 * the JSON keys are MOSN's snake_case (Envoy spellings are accepted where noted in the parser).
 *
 * Defaults, in one place:
 * - header-to-add `append`: true (MOSN and Envoy)
 * - route `timeout`: 0 = not set (the proxy's global timeout, 60 s, applies)
 * - retry `num_retries`: 3 (MOSN's effective default); `retry_timeout`: 0 = no per-try limit
 * - retry `retry_on`: absent/false → ["connect-failure"] (MOSN retries connect failures only);
 *   true → ["connect-failure", "reset", "per-try-timeout", "5xx"] ("retriable-status-codes"
 *   instead of "5xx" when status codes are listed)
 * - redirect `response_code`: 301
 * - match with none of prefix/path/regex: every path (also an empty RPC path)
 * - `case_sensitive` unset: `prefix` compares case-sensitively, `path` case-insensitively (MOSN)
 */

export interface RouterConfig {
  readonly routerConfigName: string;
  readonly virtualHosts: readonly VirtualHostConfig[];
  /** Applied after the virtual host's and the route's (least specific last). */
  readonly requestHeadersToAdd: readonly HeaderValueOption[];
  /** Lower-cased header names. */
  readonly requestHeadersToRemove: readonly string[];
  readonly responseHeadersToAdd: readonly HeaderValueOption[];
  readonly responseHeadersToRemove: readonly string[];
}

/** MOSN `{"header": {"key": "x", "value": "y"}, "append": false}`. */
export interface HeaderValueOption {
  /** Lower-cased header name. */
  readonly key: string;
  /** Literal value, or a whole-value variable like `%DOWNSTREAM_REMOTE_ADDRESS%`. */
  readonly value: string;
  /** true (default): add another value when the header exists; false: replace it. */
  readonly append: boolean;
}

export interface VirtualHostConfig {
  readonly name: string;
  /**
   * Lower-cased; MOSN's port wildcard `host:*` is stored as `host` (a domain without a port
   * matches any port). Forms: `example.com`, `example.com:8080`, `*.example.com`, `foo.*`, `*`.
   */
  readonly domains: readonly string[];
  /** Routes, matched in order; the first match wins (MOSN key `routers`). */
  readonly routers: readonly RouteConfig[];
  readonly requestHeadersToAdd: readonly HeaderValueOption[];
  readonly requestHeadersToRemove: readonly string[];
  readonly responseHeadersToAdd: readonly HeaderValueOption[];
  readonly responseHeadersToRemove: readonly string[];
  /** Opaque per-stream-filter config, read by the filters themselves. */
  readonly perFilterConfig?: Readonly<Record<string, unknown>>;
}

/** Exactly one of `route`, `directResponse`, `redirect` is set. */
export interface RouteConfig {
  readonly match: RouteMatchConfig;
  readonly route?: RouteActionConfig;
  readonly directResponse?: DirectResponseConfig;
  readonly redirect?: RedirectConfig;
  /**
   * Header mutations of this route. MOSN keeps them inside `route`; Envoy on the route entry;
   * both are accepted and concatenated (entry level first).
   */
  readonly requestHeadersToAdd: readonly HeaderValueOption[];
  readonly requestHeadersToRemove: readonly string[];
  readonly responseHeadersToAdd: readonly HeaderValueOption[];
  readonly responseHeadersToRemove: readonly string[];
  /** MOSN route `metadata` (`{"filter_metadata": {"mosn.lb": {…}}}` flattened). */
  readonly metadata?: Readonly<Record<string, string>>;
  readonly perFilterConfig?: Readonly<Record<string, unknown>>;
}

/**
 * At most one of `prefix`, `path`, `regex` is set; none = any path. Path matching ignores the
 * query string. `regex` is unanchored (MOSN uses Go's `MatchString`): `"/v[0-9]"` matches
 * `/api/v2/x`; write `^…$` to anchor.
 */
export interface RouteMatchConfig {
  readonly prefix?: string;
  readonly path?: string;
  readonly regex?: string;
  /** Envoy `case_sensitive`; unset = MOSN rules (prefix sensitive, path insensitive). */
  readonly caseSensitive?: boolean;
  readonly headers: readonly HeaderMatcherConfig[];
  readonly queryParameters: readonly QueryParameterMatcherConfig[];
  /** Upper-cased HTTP methods; undefined = any. */
  readonly methods?: readonly string[];
}

/**
 * One header condition. `present` set: presence test (true = must be there, false = must be
 * absent), `value` unused. Otherwise `value` is compared exactly, or as a full-match regex when
 * `regex`. A missing header never satisfies a value test, inverted or not (Envoy).
 * Names `:method`, `:authority`, `:path` test the request line instead of a header.
 */
export interface HeaderMatcherConfig {
  /** Lower-cased. */
  readonly name: string;
  readonly value: string;
  readonly regex: boolean;
  readonly invert: boolean;
  readonly present?: boolean;
}

/** A query-string parameter condition; same rules as headers (values percent-decoded). */
export interface QueryParameterMatcherConfig {
  readonly name: string;
  readonly value: string;
  readonly regex: boolean;
  readonly present?: boolean;
}

export interface RouteActionConfig {
  /** Single target cluster; "" when `weightedClusters` or `clusterHeader` picks it. */
  readonly clusterName: string;
  readonly weightedClusters: readonly WeightedClusterConfig[];
  /** Cluster named by this request header's value (not checked against known clusters). */
  readonly clusterHeader?: string;
  /** Subset-LB criteria (MOSN `metadata_match.filter_metadata["mosn.lb"]`). */
  readonly metadataMatch?: Readonly<Record<string, string>>;
  /** Whole-request timeout; 0 = not set (the proxy default applies). */
  readonly timeoutMs: number;
  readonly retryPolicy?: RetryPolicyConfig;
  /** Replaces the matched prefix (the whole path for `path`/`regex` matches). */
  readonly prefixRewrite?: string;
  readonly regexRewrite?: RegexRewriteConfig;
  readonly hostRewrite?: string;
  /** Rewrite Host to the chosen upstream host's hostname (proxy's job). */
  readonly autoHostRewrite: boolean;
  /** MOSN: rewrite Host to this request header's value. */
  readonly autoHostRewriteHeader?: string;
  /** undefined = same as downstream ("Auto"). */
  readonly upstreamProtocol?: UpstreamProtocol;
  /** Parsed and kept for consistent-hash load balancers. */
  readonly hashPolicy: readonly HashPolicyConfig[];
}

export const UPSTREAM_PROTOCOLS = ["Http1", "Http2"] as const;
export type UpstreamProtocol = typeof UPSTREAM_PROTOCOLS[number];

export interface WeightedClusterConfig {
  readonly name: string;
  /** > 0. */
  readonly weight: number;
  /** Merged over the route's `metadataMatch` (this one wins per key). */
  readonly metadataMatch?: Readonly<Record<string, string>>;
}

export const RETRY_ON = [
  "5xx",
  "gateway-error",
  "reset",
  "connect-failure",
  "retriable-4xx",
  "refused-stream",
  "retriable-status-codes",
  "per-try-timeout",
  // gRPC status of a trailers-only response (Envoy's names).
  "cancelled",
  "deadline-exceeded",
  "internal",
  "resource-exhausted",
  "unavailable",
] as const;
export type RetryOn = typeof RETRY_ON[number];

export interface RetryPolicyConfig {
  readonly retryOn: readonly RetryOn[];
  /** MOSN `status_codes` / Envoy `retriable_status_codes`. */
  readonly retriableStatusCodes: readonly number[];
  readonly numRetries: number;
  /** Per try (MOSN `retry_timeout`, Envoy `per_try_timeout`); 0 = none. */
  readonly retryTimeoutMs: number;
}

export interface RegexRewriteConfig {
  /** Go RE2 syntax; every match in the path is replaced. */
  readonly pattern: { readonly regex: string };
  /** `$1`, `${1}`, `${name}` (Go) or `\1` (Envoy) refer to groups. */
  readonly substitution: string;
}

export type HashPolicyConfig =
  | { readonly kind: "header"; readonly key: string }
  | {
    readonly kind: "cookie";
    readonly name: string;
    readonly path: string;
    readonly ttlMs: number;
  }
  | { readonly kind: "source_ip" };

export interface DirectResponseConfig {
  /** 100–599. */
  readonly status: number;
  readonly body: string;
}

export const REDIRECT_CODES = [301, 302, 303, 307, 308] as const;
export type RedirectCode = typeof REDIRECT_CODES[number];

export interface RedirectConfig {
  readonly responseCode: RedirectCode;
  /** Lower-cased. */
  readonly schemeRedirect?: string;
  /** Envoy `https_redirect`: scheme "https" unless `schemeRedirect` is set. */
  readonly httpsRedirect: boolean;
  readonly hostRedirect?: string;
  readonly portRedirect?: number;
  /** Whole path (a `?query` in it replaces the request's query). */
  readonly pathRedirect?: string;
  /** Replaces the matched prefix, like the route action's. */
  readonly prefixRewrite?: string;
  readonly stripQuery: boolean;
}
