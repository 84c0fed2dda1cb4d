/** Builds the console's JSON views from the running server (see ../console_types.ts). */

import { type ConnectionEntry, connectionRegistry } from "../../network/connection_registry.ts";
import type { TlsInfo } from "../../network/raw_conn.ts";
import { Histogram, type Scope } from "../../observability/stats.ts";
import { byCodeUnit, histogramQuantile } from "../../observability/stats_json.ts";
import type { Resource } from "../../upstream/resource_manager.ts";
import type { Cluster, Host } from "../../upstream/types.ts";
import { healthFlagNames, healthReasons } from "../handlers/clusters.ts";
import type {
  ConnectionJson,
  ConnectionsResponse,
  ConsoleClusterJson,
  ConsoleClustersResponse,
  ConsoleHostJson,
  OverviewResponse,
  ResourceUsageJson,
  RoutesResponse,
} from "../console_types.ts";
import type { AdminSource } from "../types.ts";
import type { OverviewSampler } from "./sampler.ts";
import { describeAction, describeMatch } from "./route_text.ts";

export function overviewView(
  source: AdminSource,
  sampler: OverviewSampler,
  now: number,
  withHistory: boolean,
): OverviewResponse {
  const t = sampler.totals;
  const base: OverviewResponse = {
    version: source.version,
    state: source.state(),
    uptime_seconds: Math.max(0, Math.floor((now - source.startTime.getTime()) / 1000)),
    start_time: source.startTime.toISOString(),
    pid: Deno.pid,
    listeners: source.listeners().map((l) => ({
      name: l.name,
      address: l.address,
      accepting: l.accepting,
      active_connections: l.activeConnections,
    })),
    totals: {
      requests: t.requests,
      errors: t.errors,
      downstream_cx_active: t.downstreamCx,
      upstream_cx_active: t.upstreamCx,
    },
    sample_interval_ms: 0,
  };
  return withHistory ? { ...base, history: sampler.history() } : base;
}

/**
 * A TLS connection in one line: version, the peer's identity (URI SANs such as a SPIFFE id, else
 * its subject), SNI and ALPN; undefined for plain-text connections.
 */
export function tlsSummary(tls: TlsInfo | undefined): string | undefined {
  if (!tls) return undefined;
  const parts: string[] = [tls.version || "TLS"];
  if (tls.peerUriSans.length > 0) parts.push(`peer=${tls.peerUriSans.join(",")}`);
  else if (tls.peerSubject) parts.push(`peer=${tls.peerSubject}`);
  if (tls.sni) parts.push(`sni=${tls.sni}`);
  if (tls.alpn) parts.push(`alpn=${tls.alpn}`);
  return parts.join(" ");
}

function connectionJson(e: ConnectionEntry, now: number): ConnectionJson {
  const c = e.conn;
  const tls = tlsSummary(c.tls);
  let streams: number | null = null;
  try {
    streams = e.activeStreams ? e.activeStreams() : null;
  } catch {
    streams = null;
  }
  return {
    id: c.id,
    direction: e.direction,
    owner: e.owner,
    ...(e.host !== undefined ? { host: e.host } : {}),
    protocol: e.protocol,
    local_address: c.localAddress,
    remote_address: c.remoteAddress,
    ...(tls !== undefined ? { tls } : {}),
    bytes_read: c.bytesRead,
    bytes_written: c.bytesWritten,
    age_ms: Math.max(0, now - c.startTime),
    active_streams: streams,
  };
}

export const MAX_CONNECTIONS_LISTED = 1000;

export function connectionsView(
  entries: Iterable<ConnectionEntry>,
  now: number,
  options: { direction?: string; limit?: number } = {},
): ConnectionsResponse {
  const limit = Math.min(options.limit ?? MAX_CONNECTIONS_LISTED, MAX_CONNECTIONS_LISTED);
  const all: ConnectionEntry[] = [];
  for (const e of entries) {
    if (e.conn.closed) continue;
    if (options.direction && e.direction !== options.direction) continue;
    all.push(e);
  }
  // Newest first: ids grow with creation.
  all.sort((a, b) => b.conn.id - a.conn.id);
  return {
    total: all.length,
    connections: all.slice(0, limit).map((e) => connectionJson(e, now)),
  };
}

/** The process-wide registry unless the source lists its own. */
export function connectionEntries(source: AdminSource): Iterable<ConnectionEntry> {
  return source.connections?.() ?? connectionRegistry.entries();
}

function metric(s: Scope | undefined, name: string): number {
  const m = s?.metrics.get(name);
  return m && !(m instanceof Histogram) ? m.value : 0;
}

function usage(r: Resource): ResourceUsageJson {
  return { max: r.max, used: r.count };
}

function hostScope(source: AdminSource, h: Host): Scope {
  return source.stats.scope("upstream", { cluster: h.cluster.name, host: h.addressText });
}

function hostJson(source: AdminSource, h: Host): ConsoleHostJson {
  const s = hostScope(source, h);
  const ok = metric(s, "response_success"), failed = metric(s, "response_failed");
  const hist = s.metrics.get("request_duration_time");
  return {
    address: h.addressText,
    weight: h.weight,
    healthy: h.healthy,
    health_flags: healthFlagNames(h),
    health_reasons: healthReasons(h),
    cx_active: h.stats.connectionActive.value,
    rq_active: h.activeRequests,
    rq_total: metric(s, "request_total"),
    success_rate: ok + failed === 0 ? null : Math.round((ok / (ok + failed)) * 10000) / 10000,
    latency_p50_ms: hist instanceof Histogram ? round2(histogramQuantile(hist, 0.5)) : 0,
    latency_p99_ms: hist instanceof Histogram ? round2(histogramQuantile(hist, 0.99)) : 0,
  };
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}

function clusterJson(source: AdminSource, c: Cluster): ConsoleClusterJson {
  const r = c.resources;
  return {
    name: c.name,
    type: c.config.type,
    lb_type: c.config.lbType,
    healthy_hosts: c.hosts.filter((h) => h.healthy).length,
    circuit_breakers: {
      connections: usage(r.connections),
      pending_requests: usage(r.pendingRequests),
      requests: usage(r.requests),
      retries: usage(r.retries),
    },
    hosts: c.hosts.map((h) => hostJson(source, h)),
  };
}

export function clustersView(source: AdminSource): ConsoleClustersResponse {
  const list = [...source.clusterManager.clusters()].sort((a, b) => byCodeUnit(a.name, b.name));
  return { clusters: list.map((c) => clusterJson(source, c)) };
}

export function routesView(source: AdminSource): RoutesResponse {
  const tables = source.routeTables?.() ?? [];
  return {
    routers: tables.map((t) => ({
      name: t.name,
      virtual_hosts: t.virtualHosts().map((vh) => ({
        name: vh.name,
        domains: vh.domains,
        routes: vh.routes.map((r) => ({
          match: describeMatch(r.route.match),
          action: describeAction(r.route),
          hits: r.hits,
        })),
      })),
    })),
  };
}
