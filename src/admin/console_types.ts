/**
 * JSON shapes of the endpoints behind the console (`/api/v1/overview`, `/connections`,
 * `/clusters`, `/routes`, `/events`). Scripts may use them too; the console (console/src)
 * imports these types, so a change here is checked against the UI.
 */

/** One sample of the request/latency history (one per sample interval, default 1 s). */
export interface OverviewPoint {
  /** Milliseconds since the epoch at the end of the interval. */
  readonly t: number;
  /** Downstream requests completed per second over the interval. */
  readonly rps: number;
  /** Responses with status ≥ 500 per second over the interval. */
  readonly errors_per_s: number;
  /** Latency quantiles of the interval's requests (ms, estimated from histogram buckets). */
  readonly p50_ms: number;
  readonly p99_ms: number;
  readonly downstream_cx_active: number;
  readonly upstream_cx_active: number;
}

export interface OverviewListener {
  readonly name: string;
  readonly address: string;
  readonly accepting: boolean;
  readonly active_connections: number;
}

/**
 * `GET /api/v1/overview` (the SSE `overview` event carries the same without `history`, plus the
 * newest `point`).
 *
 * ```json
 * {"version": "0.1.0", "state": "RUNNING", "uptime_seconds": 42, "pid": 4242,
 *  "listeners": [{"name": "l1", "address": "127.0.0.1:2045", "accepting": true, "active_connections": 1}],
 *  "totals": {"requests": 120, "errors": 3, "downstream_cx_active": 1, "upstream_cx_active": 1},
 *  "sample_interval_ms": 1000, "history": [{"t": 1700000000000, "rps": 12, …}]}
 * ```
 */
export interface OverviewResponse {
  readonly version: string;
  readonly state: string;
  readonly uptime_seconds: number;
  readonly start_time: string;
  readonly pid: number;
  readonly listeners: readonly OverviewListener[];
  readonly totals: {
    readonly requests: number;
    readonly errors: number;
    readonly downstream_cx_active: number;
    readonly upstream_cx_active: number;
  };
  readonly sample_interval_ms: number;
  readonly history?: readonly OverviewPoint[];
  readonly point?: OverviewPoint;
  /** SSE only: snapshots this client missed because it read too slowly. */
  readonly dropped?: number;
}

/** One live connection. */
export interface ConnectionJson {
  readonly id: number;
  readonly direction: "downstream" | "upstream";
  /** The listener (downstream) or cluster (upstream). */
  readonly owner: string;
  /** Upstream: the host "ip:port" as configured. */
  readonly host?: string;
  /** "HTTP/1.1", "HTTP/2", "bolt", "dubbo", "TCP", … ("" while not yet detected). */
  readonly protocol: string;
  readonly local_address: string;
  readonly remote_address: string;
  /**
   * A TLS summary when the connection is TLS, absent otherwise: the version, then the peer's
   * identity (its URI SANs, else its subject), the SNI name and the ALPN protocol, e.g.
   * `TLSv1.3 peer=spiffe://cluster.local/ns/default/sa/client sni=a.example alpn=h2`.
   */
  readonly tls?: string;
  readonly bytes_read: number;
  readonly bytes_written: number;
  readonly age_ms: number;
  /** Requests in flight; null when the protocol layer does not tell. */
  readonly active_streams: number | null;
}

/**
 * `GET /api/v1/connections[?direction=downstream|upstream][&limit=N]`: newest first, at most
 * `limit` (default and maximum 1000); `total` counts all.
 */
export interface ConnectionsResponse {
  readonly total: number;
  readonly connections: readonly ConnectionJson[];
}

export interface ResourceUsageJson {
  /** 0 = unlimited. */
  readonly max: number;
  readonly used: number;
}

export interface ConsoleHostJson {
  readonly address: string;
  readonly weight: number;
  readonly healthy: boolean;
  /** "failed_active_hc", "failed_outlier_check" ([] when healthy). */
  readonly health_flags: readonly string[];
  /** Why each flag is set, by flag name (e.g. "connect refused", "5 consecutive 5xx"). */
  readonly health_reasons: Readonly<Record<string, string>>;
  readonly cx_active: number;
  readonly rq_active: number;
  readonly rq_total: number;
  /** response_success / (success + failed); null before the first response. */
  readonly success_rate: number | null;
  readonly latency_p50_ms: number;
  readonly latency_p99_ms: number;
}

export interface ConsoleClusterJson {
  readonly name: string;
  readonly type: string;
  readonly lb_type: string;
  readonly healthy_hosts: number;
  readonly circuit_breakers: {
    readonly connections: ResourceUsageJson;
    readonly pending_requests: ResourceUsageJson;
    readonly requests: ResourceUsageJson;
    readonly retries: ResourceUsageJson;
  };
  readonly hosts: readonly ConsoleHostJson[];
}

/** `GET /api/v1/clusters`: every cluster (sorted by name) and its hosts (config order). */
export interface ConsoleClustersResponse {
  readonly clusters: readonly ConsoleClusterJson[];
}

export interface RouteJson {
  /** e.g. `prefix /api` + ` header x-env=canary` … */
  readonly match: string;
  /** e.g. `cluster c1`, `weighted a:70 b:30`, `direct_response 200`, `redirect 301 …`. */
  readonly action: string;
  /** Requests matched since the route table was (re)built. */
  readonly hits: number;
}

export interface VirtualHostJson {
  readonly name: string;
  readonly domains: readonly string[];
  readonly routes: readonly RouteJson[];
}

/** `GET /api/v1/routes`: router configs → virtual hosts → routes, in config order. */
export interface RoutesResponse {
  readonly routers: readonly {
    readonly name: string;
    readonly virtual_hosts: readonly VirtualHostJson[];
  }[];
}

/**
 * `GET /api/v1/events[?topics=overview,connections,clusters]`: Server-Sent Events. Each event's
 * name is its topic and its data the JSON of {@link OverviewResponse} (without history),
 * {@link ConnectionsResponse} or {@link ConsoleClustersResponse}, sent once on connect and then
 * every sample interval. A slow client gets only the newest snapshot of each topic (older ones
 * are dropped, never queued); `dropped` in each `overview` event counts them.
 */
export type EventTopic = "overview" | "connections" | "clusters";
export const EVENT_TOPICS: readonly EventTopic[] = ["overview", "connections", "clusters"];
