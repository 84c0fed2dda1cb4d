/** What every request of one proxy listener shares: routes, clusters, filters, logs, stats. */

import type { HashPolicyConfig } from "../config/router_model.ts";
import type { StreamFilterPair } from "../filter/stream/types.ts";
import type { HeaderMap } from "../protocol/header_map.ts";
import type { StreamInfo } from "../stream/stream_info.ts";
import type { RequestMessage } from "../stream/types.ts";
import type { ClusterManager } from "../upstream/types.ts";
import type { RequestTracing } from "../observability/otel/types.ts";
import type { DownstreamRequestStats, RouteStatsCache, UpstreamStatsCache } from "./stats.ts";

/** Retry settings of a route. */
export interface RetryPolicyView {
  /** "connect-failure", "reset", "5xx", "gateway-error", "retriable-status-codes". */
  readonly retryOn: ReadonlySet<string>;
  readonly numRetries: number;
  /** Per-try timeout; 0 = none. */
  readonly perTryTimeoutMs: number;
  readonly retriableStatusCodes: ReadonlySet<number>;
}

/** The parts of a matched route the proxy acts on. */
export interface RouteView {
  readonly name: string;
  readonly virtualHostName: string;
  readonly directResponse?: { readonly status: number; readonly body: string };
  /** A redirect's Location for this request (undefined when the route is not a redirect). */
  redirect?(req: RequestMessage): { status: number; location: string } | undefined;
  clusterName(): string;
  /** Subset criteria (route metadata_match, a weighted cluster's merged over it). */
  metadataMatchFor(cluster: string): Readonly<Record<string, string>> | undefined;
  /** Hash policies for consistent-hash balancers (header, cookie, source_ip). */
  readonly hashPolicy: readonly HashPolicyConfig[];
  readonly timeoutMs: number;
  readonly retryPolicy: RetryPolicyView | undefined;
  /** The route's `upstream_protocol` ("Http1"/"Http2"); undefined = the listener's. */
  readonly upstreamProtocol: string | undefined;
  /** Rewrites path/host and applies request header mutations in place. */
  applyRequest(req: RequestMessage): void;
  applyResponseHeaders(h: HeaderMap): void;
}

export interface RouteSource {
  /** Matches a request against the listener's router; undefined = no route (404). */
  route(req: RequestMessage): RouteView | undefined;
}

export interface AccessLogSink {
  log(info: StreamInfo): void;
}

export interface ProxyContext {
  readonly listenerName: string;
  /** "Http1", "Http2" or the xprotocol name the upstream speaks (bolt, dubbo…). */
  readonly upstreamProtocol: string;
  readonly routes: RouteSource;
  readonly clusterManager: ClusterManager;
  readonly downstreamStats: DownstreamRequestStats;
  readonly upstreamStats: UpstreamStatsCache;
  readonly routeStats: RouteStatsCache;
  /** Per-request filter factories, in config order; empty when none are configured. */
  readonly streamFilters: readonly (() => StreamFilterPair)[];
  readonly accessLogs: readonly AccessLogSink[];
  /** SERVER/CLIENT spans per request and attempt; undefined when tracing is off. */
  readonly tracing: RequestTracing | undefined;
  /** Global timeout when the route sets none (MOSN: 60 s). */
  readonly defaultTimeoutMs: number;
  readonly random: () => number;
}
