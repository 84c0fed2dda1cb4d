/**
 * What the admin API reads from the running server, and the JSON shapes it answers with.
 * The console (console/) imports these response types too.
 */

import type { Logger, LogLevel } from "../common/logger.ts";
import type { MosnConfig } from "../config/model.ts";
import type { StatsRegistry } from "../observability/stats.ts";
import type { ClusterManager } from "../upstream/types.ts";
import type { ConnectionEntry } from "../network/connection_registry.ts";
import type { RouteTable } from "../router/route_table.ts";

/** MOSN's process states (pkg/admin/store). */
export type ServerState =
  | "INITIALIZING"
  | "RUNNING"
  | "DRAINING"
  | "STOPPING"
  | "STOPPED";

export interface ListenerInfo {
  readonly name: string;
  /** "ip:port" or "unix:/path" as bound (the real port when 0 was asked). */
  readonly address: string;
  readonly accepting: boolean;
  readonly activeConnections: number;
}

/** Implemented by the server; the admin API only reads through it (plus log level changes). */
export interface AdminSource {
  /** Re-reads and applies the config file (POST /api/v1/reload); absent when not supported. */
  reloadFromSource?(): Promise<{ ok: boolean; errors: string[] }>;
  /** Dynamic updates: a mutable copy of the running document, and applying a changed one. */
  documentCopy?(): Record<string, unknown>;
  applyDocument?(doc: unknown): { ok: boolean; errors: string[] };
  /** Envoy's drain_listeners. */
  drainListeners?(graceful: boolean): void;
  /** Envoy's /healthcheck/fail and /healthcheck/ok: /ready answers 503 while set. */
  healthCheckFailed?: boolean;
  readonly version: string;
  readonly startTime: Date;
  readonly logger: Logger;
  readonly stats: StatsRegistry;
  readonly clusterManager: ClusterManager;
  config(): MosnConfig;
  state(): ServerState;
  listeners(): readonly ListenerInfo[];
  /** The live route tables (console routes view with hit counts); absent = none. */
  routeTables?(): readonly RouteTable[];
  /** Live connections; absent = the process-wide registry (src/network/connection_registry.ts). */
  connections?(): Iterable<ConnectionEntry>;
  /** argv as started, for `/server_info` `command_line`; optional, defaults to `Deno.args`. */
  readonly commandLine?: readonly string[];
}

// ---------------------------------------------------------------------------------------------
// Response shapes. Wire JSON uses snake_case keys, as MOSN and Envoy do.
// ---------------------------------------------------------------------------------------------

/**
 * `GET /api/v1/stats[?type=<type>[,<type>…]]` (MOSN's metrics dump):
 * `{ "<type>": { "<namespace>": { "<metric>": "<value>" } } }`, defined in
 * src/observability/stats_json.ts.
 *
 * - namespace: the scope's labels sorted by key, each `key.value`, joined by "." ("" if none);
 * - value: a decimal string; a histogram `h` gives `h.count`, `h.sum`, `h.p50`, `h.p99`;
 * - types, namespaces and metric names are sorted.
 *
 * ```json
 * {"downstream": {"listener.egress_listener.proxy.global": {"connection_total": "3"}},
 *  "upstream": {"cluster.c1": {"connection_total": "5"},
 *               "cluster.c1.host.127.0.0.1:8080": {"connection_total": "2"}}}
 * ```
 */
export type { StatsDump } from "../observability/stats_json.ts";

/** Body of every non-2xx JSON answer (404, 400, 405, 500). */
export interface ErrorResponse {
  readonly error: string;
}

/**
 * `GET /api/v1/states`. MOSN itself answers `pid=<pid>&state=<code>` as text; mosn.ts answers
 * JSON with the state's name.
 *
 * ```json
 * {"state": "RUNNING", "pid": 4242, "uptime_seconds": 12}
 * ```
 */
export interface StatesResponse {
  readonly state: ServerState;
  readonly pid: number;
  readonly uptime_seconds: number;
}

/**
 * `GET /api/v1/version`.
 *
 * ```json
 * {"version": "0.1.0", "runtime": {"deno": "2.9.6", "v8": "…", "typescript": "…"}}
 * ```
 */
export interface VersionResponse {
  readonly version: string;
  readonly runtime: { readonly deno: string; readonly v8: string; readonly typescript: string };
}

/**
 * `GET /api/v1/get_loglevel`. `loggers` maps a log path to its level (MOSN's shape; mosn.ts has
 * one error logger, keyed `"default"`).
 *
 * ```json
 * {"log_level": "INFO", "loggers": {"default": "INFO"}}
 * ```
 */
export interface LogLevelResponse {
  readonly log_level: LogLevel;
  readonly loggers: Readonly<Record<string, LogLevel>>;
}

/**
 * `POST /api/v1/update_loglevel` request body (MOSN's). `log_path` is accepted and ignored
 * (mosn.ts has one error logger). `log_level` is one of FATAL, ERROR, WARN, INFO, DEBUG, TRACE
 * (case-insensitive).
 */
export interface UpdateLogLevelRequest {
  readonly log_path?: string;
  readonly log_level: string;
}

/**
 * `POST /api/v1/update_loglevel` answer (200).
 *
 * ```json
 * {"message": "update logger success", "log_level": "DEBUG", "previous_log_level": "INFO"}
 * ```
 */
export interface UpdateLogLevelResponse {
  readonly message: string;
  readonly log_level: LogLevel;
  readonly previous_log_level: LogLevel;
}

/**
 * `GET /server_info` (Envoy-style).
 *
 * ```json
 * {"version": "0.1.0", "state": "RUNNING", "uptime_seconds": 12,
 *  "start_time": "2024-01-01T00:00:00.000Z", "command_line": ["start", "-c", "mosn.json"],
 *  "pid": 4242}
 * ```
 */
export interface ServerInfoResponse {
  readonly version: string;
  readonly state: ServerState;
  readonly uptime_seconds: number;
  readonly start_time: string;
  readonly command_line: readonly string[];
  readonly pid: number;
}

/** Envoy's `core.Address` JSON: a socket address or a unix socket path. */
export type AddressJson =
  | { readonly socket_address: { readonly address: string; readonly port_value: number } }
  | { readonly pipe: { readonly path: string } };

/** One per-host stat in `/clusters?format=json` (Envoy's SimpleMetric, with a numeric value). */
export interface HostStat {
  readonly name: string;
  readonly type: "COUNTER" | "GAUGE";
  readonly value: number;
}

export interface HostStatusJson {
  readonly address: AddressJson;
  /** The configured "ip:port" (the `host` stats label). */
  readonly address_text: string;
  readonly hostname: string;
  readonly weight: number;
  readonly metadata: Readonly<Record<string, string>>;
  /** Sorted by name: cx_active, cx_connect_fail, cx_connect_timeout, cx_destroy, cx_total, rq_active. */
  readonly stats: readonly HostStat[];
  readonly health_status: {
    readonly eds_health_status: "HEALTHY" | "UNHEALTHY";
    /** Envoy's HostHealthStatus booleans. */
    readonly failed_active_health_check: boolean;
    readonly failed_outlier_check: boolean;
  };
  /** The flags set, in the text format's order: "failed_active_hc", "failed_outlier_check"; [] = healthy. */
  readonly health_flags: readonly string[];
  /** Why each set flag was set, by flag name, e.g. `{"failed_active_hc": "status 503"}`. */
  readonly health_reasons: Readonly<Record<string, string>>;
}

export interface ClusterStatusJson {
  readonly name: string;
  readonly type: string;
  readonly lb_type: string;
  readonly added_via_api: boolean;
  /** Envoy's shape; 0 means unlimited, as in MOSN's config. */
  readonly circuit_breakers: {
    readonly thresholds: readonly {
      readonly priority: "DEFAULT";
      readonly max_connections: number;
      readonly max_pending_requests: number;
      readonly max_requests: number;
      readonly max_retries: number;
    }[];
  };
  readonly host_statuses: readonly HostStatusJson[];
}

/**
 * `GET /clusters?format=json`. Without `format=json` the answer is Envoy's text, one
 * `cluster::host::stat::value` line each, e.g. `c1::127.0.0.1:8080::cx_active::1`,
 * `c1::127.0.0.1:8080::health_flags::healthy` (or the set flags, each as `/name`:
 * `/failed_active_hc/failed_outlier_check`), `c1::127.0.0.1:8080::weight::1`, preceded per
 * cluster by `c1::default_priority::max_connections::0` (… pending_requests, requests, retries)
 * and `c1::added_via_api::false`.
 */
export interface ClustersResponse {
  readonly cluster_statuses: readonly ClusterStatusJson[];
}

export interface ListenerStatusJson {
  readonly name: string;
  readonly local_address: AddressJson;
  /** As bound: "ip:port" or "unix:/path". */
  readonly address: string;
  readonly accepting: boolean;
  readonly active_connections: number;
}

/**
 * `GET /listeners?format=json`. Without `format=json` the answer is Envoy's text, one
 * `name::address` line per listener.
 */
export interface ListenersResponse {
  readonly listener_statuses: readonly ListenerStatusJson[];
}

/** `GET /stats?format=json` (Envoy-style): the flat `/stats` lines as objects, sorted by name. */
export interface StatsFlatResponse {
  readonly stats: readonly { readonly name: string; readonly value: string }[];
}

/** `GET /memory`: bytes, from the runtime (`Deno.memoryUsage()`). */
export interface MemoryResponse {
  readonly rss: number;
  readonly heap_total: number;
  readonly heap_used: number;
  readonly external: number;
}
