/** One compiled route: its path/header/query conditions and everything a match hands the proxy. */

import type {
  DirectResponseConfig,
  HashPolicyConfig,
  RedirectConfig,
  RetryPolicyConfig,
  RouteConfig,
  UpstreamProtocol,
} from "../config/router_model.ts";
import type { HeaderMap } from "../protocol/header_map.ts";
import { HeaderMutations } from "./_header_mutations.ts";
import { HeaderMatcher, mustCompile, QueryMatcher } from "./_matchers.ts";
import { groupCount, portStart, stripPort, Substitution } from "./_rewrite.ts";
import type { HeaderVariables, RouteMatch, RouteRequest } from "./types.ts";

const ANY = 0, PREFIX = 1, EXACT = 2, REGEX = 3;

/** Header edits of the enclosing levels, least specific last. */
export interface OuterMutations {
  readonly request: readonly HeaderMutations[];
  readonly response: readonly HeaderMutations[];
}

export class RouteEntry implements RouteMatch {
  readonly virtualHost: string;
  readonly route: RouteConfig;
  readonly metadataMatch: Readonly<Record<string, string>> | undefined;
  readonly timeoutMs: number;
  readonly retryPolicy: RetryPolicyConfig | undefined;
  readonly directResponse: DirectResponseConfig | undefined;
  readonly redirect: RedirectConfig | undefined;
  readonly upstreamProtocol: UpstreamProtocol | undefined;
  readonly hashPolicy: readonly HashPolicyConfig[];
  readonly perFilterConfig: Readonly<Record<string, unknown>> | undefined;
  /** Requests this route matched since its table was built (admin/console hit counts). */
  hits = 0;

  // path condition
  readonly #kind: number;
  readonly #value: string;
  readonly #caseSensitive: boolean;
  readonly #re: RegExp | undefined;
  readonly #methods: readonly string[] | undefined;
  readonly #headers: readonly HeaderMatcher[];
  readonly #query: readonly QueryMatcher[];
  // cluster choice
  readonly #clusterName: string;
  readonly #weightedNames: readonly string[];
  readonly #cumulative: readonly number[];
  readonly #totalWeight: number;
  readonly #clusterHeader: string | undefined;
  readonly #metadataByCluster: ReadonlyMap<string, Readonly<Record<string, string>>>;
  readonly #random: () => number;
  // rewrites
  readonly #prefixRewrite: string | undefined;
  readonly #rewriteRe: RegExp | undefined;
  readonly #substitution: Substitution | undefined;
  readonly #hostRewrite: string | undefined;
  readonly #hostFromHeader: string | undefined;
  // header edits, most specific first
  readonly #requestEdits: readonly HeaderMutations[];
  readonly #responseEdits: readonly HeaderMutations[];

  constructor(
    virtualHost: string,
    route: RouteConfig,
    outer: OuterMutations,
    random: () => number,
  ) {
    this.virtualHost = virtualHost;
    this.route = route;
    const action = route.route;
    this.metadataMatch = action?.metadataMatch;
    this.timeoutMs = action?.timeoutMs ?? 0;
    this.retryPolicy = action?.retryPolicy;
    this.directResponse = route.directResponse;
    this.redirect = route.redirect;
    this.upstreamProtocol = action?.upstreamProtocol;
    this.hashPolicy = action?.hashPolicy ?? [];
    this.perFilterConfig = route.perFilterConfig;

    const m = route.match;
    if (m.prefix !== undefined) {
      this.#kind = PREFIX;
      this.#value = m.prefix;
      this.#caseSensitive = m.caseSensitive ?? true;
    } else if (m.path !== undefined) {
      this.#kind = EXACT;
      this.#value = m.path;
      this.#caseSensitive = m.caseSensitive ?? false;
    } else if (m.regex !== undefined) {
      this.#kind = REGEX;
      this.#value = m.regex;
      this.#caseSensitive = true;
    } else {
      this.#kind = ANY;
      this.#value = "";
      this.#caseSensitive = true;
    }
    if (!this.#caseSensitive) this.#value = this.#value.toLowerCase();
    this.#re = this.#kind === REGEX ? mustCompile(this.#value, "search") : undefined;
    this.#methods = m.methods && m.methods.length > 0 ? m.methods : undefined;
    this.#headers = m.headers.map((h) => new HeaderMatcher(h));
    this.#query = m.queryParameters.map((q) => new QueryMatcher(q));

    this.#clusterName = action?.clusterName ?? "";
    const weighted = action?.weightedClusters ?? [];
    this.#weightedNames = weighted.map((w) => w.name);
    let sum = 0;
    this.#cumulative = weighted.map((w) => (sum += w.weight));
    this.#totalWeight = sum;
    this.#clusterHeader = action?.clusterHeader;
    const byCluster = new Map<string, Readonly<Record<string, string>>>();
    for (const w of weighted) {
      if (w.metadataMatch) byCluster.set(w.name, { ...this.metadataMatch, ...w.metadataMatch });
    }
    this.#metadataByCluster = byCluster;
    this.#random = random;

    this.#prefixRewrite = action?.prefixRewrite;
    if (action?.regexRewrite) {
      this.#rewriteRe = mustCompile(action.regexRewrite.pattern.regex, "replace");
      this.#substitution = new Substitution(
        action.regexRewrite.substitution,
        groupCount(this.#rewriteRe),
      );
    }
    this.#hostRewrite = action?.hostRewrite;
    this.#hostFromHeader = action?.autoHostRewriteHeader;

    this.#requestEdits = [
      HeaderMutations.of(route.requestHeadersToAdd, route.requestHeadersToRemove),
      ...outer.request,
    ].filter((x): x is HeaderMutations => x !== undefined);
    this.#responseEdits = [
      HeaderMutations.of(route.responseHeadersToAdd, route.responseHeadersToRemove),
      ...outer.response,
    ].filter((x): x is HeaderMutations => x !== undefined);
  }

  /** Whether `req` satisfies every condition; `pathEnd` is where the query starts (or length). */
  matches(req: RouteRequest, pathEnd: number): boolean {
    const path = req.path;
    const v = this.#value;
    switch (this.#kind) {
      case PREFIX:
        if (v.length > pathEnd) return false;
        if (this.#caseSensitive ? !startsWith(path, v) : !startsWithFolded(path, v)) return false;
        break;
      case EXACT:
        if (v.length !== pathEnd) return false;
        if (this.#caseSensitive ? !startsWith(path, v) : !startsWithFolded(path, v)) return false;
        break;
      case REGEX:
        if (!this.#re!.test(pathEnd === path.length ? path : path.slice(0, pathEnd))) return false;
        break;
    }
    const methods = this.#methods;
    if (methods !== undefined && !methods.includes(req.method)) return false;
    const headers = this.#headers;
    for (let i = 0; i < headers.length; i++) if (!headers[i]!.matches(req)) return false;
    const query = this.#query;
    if (query.length > 0) {
      const q = pathEnd < path.length ? path.slice(pathEnd + 1) : "";
      for (let i = 0; i < query.length; i++) if (!query[i]!.matches(q)) return false;
    }
    return true;
  }

  clusterName(req?: RouteRequest): string {
    const total = this.#totalWeight;
    if (total > 0) {
      const r = this.#random() * total;
      const cum = this.#cumulative;
      for (let i = 0; i < cum.length; i++) if (r < cum[i]!) return this.#weightedNames[i]!;
      return this.#weightedNames[cum.length - 1]!;
    }
    if (this.#clusterHeader !== undefined) return req?.headers.get(this.#clusterHeader) ?? "";
    return this.#clusterName;
  }

  metadataMatchFor(cluster: string): Readonly<Record<string, string>> | undefined {
    return this.#metadataByCluster.get(cluster) ?? this.metadataMatch;
  }

  rewritePath(path: string): string {
    if (this.#prefixRewrite !== undefined) {
      return replacePrefix(path, this.#matchedLength(path), this.#prefixRewrite);
    }
    if (this.#rewriteRe !== undefined) {
      let end = path.indexOf("?");
      if (end < 0) end = path.length;
      const sub = this.#substitution!;
      const rewritten = path.slice(0, end).replace(
        this.#rewriteRe,
        (...args: unknown[]) => sub.expand(args),
      );
      return rewritten + path.slice(end);
    }
    return path;
  }

  rewriteHost(req?: RouteRequest): string | undefined {
    if (this.#hostRewrite !== undefined) return this.#hostRewrite;
    if (this.#hostFromHeader !== undefined && req !== undefined) {
      return req.headers.get(this.#hostFromHeader) || undefined;
    }
    return undefined;
  }

  redirectLocation(req: RouteRequest): string | undefined {
    const r = this.redirect;
    if (r === undefined) return undefined;
    const fromScheme = req.scheme || "http";
    const scheme = r.schemeRedirect ?? (r.httpsRedirect ? "https" : fromScheme);
    let host = r.hostRedirect ?? req.authority;
    if (r.portRedirect !== undefined) host = `${stripPort(host)}:${r.portRedirect}`;
    else if (scheme !== fromScheme) {
      // MOSN/Envoy: drop a port that belongs to the other scheme.
      const i = portStart(host);
      const port = i < 0 ? "" : host.slice(i + 1);
      if ((scheme === "http" && port === "443") || (scheme === "https" && port === "80")) {
        host = host.slice(0, i);
      }
    }
    const target = req.path;
    let end = target.indexOf("?");
    if (end < 0) end = target.length;
    let query = target.slice(end);
    let path: string;
    if (r.pathRedirect !== undefined) {
      const q = r.pathRedirect.indexOf("?");
      if (q >= 0) {
        path = r.pathRedirect.slice(0, q);
        query = r.pathRedirect.slice(q);
      } else path = r.pathRedirect;
    } else if (r.prefixRewrite !== undefined) {
      const p = target.slice(0, end);
      path = replacePrefix(p, this.#matchedLength(p), r.prefixRewrite);
    } else path = target.slice(0, end);
    if (r.stripQuery && r.pathRedirect?.includes("?") !== true) query = "";
    if (query === "?") query = "";
    return `${scheme}://${host}${path}${query}`;
  }

  applyRequestHeaders(h: HeaderMap, vars?: HeaderVariables): void {
    const e = this.#requestEdits;
    for (let i = 0; i < e.length; i++) e[i]!.apply(h, vars);
  }

  applyResponseHeaders(h: HeaderMap, vars?: HeaderVariables): void {
    const e = this.#responseEdits;
    for (let i = 0; i < e.length; i++) e[i]!.apply(h, vars);
  }

  /**
   * How much of `path` a prefix rewrite replaces: the matched prefix, the whole path for `path`
   * and `regex` routes, a leading "/" for any-path routes; -1 when `path` does not match.
   */
  #matchedLength(path: string): number {
    let end = path.indexOf("?");
    if (end < 0) end = path.length;
    const v = this.#value;
    switch (this.#kind) {
      case PREFIX:
        return v.length <= end &&
            (this.#caseSensitive ? path.startsWith(v) : startsWithFolded(path, v))
          ? v.length
          : -1;
      case EXACT:
        return v.length === end &&
            (this.#caseSensitive ? path.startsWith(v) : startsWithFolded(path, v))
          ? end
          : -1;
      case REGEX:
        return end;
      default:
        return path.startsWith("/") ? 1 : 0;
    }
  }
}

function replacePrefix(path: string, n: number, replacement: string): string {
  return n < 0 ? path : replacement + path.slice(n);
}

/**
 * `s` starts with `p` (`p.length <= s.length` checked by the caller). Compares from the end:
 * route prefixes mostly share their start ("/api/…") and differ near the end, so a non-match
 * is usually rejected on the first comparison.
 */
function startsWith(s: string, p: string): boolean {
  for (let i = p.length - 1; i >= 0; i--) if (s.charCodeAt(i) !== p.charCodeAt(i)) return false;
  return true;
}

/** `s` starts with `lower` (already lower-case), comparing ASCII letters case-insensitively. */
function startsWithFolded(s: string, lower: string): boolean {
  const n = lower.length;
  if (s.length < n) return false;
  for (let i = n - 1; i >= 0; i--) {
    let c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) c += 32;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}
