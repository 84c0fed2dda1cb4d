/**
 * MOSN v2 JSON (already decoded) → validated, defaulted, frozen MosnConfig. Collects every
 * problem with its JSON path and throws one ConfigError; warnings (unknown keys) are returned.
 */

import { ConfigError, type ConfigIssue } from "../common/errors.ts";
import { isLogLevel, type LogLevel } from "../common/logger.ts";
import { parseAddress } from "../network/address.ts";
import type {
  AccessLogConfig,
  Address,
  AdminConfig,
  ClusterConfig,
  DemoUpstreamConfig,
  ExtensionConfig,
  FilterChainConfig,
  ListenerConfig,
  ListenerOriginalDst,
  MosnConfig,
  NetworkFilterConfig,
  ServerConfig,
} from "./model.ts";
import { parseRouters } from "./router_parse.ts";
import { parseCluster } from "./cluster_parse.ts";
import { describe, ObjReader, ParseContext } from "./reader.ts";

/** Parses a network filter's `config`; supplied by the filter registry (config imports no filters). */
export interface NetworkFilterParsers {
  get(type: string):
    | {
      parseConfig(
        r: ObjReader,
        refs: { clusterNames: ReadonlySet<string>; routerNames: ReadonlySet<string> },
      ): unknown;
    }
    | undefined;
  names(): string[];
}

/** Parses a stream filter's `config`; supplied by the stream filter registry. */
export interface StreamFilterParsers {
  get(type: string): { parseConfig(r: ObjReader): unknown } | undefined;
  names(): string[];
}

export interface ParseOptions {
  networkFilters: NetworkFilterParsers;
  streamFilters?: StreamFilterParsers;
  /** Checks an access log format; returns an error message or undefined. */
  checkAccessLogFormat?: (format: string) => string | undefined;
}

export interface ParseResult {
  config: MosnConfig;
  warnings: ConfigIssue[];
}

const DEFAULT_ADMIN: Address = { kind: "tcp", host: "127.0.0.1", port: 34901 };

export function parseConfig(doc: unknown, opts: ParseOptions): ParseResult {
  const ctx = new ParseContext();
  const root = ObjReader.of(ctx, doc, "");
  if (!root) throw new ConfigError(ctx.issues);

  // Clusters first: listeners' filters check their cluster references against these names.
  const clusters = parseClusterManager(root);
  const clusterNames = new Set(clusters.map((c) => c.name));

  const serverItems = root.arr("servers");
  if (!root.has("servers")) ctx.error("servers", "is required (at least one server)");
  else if (serverItems.length === 0) ctx.error("servers", "needs at least one server");
  else if (serverItems.length > 1) ctx.error("servers", "only one server is supported");
  const servers: ServerConfig[] = [];
  for (const item of serverItems) {
    const r = ObjReader.of(ctx, item.value, item.path);
    if (r) servers.push(parseServer(r, clusterNames, opts));
  }

  const admin = parseAdmin(root);
  const demoUpstreams = parseDemoUpstreams(root);
  const inheritOldConfig = root.bool("inherit_old_mosnconfig", false);
  root.allow(
    "tracing",
    "metrics",
    "pprof",
    "plugin",
    "extends",
    "dynamic_resources",
    "static_resources",
  );
  root.done();

  if (ctx.issues.length > 0) throw new ConfigError(ctx.issues);
  checkAddressClashes(ctx, servers, admin, demoUpstreams);
  if (ctx.issues.length > 0) throw new ConfigError(ctx.issues);

  const config: MosnConfig = deepFreeze({
    servers,
    clusterManager: { clusters },
    admin,
    demoUpstreams,
    inheritOldConfig,
    raw: doc,
  });
  return { config, warnings: ctx.warnings };
}

function parseServer(
  r: ObjReader,
  clusterNames: ReadonlySet<string>,
  opts: ParseOptions,
): ServerConfig {
  const level = r.str("default_log_level", "INFO").toUpperCase();
  let defaultLogLevel: LogLevel = "INFO";
  if (isLogLevel(level)) defaultLogLevel = level;
  else {r.ctx.error(
      r.at("default_log_level"),
      `expected a log level (ERROR, WARN, INFO, DEBUG, …), got ${describe(level)}`,
    );}

  const routers = parseRouters(r.arr("routers"), r.ctx, clusterNames);
  const routerNames = new Set(routers.map((x) => x.routerConfigName));

  const listeners: ListenerConfig[] = [];
  const names = new Set<string>();
  for (const item of r.arr("listeners")) {
    const lr = ObjReader.of(r.ctx, item.value, item.path);
    if (!lr) continue;
    const l = parseListener(lr, { clusterNames, routerNames }, opts);
    if (names.has(l.name)) {
      r.ctx.error(lr.at("name"), `duplicate listener name ${JSON.stringify(l.name)}`);
    }
    names.add(l.name);
    listeners.push(l);
  }

  const cfg: ServerConfig = {
    defaultLogPath: r.str("default_log_path", ""),
    defaultLogLevel,
    gracefulTimeoutMs: r.duration("graceful_timeout", 30_000),
    processor: r.int("processor", 1, 0, 1024),
    listeners,
    routers,
  };
  r.allow(
    "mosn_server_name",
    "global_log_roller",
    "optimize_local_write",
    "use_netpoll_mode",
    "metrics_ignore_endpoint",
  );
  r.done();
  return cfg;
}

function parseListener(
  r: ObjReader,
  refs: { clusterNames: ReadonlySet<string>; routerNames: ReadonlySet<string> },
  opts: ParseOptions,
): ListenerConfig {
  const name = r.reqStr("name");
  const network = r.oneOf("network", ["tcp", "unix"] as const, "tcp");
  let address: Address = { kind: "tcp", host: "127.0.0.1", port: 0 };
  const addrText = r.reqStr("address");
  if (addrText) {
    if (network === "unix" && !addrText.startsWith("unix:")) {
      address = { kind: "unix", path: addrText };
    } else {
      const a = parseAddress(addrText);
      if (typeof a === "string") r.ctx.error(r.at("address"), a);
      else address = a;
    }
  }

  const filterChains: FilterChainConfig[] = [];
  const chainItems = r.arr("filter_chains");
  if (chainItems.length === 0) {
    r.ctx.error(r.at("filter_chains"), "needs at least one filter chain");
  }
  for (const item of chainItems) {
    const cr = ObjReader.of(r.ctx, item.value, item.path);
    if (!cr) continue;
    const filters: NetworkFilterConfig[] = [];
    const filterItems = cr.arr("filters");
    if (filterItems.length === 0) {
      cr.ctx.error(cr.at("filters"), "needs at least one network filter");
    }
    for (const f of filterItems) {
      const fr = ObjReader.of(r.ctx, f.value, f.path);
      if (!fr) continue;
      const type = fr.reqStr("type");
      const factory = type ? opts.networkFilters.get(type) : undefined;
      if (type && !factory) {
        fr.ctx.error(
          fr.at("type"),
          `unknown network filter ${describe(type)} (known: ${
            opts.networkFilters.names().join(", ")
          })`,
        );
      }
      const cfgReader = fr.obj("config");
      let config: unknown = undefined;
      if (factory) {
        if (cfgReader) config = factory.parseConfig(cfgReader, refs);
        else fr.ctx.error(fr.at("config"), "is required");
      }
      fr.done();
      filters.push({ type: type.toLowerCase(), config });
    }
    const tls = cr.raw("tls_context");
    const tlsSet = cr.raw("tls_context_set");
    cr.done();
    filterChains.push({
      filters,
      ...(tls !== undefined || tlsSet !== undefined ? { tlsContext: tls ?? tlsSet } : {}),
    });
  }

  const streamFilters: ExtensionConfig[] = [];
  for (const item of r.arr("stream_filters")) {
    const sr = ObjReader.of(r.ctx, item.value, item.path);
    if (!sr) continue;
    const type = sr.reqStr("type");
    const factory = type && opts.streamFilters ? opts.streamFilters.get(type) : undefined;
    if (type && opts.streamFilters && !factory) {
      sr.ctx.error(
        sr.at("type"),
        `unknown stream filter ${describe(type)} (known: ${opts.streamFilters.names().join(", ")})`,
      );
    }
    let config: unknown = sr.raw("config");
    if (factory) {
      const cr = ObjReader.of(sr.ctx, config ?? {}, sr.at("config"));
      config = cr ? factory.parseConfig(cr) : undefined;
    }
    streamFilters.push({ type: type.toLowerCase(), config });
    sr.done();
  }

  const accessLogs: AccessLogConfig[] = [];
  for (const item of r.arr("access_logs")) {
    const ar = ObjReader.of(r.ctx, item.value, item.path);
    if (!ar) continue;
    const logFormat = ar.str("log_format", "");
    const bad = logFormat && opts.checkAccessLogFormat
      ? opts.checkAccessLogFormat(logFormat)
      : undefined;
    if (bad) ar.ctx.error(ar.at("log_format"), bad);
    accessLogs.push({ logPath: ar.reqStr("log_path"), logFormat });
    ar.done();
  }

  const cfg: ListenerConfig = {
    name,
    address,
    bindPort: r.bool("bind_port", true),
    ...originalDstOf(r),
    connectionIdleTimeoutMs: r.duration("connection_idle_timeout", 90_000),
    connBufferLimitBytes: r.int("conn_buffer_limit_bytes", 1 << 20, 1024, 1 << 30),
    filterChains,
    streamFilters,
    accessLogs,
    inspector: r.bool("inspector", false),
  };
  r.allow(
    "type",
    "per_connection_buffer_limit_bytes",
    "log_path",
    "log_level",
    "disable_conn_io",
  );
  r.done();
  return cfg;
}

/** `use_original_dst` (bool or "redirect"/"tproxy") and the `original_dst` listener filter. */
function originalDstOf(r: ObjReader): { originalDst?: ListenerOriginalDst } {
  const use = r.raw("use_original_dst");
  let mode: ListenerOriginalDst["mode"] | undefined;
  if (use === true || use === "redirect" || use === "tproxy") {
    mode = use === "tproxy" ? "tproxy" : "redirect";
  } else if (use !== undefined && use !== null && use !== false && use !== "") {
    r.ctx.error(
      r.at("use_original_dst"),
      `expected true, false, "redirect" or "tproxy", got ${describe(use)}`,
    );
  }
  let fallbackToLocal = false;
  for (const item of r.arr("listener_filters")) {
    const fr = ObjReader.of(r.ctx, item.value, item.path);
    if (!fr) continue;
    const type = fr.reqStr("type");
    const cr = fr.obj("config");
    if (type.toLowerCase() === "original_dst") {
      // As in MOSN, the filter only refines use_original_dst; alone it does nothing.
      if (cr && mode) {
        const t = cr.str("type", "").toLowerCase();
        if (t === "tproxy" || cr.bool("transparent_proxy", false)) mode = "tproxy";
        else if (t !== "" && t !== "redirect") {
          cr.ctx.error(cr.at("type"), `expected "redirect" or "tproxy", got ${describe(t)}`);
        }
        fallbackToLocal = cr.bool("fallback_to_local", false);
        cr.done();
      }
    } else if (type) {
      fr.ctx.warn(fr.at("type"), `listener filter ${describe(type)} is not supported, ignored`);
    }
    fr.done();
  }
  return mode ? { originalDst: { mode, fallbackToLocal } } : {};
}

function parseClusterManager(root: ObjReader): ClusterConfig[] {
  const cm = root.obj("cluster_manager");
  if (!cm) return [];
  const out: ClusterConfig[] = [];
  const names = new Set<string>();
  for (const item of cm.arr("clusters")) {
    const r = ObjReader.of(root.ctx, item.value, item.path);
    if (!r) continue;
    const c = parseCluster(r);
    if (names.has(c.name)) {
      r.ctx.error(r.at("name"), `duplicate cluster name ${JSON.stringify(c.name)}`);
    }
    names.add(c.name);
    out.push(c);
  }
  cm.allow("auto_discovery", "registry_use_health_check", "clusters_configs", "tls_context");
  cm.done();
  return out;
}

function parseAdmin(root: ObjReader): AdminConfig {
  const a = root.obj("admin");
  if (!a) return { address: DEFAULT_ADMIN };
  let address = DEFAULT_ADMIN;
  const addr = a.obj("address");
  if (addr) {
    const sa = addr.obj("socket_address");
    if (sa) {
      const host = sa.str("address", "127.0.0.1");
      const port = sa.int("port_value", 34901, 0, 65535);
      const parsed = parseAddress(`${host.includes(":") ? `[${host}]` : host}:${port}`);
      if (typeof parsed === "string") {
        sa.ctx.error(sa.at("address"), `expected an IP address, got ${describe(host)}`);
      } else address = parsed;
      sa.allow("protocol");
      sa.done();
    } else {
      addr.ctx.error(addr.at("socket_address"), "is required");
    }
    addr.done();
  }
  const token = a.str("token", "");
  if (a.has("token") && token.length < 8) {
    a.ctx.error(a.at("token"), "must be at least 8 characters (a bearer token for the admin API)");
  }
  a.done();
  return token ? { address, token } : { address };
}

function parseDemoUpstreams(root: ObjReader): DemoUpstreamConfig[] {
  const out: DemoUpstreamConfig[] = [];
  for (const item of root.arr("demo_upstreams")) {
    const r = ObjReader.of(root.ctx, item.value, item.path);
    if (!r) continue;
    const text = r.reqStr("address");
    let address: Address = { kind: "tcp", host: "127.0.0.1", port: 0 };
    const a = text ? parseAddress(text) : undefined;
    if (typeof a === "string") r.ctx.error(r.at("address"), a);
    else if (a) address = a;
    out.push({
      name: r.str("name", `demo-${item.path}`),
      address,
      body: r.str("body", "Hello from the mosn.ts demo upstream\n"),
    });
    r.done();
  }
  return out;
}

/** Two things bound to the same ip:port would fail at bind time; report it with paths now. */
function checkAddressClashes(
  ctx: ParseContext,
  servers: readonly ServerConfig[],
  admin: AdminConfig,
  demos: readonly DemoUpstreamConfig[],
): void {
  const seen = new Map<string, string>();
  const key = (a: Address) =>
    a.kind === "unix" ? `unix:${a.path}` : a.port === 0 ? "" : `${a.host}:${a.port}`;
  const add = (a: Address, path: string) => {
    const k = key(a);
    if (!k) return;
    const prev = seen.get(k);
    if (prev) ctx.error(path, `address ${k} is already used by ${prev}`);
    else seen.set(k, path);
  };
  servers.forEach((s, si) =>
    s.listeners.forEach((l, li) => add(l.address, `servers[${si}].listeners[${li}].address`))
  );
  add(admin.address, "admin.address.socket_address");
  demos.forEach((d, i) => add(d.address, `demo_upstreams[${i}].address`));
}

function deepFreeze<T>(v: T): T {
  if (typeof v === "object" && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
  }
  return v;
}
