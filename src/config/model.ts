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
  /**
   * MOSN's `inherit_old_mosnconfig`: on a smooth upgrade, run the old process's running config
   * (dynamic updates included) instead of this file's.
   */
  readonly inheritOldConfig?: boolean;
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
  /** `use_original_dst`: off, or how the original destination is learned. */
  readonly originalDst?: ListenerOriginalDst;
  readonly connectionIdleTimeoutMs: number; // default 90 s; 0 = never
  readonly connBufferLimitBytes: number; // default 1 MiB (Envoy's per_connection_buffer_limit_bytes)
  readonly filterChains: readonly FilterChainConfig[];
  readonly streamFilters: readonly ExtensionConfig[];
  readonly accessLogs: readonly AccessLogConfig[];
  readonly inspector: boolean;
}

/**
 * MOSN's `use_original_dst` (true, "redirect" or "tproxy") plus its `original_dst` listener
 * filter (`{"type": "tproxy" | "redirect", "fallback_to_local": bool}`).
 */
export interface ListenerOriginalDst {
  /** "redirect": iptables REDIRECT, SO_ORIGINAL_DST; "tproxy": IP_TRANSPARENT + local address. */
  readonly mode: "redirect" | "tproxy";
  /** Hand off to listeners on 127.0.0.1:port instead of 0.0.0.0:port (ingress). */
  readonly fallbackToLocal: boolean;
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

export const CLUSTER_TYPES = ["SIMPLE", "STRICT_DNS", "ORIGINAL_DST"] as const;
export type ClusterType = typeof CLUSTER_TYPES[number];

export const LB_TYPES = [
  "LB_RANDOM",
  "LB_ROUNDROBIN",
  "LB_WEIGHTED_ROUNDROBIN",
  "LB_LEAST_REQUEST",
  "LB_MAGLEV",
  "LB_RING_HASH",
  "LB_ORIGINAL_DST",
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
  readonly healthCheck?: HealthCheckConfig;
  readonly outlierDetection?: OutlierDetectionConfig;
  readonly lbSubset?: LbSubsetConfig;
  /** Balancer options (`lb_config`). */
  readonly lbConfig: LbConfig;
  /** STRICT_DNS: how often hostnames are resolved again. */
  readonly dnsRefreshRateMs: number;
  /** ORIGINAL_DST: take the destination from a request header instead of the socket. */
  readonly originalDst: OriginalDstConfig;
}

export interface LbConfig {
  /** Least request: hosts sampled per pick (power of `choiceCount` choices). Default 2. */
  readonly choiceCount: number;
  /**
   * Percent of healthy hosts below which the balancer ignores health and spreads over all
   * hosts (Envoy's healthy_panic_threshold). Default 50; 0 disables panic mode.
   */
  readonly healthyPanicThreshold: number;
  /** Ring hash: ring size bounds. Maglev: table size (a prime). */
  readonly minimumRingSize: number;
  readonly maximumRingSize: number;
  readonly maglevTableSize: number;
}

export interface OriginalDstConfig {
  readonly useHeader: boolean;
  /** Default `x-envoy-original-dst-host`. */
  readonly headerName: string;
}

/** Active health checking (MOSN `health_check`; protocol-specific keys in `check_config`). */
export interface HealthCheckConfig {
  /** "tcp", "http" (also MOSN's "Http1"), "grpc", "bolt". */
  readonly protocol: "tcp" | "http" | "grpc" | "bolt";
  readonly timeoutMs: number; // default 1 s
  readonly intervalMs: number; // default 10 s
  readonly intervalJitterMs: number; // default 0
  readonly initialDelayMs: number; // default 0 (first check right away)
  readonly healthyThreshold: number; // default 1
  readonly unhealthyThreshold: number; // default 2
  /** HTTP: request path, method, Host; statuses counted healthy as [start, end) ranges. */
  readonly path: string; // default "/"
  readonly method: string; // default "GET"
  readonly host: string; // default: the host's address
  readonly expectedStatuses: readonly (readonly [number, number])[]; // default [[200, 400)]
  /** gRPC: `grpc.health.v1.HealthCheckRequest.service`. */
  readonly serviceName: string;
  /** File to append health transitions to ("" = the log only). */
  readonly eventLogPath: string;
}

/** Passive health checking with Envoy's semantics (`outlier_detection`). */
export interface OutlierDetectionConfig {
  readonly consecutive5xx: number; // 5
  readonly consecutiveGatewayFailure: number; // 5
  readonly intervalMs: number; // 10 s
  readonly baseEjectionTimeMs: number; // 30 s
  readonly maxEjectionTimeMs: number; // 300 s
  readonly maxEjectionPercent: number; // 10
  readonly enforcingConsecutive5xx: number; // 100
  readonly enforcingConsecutiveGatewayFailure: number; // 0
  readonly enforcingSuccessRate: number; // 100
  readonly successRateMinimumHosts: number; // 5
  readonly successRateRequestVolume: number; // 100
  readonly successRateStdevFactor: number; // 1900 (÷1000)
  readonly enforcingFailurePercentage: number; // 0
  readonly failurePercentageThreshold: number; // 85
  readonly failurePercentageMinimumHosts: number; // 5
  readonly failurePercentageRequestVolume: number; // 50
}

export const SUBSET_FALLBACK = ["NO_FALLBACK", "ANY_ENDPOINT", "DEFAULT_SUBSET"] as const;
export type SubsetFallback = typeof SUBSET_FALLBACK[number];

/** Subset load balancing (MOSN `lb_subset_config`). */
export interface LbSubsetConfig {
  readonly fallBackPolicy: SubsetFallback;
  readonly defaultSubset: Readonly<Record<string, string>>;
  /** Each selector is a list of metadata keys that define subsets. */
  readonly subsetSelectors: readonly (readonly string[])[];
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
  /**
   * mosn.ts extension `admin.token`: the bearer token the admin API asks for. Required for every
   * API call when the admin binds a non-loopback address; optional on loopback.
   */
  readonly token?: string;
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
/** Protocols the `proxy` filter speaks: HTTP, or a registered xprotocol (multiplexed RPC). */
export const PROXY_PROTOCOLS = ["Http1", "Http2", "Auto", "bolt", "boltv2", "dubbo"] as const;
export type ProxyProtocol = typeof PROXY_PROTOCOLS[number];

/** `proxy` network filter config (the L7 proxy). */
export interface ProxyFilterConfig {
  /** The one protocol spoken downstream, or "Auto" when `downstreamProtocols` has several. */
  readonly downstreamProtocol: ProxyProtocol;
  /** What Auto detection chooses among (Auto = all supported; a comma list = those). */
  readonly downstreamProtocols: readonly ProxyProtocol[];
  readonly upstreamProtocol: ProxyProtocol;
  readonly routerConfigName: string;
  /** Hand bytes no codec recognises to the next network filter (e.g. tcp_proxy). */
  readonly fallbackForUnknownProtocol: boolean;
  /** Global request timeout when the route sets none; MOSN's default is 60 s. */
  readonly defaultTimeoutMs: number;
  readonly maxRequestHeadersBytes: number;
  /**
   * MOSN's `extend_config.bolt.enable_bolt_goaway`: when the listener drains (upgrade, stop),
   * tell bolt clients with a GoAway frame (cmd code 100) to open a new connection.
   */
  readonly enableBoltGoAway?: boolean;
}
