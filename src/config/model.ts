/**
 * The validated, defaulted, frozen config model. Everything past `src/config` reads these
 * types, never raw JSON. Field names are camelCase; the JSON keys are MOSN's snake_case.
 */

import type { LogLevel } from "../common/logger.ts";
import type { RouterConfig } from "./router_model.ts";

/** Where a listener binds or a host lives. */
export type Address =
  | { kind: "tcp"; host: string; port: number }
  | { kind: "unix"; path: string };

export interface MosnConfig {
  /** MOSN allows one server block; kept as an array for config_dump fidelity. */
  readonly servers: readonly ServerConfig[];
  readonly clusterManager: ClusterManagerConfig;
  readonly admin: AdminConfig;
  /** mosn.ts extension: tiny built-in HTTP upstreams so a first run shows a working proxy. */
  readonly demoUpstreams: readonly DemoUpstreamConfig[];
  /** The document as given (after YAML/JSON decode), for `/api/v1/config_dump`. */
  readonly raw: unknown;
}

export interface ServerConfig {
  readonly defaultLogPath: string; // "" or "stderr" = stderr
  readonly defaultLogLevel: LogLevel;
  readonly gracefulTimeoutMs: number; // default 30 s
  readonly processor: number;
  readonly listeners: readonly ListenerConfig[];
  /** Route tables, by router_config_name. */
  readonly routers: readonly RouterConfig[];
}

export interface ListenerConfig {
  readonly name: string;
  readonly address: Address;
  readonly bindPort: boolean;
  readonly useOriginalDst: boolean;
  readonly connectionIdleTimeoutMs: number; // default 90 s; 0 = never
  readonly connBufferLimitBytes: number; // default 1 MiB (Envoy's per_connection_buffer_limit_bytes)
  readonly filterChains: readonly FilterChainConfig[];
  readonly streamFilters: readonly ExtensionConfig[];
  readonly accessLogs: readonly AccessLogConfig[];
  readonly inspector: boolean;
}

export interface FilterChainConfig {
  readonly filters: readonly NetworkFilterConfig[];
  /** Parsed by the TLS layer (issue 4); undefined = plain text. */
  readonly tlsContext?: unknown;
}

/** A network filter: its `type` names a registry entry; `config` is that entry's typed config. */
export interface NetworkFilterConfig {
  readonly type: string;
  readonly config: unknown;
}

/** A stream filter or other extension whose config is parsed by its own module later. */
export interface ExtensionConfig {
  readonly type: string;
  readonly config: unknown;
}

export interface AccessLogConfig {
  readonly logPath: string;
  readonly logFormat: string;
}

export interface ClusterManagerConfig {
  readonly clusters: readonly ClusterConfig[];
}

export const CLUSTER_TYPES = ["SIMPLE"] as const;
export type ClusterType = typeof CLUSTER_TYPES[number];

export const LB_TYPES = [
  "LB_RANDOM",
  "LB_ROUNDROBIN",
  "LB_WEIGHTED_ROUNDROBIN",
  "LB_LEAST_REQUEST",
] as const;
export type LbType = typeof LB_TYPES[number];

export interface ClusterConfig {
  readonly name: string;
  readonly type: ClusterType;
  readonly lbType: LbType;
  readonly hosts: readonly HostConfig[];
  readonly connectTimeoutMs: number; // default 3 s
  readonly connBufferLimitBytes: number;
  readonly circuitBreakers: CircuitBreakersConfig;
  /** Opaque until the health-check issue; validated as an object if present. */
  readonly healthCheck?: unknown;
}

/** 0 means unlimited, as in MOSN. */
export interface CircuitBreakersConfig {
  readonly maxConnections: number;
  readonly maxPendingRequests: number;
  readonly maxRequests: number;
  readonly maxRetries: number;
}

export interface HostConfig {
  readonly address: Address;
  /** The address string as configured ("127.0.0.1:8080"), used as the stats label. */
  readonly addressText: string;
  readonly hostname: string;
  readonly weight: number; // 1..128, default 1
  readonly metadata: Readonly<Record<string, string>>;
}

export interface AdminConfig {
  readonly address: Address;
}

export interface DemoUpstreamConfig {
  readonly name: string;
  readonly address: Address;
  readonly body: string;
}

/** tcp_proxy network filter config. */
export interface TcpProxyConfig {
  readonly statPrefix: string;
  /** Default cluster; may be "" when every connection is matched by `routes`. */
  readonly cluster: string;
  readonly routes: readonly TcpProxyRoute[];
  readonly maxConnectAttempts: number; // default 1
  readonly idleTimeoutMs: number; // 0 = listener's idle timeout applies
}

export interface TcpProxyRoute {
  readonly cluster: string;
  readonly destinationAddrs: readonly CidrRange[];
  readonly sourceAddrs: readonly CidrRange[];
  /** Port ranges as [from, to] inclusive; empty = any. */
  readonly destinationPorts: readonly (readonly [number, number])[];
  readonly sourcePorts: readonly (readonly [number, number])[];
}

export interface CidrRange {
  readonly address: string;
  readonly prefixLen: number;
}

/** Protocols the `proxy` network filter speaks. */
export const PROXY_PROTOCOLS = ["Http1", "Http2", "Auto"] as const;
export type ProxyProtocol = typeof PROXY_PROTOCOLS[number];

/** `proxy` network filter config (the L7 proxy). */
export interface ProxyFilterConfig {
  readonly downstreamProtocol: ProxyProtocol;
  readonly upstreamProtocol: ProxyProtocol;
  readonly routerConfigName: string;
  /** Hand bytes no codec recognises to the next network filter (e.g. tcp_proxy). */
  readonly fallbackForUnknownProtocol: boolean;
  /** Global request timeout when the route sets none; MOSN's default is 60 s. */
  readonly defaultTimeoutMs: number;
  readonly maxRequestHeadersBytes: number;
}
