/**
 * MOSN `routers[]` JSON → typed, defaulted, frozen RouterConfig[]. Every problem is recorded on
 * the ParseContext with its JSON path; Envoy spellings of a few keys are accepted as aliases.
 */

import type {
  DirectResponseConfig,
  HashPolicyConfig,
  HeaderMatcherConfig,
  HeaderValueOption,
  QueryParameterMatcherConfig,
  RedirectCode,
  RedirectConfig,
  RegexRewriteConfig,
  RetryOn,
  RetryPolicyConfig,
  RouteActionConfig,
  RouteConfig,
  RouteMatchConfig,
  RouterConfig,
  UpstreamProtocol,
  VirtualHostConfig,
  WeightedClusterConfig,
} from "./router_model.ts";
import { REDIRECT_CODES, RETRY_ON } from "./router_model.ts";
import { describe, isPlainObject, joinPath, ObjReader, type ParseContext } from "./reader.ts";

/**
 * Parses every router config. `clusterNames` are the known clusters: `cluster_name` and weighted
 * cluster names must be among them.
 *
 * @example
 * ```ts
 * const ctx = new ParseContext();
 * const routers = parseRouters([{ value: doc, path: "servers[0].routers[0]" }], ctx, new Set(["c1"]));
 * if (ctx.issues.length) throw new ConfigError(ctx.issues);
 * ```
 */
export function parseRouters(
  items: readonly { value: unknown; path: string }[],
  ctx: ParseContext,
  clusterNames: ReadonlySet<string>,
): RouterConfig[] {
  const out: RouterConfig[] = [];
  const seen = new Map<string, string>();
  for (const item of items) {
    const r = ObjReader.of(ctx, item.value, item.path);
    if (!r) continue;
    const cfg = parseRouter(r, clusterNames);
    const name = cfg.routerConfigName;
    if (name) {
      const prev = seen.get(name);
      if (prev !== undefined) {
        ctx.error(
          r.at("router_config_name"),
          `duplicate router_config_name ${JSON.stringify(name)} (also at ${prev})`,
        );
      } else seen.set(name, item.path);
    }
    out.push(cfg);
  }
  return deepFreeze(out);
}

function parseRouter(r: ObjReader, clusterNames: ReadonlySet<string>): RouterConfig {
  const routerConfigName = r.reqStr("router_config_name");
  if (r.has("router_configs")) {
    r.ctx.error(
      r.at("router_configs"),
      "loading virtual hosts from a directory is not supported; list them in virtual_hosts",
    );
  }
  const virtualHosts: VirtualHostConfig[] = [];
  const domains = new Map<string, string>();
  const vhItems = r.arr("virtual_hosts");
  if (vhItems.length === 0) {
    r.ctx.warn(r.at("virtual_hosts"), "no virtual hosts: every request will get 404");
  }
  for (const item of vhItems) {
    const vr = ObjReader.of(r.ctx, item.value, item.path);
    if (vr) virtualHosts.push(parseVirtualHost(vr, clusterNames, domains));
  }
  const cfg: RouterConfig = {
    routerConfigName,
    virtualHosts,
    requestHeadersToAdd: headersToAdd(r, "request_headers_to_add"),
    requestHeadersToRemove: headersToRemove(r, "request_headers_to_remove"),
    responseHeadersToAdd: headersToAdd(r, "response_headers_to_add"),
    responseHeadersToRemove: headersToRemove(r, "response_headers_to_remove"),
  };
  r.done();
  return cfg;
}

/** `seen`: normalized domain → path of its first use, across the router's virtual hosts. */
function parseVirtualHost(
  r: ObjReader,
  clusterNames: ReadonlySet<string>,
  seen: Map<string, string>,
): VirtualHostConfig {
  const name = r.str("name", "");
  const domains: string[] = [];
  const items = r.arr("domains");
  if (items.length === 0) r.ctx.error(r.at("domains"), "needs at least one domain");
  for (const item of items) {
    if (typeof item.value !== "string") {
      r.ctx.error(item.path, `expected a string, got ${describe(item.value)}`);
      continue;
    }
    const d = normalizeDomain(item.value);
    if (typeof d !== "string") {
      r.ctx.error(item.path, `${d.error}, got ${describe(item.value)}`);
      continue;
    }
    const prev = seen.get(d);
    if (prev !== undefined) {
      r.ctx.error(item.path, `duplicate domain ${JSON.stringify(d)} (also at ${prev})`);
      continue;
    }
    seen.set(d, item.path);
    domains.push(d);
  }
  const routers: RouteConfig[] = [];
  for (const item of r.arr("routers")) {
    const rr = ObjReader.of(r.ctx, item.value, item.path);
    if (rr) routers.push(parseRoute(rr, clusterNames));
  }
  const perFilterConfig = opaqueObject(r, "per_filter_config");
  const cfg: VirtualHostConfig = {
    name,
    domains,
    routers,
    requestHeadersToAdd: headersToAdd(r, "request_headers_to_add"),
    requestHeadersToRemove: headersToRemove(r, "request_headers_to_remove"),
    responseHeadersToAdd: headersToAdd(r, "response_headers_to_add"),
    responseHeadersToRemove: headersToRemove(r, "response_headers_to_remove"),
    ...(perFilterConfig ? { perFilterConfig } : {}),
  };
  r.allow("require_tls");
  r.done();
  return cfg;
}

/**
 * Lower-cases a domain and checks its wildcard: only a leading `*` (suffix match), a trailing `*`
 * (prefix match) or `*` alone. MOSN's `host:*` (any port) becomes `host`.
 */
export function normalizeDomain(text: string): string | { error: string } {
  let d = text.trim().toLowerCase();
  if (d === "") return { error: "a domain must not be empty" };
  if (d.endsWith(":*") && d !== "*:*") d = d.slice(0, -2);
  if (d === "*:*") d = "*";
  const stars = d.split("*").length - 1;
  if (d === "*") return d;
  if (stars > 1 || (stars === 1 && !d.startsWith("*") && !d.endsWith("*"))) {
    return { error: "a wildcard must be the first or the last character of a domain" };
  }
  if (/[\s/?#@]/.test(d)) return { error: "a domain must be a host name with an optional port" };
  return d;
}

function parseRoute(r: ObjReader, clusterNames: ReadonlySet<string>): RouteConfig {
  const mr = r.obj("match");
  const match = mr ? parseMatch(mr) : emptyMatch();

  const hasDirect = r.has("direct_response");
  const hasRedirect = r.has("redirect");
  let action: RouteActionConfig | undefined;
  let directResponse: DirectResponseConfig | undefined;
  let redirect: RedirectConfig | undefined;
  // Headers from the action (MOSN) come after those on the entry (Envoy).
  const reqAdd = headersToAdd(r, "request_headers_to_add");
  const reqRemove = headersToRemove(r, "request_headers_to_remove");
  const respAdd = headersToAdd(r, "response_headers_to_add");
  const respRemove = headersToRemove(r, "response_headers_to_remove");

  const ar = r.obj("route");
  // MOSN's own config dumps write an empty `route` next to direct_response/redirect.
  const actionGiven = ar !== undefined &&
    (!(hasDirect || hasRedirect) ||
      ["cluster_name", "weighted_clusters", "cluster_header"].some((k) => ar.has(k)));
  const given = [actionGiven, hasDirect, hasRedirect].filter(Boolean).length;
  if (given === 0) {
    r.ctx.error(r.path, "needs one of route, direct_response, redirect");
  } else if (given > 1) {
    r.ctx.error(r.path, "only one of route, direct_response, redirect may be set");
  }
  if (ar) {
    if (actionGiven) action = parseAction(ar, clusterNames);
    reqAdd.push(...headersToAdd(ar, "request_headers_to_add"));
    reqRemove.push(...headersToRemove(ar, "request_headers_to_remove"));
    respAdd.push(...headersToAdd(ar, "response_headers_to_add"));
    respRemove.push(...headersToRemove(ar, "response_headers_to_remove"));
    if (!actionGiven) ar.allow(...ar.keys());
    ar.done();
  }
  const dr = r.obj("direct_response");
  if (dr) directResponse = parseDirectResponse(dr);
  const rr = r.obj("redirect");
  if (rr) redirect = parseRedirect(rr);

  const metadata = lbMetadata(r, "metadata");
  const perFilterConfig = opaqueObject(r, "per_filter_config");
  if (r.has("request_mirror_policies")) {
    r.ctx.warn(r.at("request_mirror_policies"), "request mirroring is not supported, ignored");
  }
  r.allow("request_mirror_policies", "name");
  r.done();
  return {
    match,
    ...(action ? { route: action } : {}),
    ...(directResponse ? { directResponse } : {}),
    ...(redirect ? { redirect } : {}),
    requestHeadersToAdd: reqAdd,
    requestHeadersToRemove: reqRemove,
    responseHeadersToAdd: respAdd,
    responseHeadersToRemove: respRemove,
    ...(metadata ? { metadata } : {}),
    ...(perFilterConfig ? { perFilterConfig } : {}),
  };
}

function emptyMatch(): RouteMatchConfig {
  return { headers: [], queryParameters: [] };
}

function parseMatch(r: ObjReader): RouteMatchConfig {
  const prefix = r.str("prefix", "");
  const path = r.str("path", "");
  const regex = r.str("regex", "");
  const set = [prefix, path, regex].filter((x) => x !== "").length;
  if (set > 1) r.ctx.error(r.path, "only one of prefix, path, regex may be set");
  if (regex) {
    const re = compileGoRegex(regex, "search");
    if (typeof re === "string") r.ctx.error(r.at("regex"), re);
  }
  for (const k of ["variables", "dsl_expressions"]) {
    if (r.has(k)) r.ctx.error(r.at(k), `${k} matching is not supported`);
  }
  const httpRoute = set > 0;
  const headers: HeaderMatcherConfig[] = [];
  for (const item of r.arr("headers")) {
    const hr = ObjReader.of(r.ctx, item.value, item.path);
    if (hr) headers.push(parseHeaderMatcher(hr, httpRoute));
  }
  const queryParameters: QueryParameterMatcherConfig[] = [];
  for (const item of r.arr("query_parameters")) {
    const qr = ObjReader.of(r.ctx, item.value, item.path);
    if (qr) queryParameters.push(parseQueryMatcher(qr));
  }
  let methods: string[] | undefined;
  if (r.has("methods")) {
    methods = [];
    for (const item of r.arr("methods")) {
      if (typeof item.value === "string" && /^[A-Za-z]+$/.test(item.value)) {
        methods.push(item.value.toUpperCase());
      } else r.ctx.error(item.path, `expected an HTTP method, got ${describe(item.value)}`);
    }
  }
  const cfg: RouteMatchConfig = {
    ...(prefix ? { prefix } : {}),
    ...(path && !prefix ? { path } : {}),
    ...(regex && !prefix && !path ? { regex } : {}),
    ...(r.has("case_sensitive") ? { caseSensitive: r.bool("case_sensitive", true) } : {}),
    headers,
    queryParameters,
    ...(methods ? { methods } : {}),
  };
  r.done();
  return cfg;
}

/** MOSN `{name, value, regex}` plus Envoy's `exact_match`, `safe_regex_match`, `present_match`, `invert_match`. */
function parseHeaderMatcher(r: ObjReader, httpRoute: boolean): HeaderMatcherConfig {
  let name = r.reqStr("name").toLowerCase();
  // MOSN: on an HTTP route, "method" means the request method.
  if (httpRoute && name === "method") name = ":method";
  const m = valueMatch(r);
  let present: boolean | undefined;
  for (const k of ["present_match", "present"]) if (r.has(k)) present = r.bool(k, true);
  if (m.value === undefined && present === undefined) present = true;
  const invertMatch = r.bool("invert_match", false);
  const invert = r.bool("invert", false) || invertMatch;
  r.done();
  return {
    name,
    value: m.value ?? "",
    regex: m.regex,
    invert,
    ...(present !== undefined ? { present } : {}),
  };
}

function parseQueryMatcher(r: ObjReader): QueryParameterMatcherConfig {
  const name = r.reqStr("name");
  let m = valueMatch(r);
  const sm = r.obj("string_match");
  if (sm) {
    m = valueMatch(sm);
    sm.allow("ignore_case");
    sm.done();
  }
  let present: boolean | undefined;
  for (const k of ["present_match", "present"]) if (r.has(k)) present = r.bool(k, true);
  if (m.value === undefined && present === undefined) present = true;
  r.done();
  return {
    name,
    value: m.value ?? "",
    regex: m.regex,
    ...(present !== undefined ? { present } : {}),
  };
}

/** Reads `value`+`regex` (MOSN) or `exact`/`exact_match`/`safe_regex(_match)` (Envoy). */
function valueMatch(r: ObjReader): { value: string | undefined; regex: boolean } {
  let value: string | undefined;
  let regex = r.bool("regex", false);
  let at = r.at("value");
  if (r.has("value")) value = r.str("value", "");
  for (const k of ["exact_match", "exact"]) {
    if (r.has(k)) {
      value = r.str(k, "");
      regex = false;
    }
  }
  for (const k of ["safe_regex_match", "safe_regex"]) {
    const sr = r.obj(k);
    if (!sr) continue;
    value = sr.reqStr("regex");
    regex = true;
    at = sr.at("regex");
    sr.allow("google_re2");
    sr.done();
  }
  if (regex && value !== undefined) {
    const re = compileGoRegex(value, "full");
    if (typeof re === "string") r.ctx.error(at, re);
  }
  return { value, regex };
}

function parseAction(r: ObjReader, clusterNames: ReadonlySet<string>): RouteActionConfig {
  const clusterName = r.str("cluster_name", "");
  if (clusterName && !clusterNames.has(clusterName)) {
    r.ctx.error(r.at("cluster_name"), `unknown cluster ${JSON.stringify(clusterName)}`);
  }
  const weightedClusters = parseWeighted(r, clusterNames);
  const clusterHeader = r.str("cluster_header", "").toLowerCase();
  if (r.has("cluster_variable")) {
    r.ctx.error(r.at("cluster_variable"), "cluster_variable is not supported");
  }
  if (!clusterName && weightedClusters.length === 0 && !clusterHeader) {
    r.ctx.error(r.path, "needs one of cluster_name, weighted_clusters, cluster_header");
  }
  if (clusterHeader && (clusterName || weightedClusters.length > 0)) {
    r.ctx.error(
      r.at("cluster_header"),
      "cluster_header cannot be combined with cluster_name or weighted_clusters",
    );
  }
  if (clusterName && weightedClusters.length > 0) {
    r.ctx.warn(r.at("cluster_name"), "ignored: weighted_clusters picks the cluster");
  }

  let retryPolicy: RetryPolicyConfig | undefined;
  const rp = r.obj("retry_policy");
  if (rp) retryPolicy = parseRetryPolicy(rp);

  const prefixRewrite = r.str("prefix_rewrite", "");
  let regexRewrite: RegexRewriteConfig | undefined;
  const rw = r.obj("regex_rewrite");
  if (rw) regexRewrite = parseRegexRewrite(rw);
  if (prefixRewrite && regexRewrite) {
    r.ctx.error(r.path, "only one of prefix_rewrite, regex_rewrite may be set");
  }
  let hostRewrite = r.str("host_rewrite", "");
  if (!hostRewrite) hostRewrite = r.str("host_rewrite_literal", "");
  const autoHostRewriteHeader = r.str("auto_host_rewrite_header", "").toLowerCase();
  const proto = r.oneOf("upstream_protocol", ["Http1", "Http2", "Auto"] as const, "Auto");
  const upstreamProtocol: UpstreamProtocol | undefined = proto === "Auto" ? undefined : proto;
  const metadataMatch = lbMetadata(r, "metadata_match");

  const hashPolicy: HashPolicyConfig[] = [];
  for (const item of r.arr("hash_policy")) {
    const hr = ObjReader.of(r.ctx, item.value, item.path);
    if (!hr) continue;
    const hp = parseHashPolicy(hr);
    if (hp) hashPolicy.push(hp);
  }

  return {
    clusterName: weightedClusters.length > 0 ? "" : clusterName,
    weightedClusters,
    ...(clusterHeader ? { clusterHeader } : {}),
    ...(metadataMatch ? { metadataMatch } : {}),
    timeoutMs: r.duration("timeout", 0),
    ...(retryPolicy ? { retryPolicy } : {}),
    ...(prefixRewrite ? { prefixRewrite } : {}),
    ...(regexRewrite && !prefixRewrite ? { regexRewrite } : {}),
    ...(hostRewrite ? { hostRewrite } : {}),
    autoHostRewrite: r.bool("auto_host_rewrite", false),
    ...(autoHostRewriteHeader ? { autoHostRewriteHeader } : {}),
    ...(upstreamProtocol ? { upstreamProtocol } : {}),
    hashPolicy,
  };
}

/** MOSN `[{"cluster": {name, weight, metadata_match}}]`; also `[{name, weight}]` and Envoy `{clusters: [...]}`. */
function parseWeighted(r: ObjReader, clusterNames: ReadonlySet<string>): WeightedClusterConfig[] {
  let items: { value: unknown; path: string }[];
  const raw = r.raw("weighted_clusters");
  if (isPlainObject(raw)) {
    const wr = ObjReader.of(r.ctx, raw, r.at("weighted_clusters"))!;
    items = wr.arr("clusters");
    wr.allow("total_weight", "runtime_key_prefix");
    wr.done();
  } else items = r.arr("weighted_clusters");
  const out: WeightedClusterConfig[] = [];
  const names = new Set<string>();
  for (const item of items) {
    const outer = ObjReader.of(r.ctx, item.value, item.path);
    if (!outer) continue;
    const cr = outer.has("cluster") ? outer.obj("cluster") : outer;
    if (cr !== outer) outer.done();
    if (!cr) continue;
    const name = cr.reqStr("name");
    if (name && !clusterNames.has(name)) {
      cr.ctx.error(cr.at("name"), `unknown cluster ${JSON.stringify(name)}`);
    } else if (names.has(name)) {
      cr.ctx.error(cr.at("name"), `duplicate weighted cluster ${JSON.stringify(name)}`);
    }
    names.add(name);
    const weight = cr.int("weight", 0, -Infinity, 0xffffffff);
    if (weight <= 0) cr.ctx.error(cr.at("weight"), `must be > 0, got ${weight}`);
    const metadataMatch = lbMetadata(cr, "metadata_match");
    cr.done();
    out.push({ name, weight, ...(metadataMatch ? { metadataMatch } : {}) });
  }
  return out;
}

/** MOSN `{retry_on: bool, retry_timeout, num_retries, status_codes}`; Envoy strings accepted. */
function parseRetryPolicy(r: ObjReader): RetryPolicyConfig {
  const codes: number[] = [];
  for (const k of ["status_codes", "retriable_status_codes"]) {
    for (const item of r.arr(k)) {
      const v = item.value;
      if (typeof v === "number" && Number.isInteger(v) && v >= 100 && v <= 599) codes.push(v);
      else r.ctx.error(item.path, `expected an HTTP status code 100-599, got ${describe(v)}`);
    }
  }
  const raw = r.raw("retry_on");
  let retryOn: RetryOn[];
  if (raw === undefined || raw === null || raw === false) retryOn = ["connect-failure"];
  else if (raw === true) {
    retryOn = [
      "connect-failure",
      "reset",
      "per-try-timeout",
      codes.length > 0 ? "retriable-status-codes" : "5xx",
    ];
  } else {
    const words = typeof raw === "string"
      ? raw.split(",")
      : Array.isArray(raw) && raw.every((x) => typeof x === "string")
      ? raw as string[]
      : undefined;
    retryOn = [];
    if (!words) {
      r.ctx.error(
        r.at("retry_on"),
        `expected true/false or a list like "5xx,connect-failure", got ${describe(raw)}`,
      );
    } else {
      for (const w of words.map((x) => x.trim().toLowerCase()).filter((x) => x)) {
        const hit = RETRY_ON.find((x) => x === w);
        if (hit) {
          if (!retryOn.includes(hit)) retryOn.push(hit);
        } else {
          r.ctx.error(
            r.at("retry_on"),
            `unknown retry condition ${JSON.stringify(w)} (known: ${RETRY_ON.join(", ")})`,
          );
        }
      }
    }
  }
  let retryTimeoutMs = r.duration("retry_timeout", 0);
  if (r.has("per_try_timeout")) retryTimeoutMs = r.duration("per_try_timeout", 0);
  const cfg: RetryPolicyConfig = {
    retryOn,
    retriableStatusCodes: codes,
    numRetries: r.int("num_retries", 3, 0, 1000),
    retryTimeoutMs,
  };
  r.allow("retry_host_predicate", "host_selection_retry_max_attempts", "retry_back_off");
  r.done();
  return cfg;
}

function parseRegexRewrite(r: ObjReader): RegexRewriteConfig | undefined {
  const pr = r.obj("pattern");
  let regex = "";
  if (!pr) r.ctx.error(r.at("pattern"), "is required");
  else {
    regex = pr.reqStr("regex");
    if (regex) {
      const re = compileGoRegex(regex, "replace");
      if (typeof re === "string") r.ctx.error(pr.at("regex"), re);
    }
    pr.allow("google_re2");
    pr.done();
  }
  const substitution = r.str("substitution", "");
  r.done();
  return regex ? { pattern: { regex }, substitution } : undefined;
}

function parseHashPolicy(r: ObjReader): HashPolicyConfig | undefined {
  const kinds = ["header", "cookie", "source_ip", "connection_properties"].filter((k) => r.has(k));
  if (kinds.length !== 1) {
    r.ctx.error(r.path, "needs exactly one of header, cookie, source_ip");
    r.allow("header", "cookie", "source_ip", "connection_properties", "terminal");
    r.done();
    return undefined;
  }
  let out: HashPolicyConfig | undefined;
  const kind = kinds[0]!;
  const sub = r.obj(kind);
  if (sub) {
    if (kind === "header") {
      const key = sub.has("header_name") ? sub.reqStr("header_name") : sub.reqStr("key");
      out = { kind: "header", key: key.toLowerCase() };
    } else if (kind === "cookie") {
      out = {
        kind: "cookie",
        name: sub.reqStr("name"),
        path: sub.str("path", ""),
        ttlMs: sub.duration("ttl", 0),
      };
    } else {
      sub.allow("source_ip");
      out = { kind: "source_ip" };
    }
    sub.done();
  }
  r.allow("terminal");
  r.done();
  return out;
}

function parseDirectResponse(r: ObjReader): DirectResponseConfig {
  let status = 200;
  const v = r.raw("status");
  if (typeof v === "number" && Number.isInteger(v) && v >= 100 && v <= 599) status = v;
  else if (v === undefined || v === null) r.ctx.error(r.at("status"), "is required");
  else r.ctx.error(r.at("status"), `expected an HTTP status code 100-599, got ${describe(v)}`);
  let body = "";
  const b = r.raw("body");
  if (typeof b === "string") body = b;
  else if (isPlainObject(b) && typeof b["inline_string"] === "string") body = b["inline_string"];
  else if (b !== undefined && b !== null) {
    r.ctx.error(r.at("body"), `expected a string, got ${describe(b)}`);
  }
  r.done();
  return { status, body };
}

const REDIRECT_NAMES: Record<string, RedirectCode> = {
  moved_permanently: 301,
  found: 302,
  see_other: 303,
  temporary_redirect: 307,
  permanent_redirect: 308,
};

function parseRedirect(r: ObjReader): RedirectConfig {
  let responseCode: RedirectCode = 301;
  const v = r.raw("response_code");
  if (v !== undefined && v !== null && v !== 0) {
    const hit = typeof v === "number"
      ? REDIRECT_CODES.find((c) => c === v)
      : typeof v === "string"
      ? REDIRECT_NAMES[v.toLowerCase()]
      : undefined;
    if (hit) responseCode = hit;
    else {
      r.ctx.error(
        r.at("response_code"),
        `unsupported redirect code ${describe(v)} (expected 301, 302, 303, 307 or 308)`,
      );
    }
  }
  const scheme = r.str("scheme_redirect", "").toLowerCase();
  if (scheme && !/^[a-z][a-z0-9.+-]*$/.test(scheme)) {
    r.ctx.error(r.at("scheme_redirect"), `invalid scheme ${describe(scheme)}`);
  }
  const hostRedirect = r.str("host_redirect", "");
  if (/[\s/?#@]/.test(hostRedirect)) {
    r.ctx.error(r.at("host_redirect"), `expected a host name, got ${describe(hostRedirect)}`);
  }
  const portRedirect = r.int("port_redirect", 0, 0, 65535);
  const pathRedirect = r.str("path_redirect", "");
  if (pathRedirect && !pathRedirect.startsWith("/")) {
    r.ctx.error(r.at("path_redirect"), `must start with "/", got ${describe(pathRedirect)}`);
  }
  const prefixRewrite = r.str("prefix_rewrite", "");
  if (pathRedirect && prefixRewrite) {
    r.ctx.error(r.path, "only one of path_redirect, prefix_rewrite may be set");
  }
  const cfg: RedirectConfig = {
    responseCode,
    ...(scheme ? { schemeRedirect: scheme } : {}),
    httpsRedirect: r.bool("https_redirect", false),
    ...(hostRedirect ? { hostRedirect } : {}),
    ...(portRedirect ? { portRedirect } : {}),
    ...(pathRedirect ? { pathRedirect } : {}),
    ...(prefixRewrite && !pathRedirect ? { prefixRewrite } : {}),
    stripQuery: r.bool("strip_query", false),
  };
  r.done();
  return cfg;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function headersToAdd(r: ObjReader, key: string): HeaderValueOption[] {
  const out: HeaderValueOption[] = [];
  for (const item of r.arr(key)) {
    const hr = ObjReader.of(r.ctx, item.value, item.path);
    if (!hr) continue;
    const h = hr.obj("header");
    if (!h) hr.ctx.error(joinPath(hr.path, "header"), "is required");
    else {
      const name = h.reqStr("key");
      const value = h.str("value", "");
      if (name && !TOKEN.test(name)) {
        h.ctx.error(h.at("key"), `invalid header name ${describe(name)}`);
      }
      if (/[\r\n\0]/.test(value)) {
        h.ctx.error(h.at("value"), `a header value must not contain CR, LF or NUL`);
      }
      h.done();
      let append = hr.bool("append", true);
      // Envoy v3 `append_action`.
      const action = hr.oneOf(
        "append_action",
        ["APPEND_IF_EXISTS_OR_ADD", "OVERWRITE_IF_EXISTS_OR_ADD"] as const,
        append ? "APPEND_IF_EXISTS_OR_ADD" : "OVERWRITE_IF_EXISTS_OR_ADD",
      );
      append = action === "APPEND_IF_EXISTS_OR_ADD";
      out.push({ key: name.toLowerCase(), value, append });
    }
    hr.allow("keep_empty_value");
    hr.done();
  }
  return out;
}

function headersToRemove(r: ObjReader, key: string): string[] {
  const out: string[] = [];
  for (const item of r.arr(key)) {
    if (typeof item.value === "string" && TOKEN.test(item.value)) {
      out.push(item.value.toLowerCase());
    } else r.ctx.error(item.path, `expected a header name, got ${describe(item.value)}`);
  }
  return out;
}

/** MOSN `{"filter_metadata": {"mosn.lb": {k: v}}}` (or a flat map) → `{k: v}`; undefined if absent/empty. */
function lbMetadata(r: ObjReader, key: string): Record<string, string> | undefined {
  const m = r.obj(key);
  if (!m) return undefined;
  let out: Record<string, string>;
  const fm = m.obj("filter_metadata");
  if (fm) {
    out = fm.strMap("mosn.lb");
    fm.allow(...fm.keys());
    fm.done();
    m.done();
  } else out = r.strMap(key);
  return Object.keys(out).length > 0 ? out : undefined;
}

function opaqueObject(r: ObjReader, key: string): Record<string, unknown> | undefined {
  const v = r.raw(key);
  if (v === undefined || v === null) return undefined;
  if (!isPlainObject(v)) {
    r.ctx.error(r.at(key), `expected an object, got ${describe(v)}`);
    return undefined;
  }
  return structuredClone(v);
}

const POSIX_CLASSES: Record<string, string> = {
  alnum: "0-9A-Za-z",
  alpha: "A-Za-z",
  ascii: "\\x00-\\x7F",
  blank: "\\t ",
  cntrl: "\\x00-\\x1F\\x7F",
  digit: "0-9",
  graph: "!-~",
  lower: "a-z",
  print: " -~",
  punct: "!-\\/:-@\\[-`{-~",
  space: "\\t\\n\\v\\f\\r ",
  upper: "A-Z",
  word: "0-9A-Za-z_",
  xdigit: "0-9A-Fa-f",
};

/**
 * Compiles a Go RE2 pattern as a JS RegExp. `search`: unanchored test; `full`: must match the
 * whole input; `replace`: global, for replacing every match. Translates what differs between
 * the dialects in practice: leading `(?ims)` flags, `(?P<name>`, `\A`, `\z`, `[[:alpha:]]`.
 * Returns an error message naming the pattern when it does not compile.
 */
export function compileGoRegex(
  source: string,
  mode: "search" | "full" | "replace",
): RegExp | string {
  let flags = mode === "replace" ? "g" : "";
  let s = source;
  const lead = /^\(\?([imsU]+)\)/.exec(s);
  if (lead) {
    for (const f of lead[1]!) {
      if (f === "U") return `invalid regex ${JSON.stringify(source)}: the U flag is not supported`;
      if (!flags.includes(f)) flags += f;
    }
    s = s.slice(lead[0].length);
  }
  let out = "";
  let inClass = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === "\\") {
      const n = s[i + 1];
      i++;
      if (n === undefined) out += c;
      else if (!inClass && n === "A") out += "(?<![\\s\\S])";
      else if (!inClass && n === "z") out += "(?![\\s\\S])";
      else out += c + n;
      continue;
    }
    if (inClass) {
      if (c === "[" && s[i + 1] === ":") {
        const end = s.indexOf(":]", i + 2);
        const cls = end > 0 ? POSIX_CLASSES[s.slice(i + 2, end)] : undefined;
        if (cls !== undefined) {
          out += cls;
          i = end + 1;
          continue;
        }
        out += "\\[";
        continue;
      }
      if (c === "]") inClass = false;
      out += c;
      continue;
    }
    if (c === "[") {
      inClass = true;
      out += c;
      if (s[i + 1] === "^") out += s[++i];
      if (s[i + 1] === "]") {
        out += "\\]";
        i++;
      }
      continue;
    }
    if (c === "(" && s.startsWith("?P<", i + 1)) {
      out += "(?<";
      i += 3;
      continue;
    }
    out += c;
  }
  if (mode === "full") {
    out = flags.includes("m") ? `(?<![\\s\\S])(?:${out})(?![\\s\\S])` : `^(?:${out})$`;
  }
  try {
    return new RegExp(out, flags);
  } catch (e) {
    const msg = e instanceof Error ? e.message.replace(/^.*: /, "") : String(e);
    return `invalid regex ${JSON.stringify(source)}: ${msg}`;
  }
}

function deepFreeze<T>(v: T): T {
  if (typeof v === "object" && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
  }
  return v;
}
