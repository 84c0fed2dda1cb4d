/**
 * `GET /clusters`: Envoy's text listing (`cluster::host::stat::value` lines) or, with
 * `?format=json`, {@link ClustersResponse}. Clusters sorted by name, hosts in config order.
 */

import type { Cluster, Host } from "../../upstream/types.ts";
import type { AdminContext } from "../http.ts";
import { json, text, wantsJson } from "../http.ts";
import type { ClustersResponse, ClusterStatusJson, HostStat, HostStatusJson } from "../types.ts";
import { addressJson } from "./address_json.ts";
import { byCodeUnit } from "../../observability/stats_json.ts";

/** Per-host stats in Envoy's names, sorted by name. */
export function hostStats(h: Host): HostStat[] {
  const s = h.stats;
  return [
    { name: "cx_active", type: "GAUGE", value: s.connectionActive.value },
    { name: "cx_connect_fail", type: "COUNTER", value: s.connectionConFail.value },
    { name: "cx_connect_timeout", type: "COUNTER", value: s.connectionConTimeout.value },
    { name: "cx_destroy", type: "COUNTER", value: s.connectionDestroy.value },
    { name: "cx_total", type: "COUNTER", value: s.connectionTotal.value },
    { name: "rq_active", type: "GAUGE", value: h.activeRequests },
  ];
}

function sortedClusters(ctx: AdminContext): Cluster[] {
  return [...ctx.source.clusterManager.clusters()].sort((a, b) => byCodeUnit(a.name, b.name));
}

function hostJson(h: Host): HostStatusJson {
  return {
    address: addressJson(h.address),
    address_text: h.addressText,
    hostname: h.config.hostname,
    weight: h.weight,
    metadata: { ...h.metadata },
    stats: hostStats(h),
    health_status: {
      eds_health_status: h.healthy ? "HEALTHY" : "UNHEALTHY",
      failed_active_health_check: !h.healthy,
    },
  };
}

function clusterJson(c: Cluster): ClusterStatusJson {
  const cb = c.config.circuitBreakers;
  return {
    name: c.name,
    type: c.config.type,
    lb_type: c.config.lbType,
    added_via_api: false,
    circuit_breakers: {
      thresholds: [{
        priority: "DEFAULT",
        max_connections: cb.maxConnections,
        max_pending_requests: cb.maxPendingRequests,
        max_requests: cb.maxRequests,
        max_retries: cb.maxRetries,
      }],
    },
    host_statuses: c.hosts.map(hostJson),
  };
}

function clusterLines(c: Cluster, out: string[]): void {
  const cb = c.config.circuitBreakers;
  const n = c.name;
  out.push(`${n}::default_priority::max_connections::${cb.maxConnections}`);
  out.push(`${n}::default_priority::max_pending_requests::${cb.maxPendingRequests}`);
  out.push(`${n}::default_priority::max_requests::${cb.maxRequests}`);
  out.push(`${n}::default_priority::max_retries::${cb.maxRetries}`);
  out.push(`${n}::added_via_api::false`);
  for (const h of c.hosts) {
    const p = `${n}::${h.addressText}`;
    for (const s of hostStats(h)) out.push(`${p}::${s.name}::${s.value}`);
    out.push(`${p}::hostname::${h.config.hostname}`);
    out.push(`${p}::health_flags::${h.healthy ? "healthy" : "/failed_active_hc"}`);
    out.push(`${p}::weight::${h.weight}`);
  }
}

export function clusters(ctx: AdminContext): Response {
  const list = sortedClusters(ctx);
  if (wantsJson(ctx.url)) {
    const body: ClustersResponse = { cluster_statuses: list.map(clusterJson) };
    return json(body);
  }
  const out: string[] = [];
  for (const c of list) clusterLines(c, out);
  return text(out.map((l) => l + "\n").join(""));
}
