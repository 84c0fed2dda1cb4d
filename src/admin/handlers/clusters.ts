/**
 * `GET /clusters`: Envoy's text listing (`cluster::host::stat::value` lines) or, with
 * `?format=json`, {@link ClustersResponse}. Clusters sorted by name, hosts in config order.
 */

import { type Cluster, HealthFlag, type Host } from "../../upstream/types.ts";
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

/** Health flag bits and their names in Envoy's /clusters output, in output order. */
const FLAG_NAMES: readonly (readonly [number, string])[] = [
  [HealthFlag.FailedActiveHealthCheck, "failed_active_hc"],
  [HealthFlag.FailedOutlierCheck, "failed_outlier_check"],
];

/** The names of the flags set on `h` ([] when healthy); unknown bits as `flag_<bit>`. */
export function healthFlagNames(h: Host): string[] {
  const names: string[] = [];
  let rest = h.healthFlags;
  for (const [bit, name] of FLAG_NAMES) {
    if (rest & bit) names.push(name);
    rest &= ~bit;
  }
  for (let i = 0; i < 32 && rest !== 0; i++) {
    const bit = 1 << i;
    if (rest & bit) names.push(`flag_${bit >>> 0}`);
    rest &= ~bit;
  }
  return names;
}

/** Envoy's text: `healthy`, or each flag as `/name`, e.g. `/failed_active_hc/failed_outlier_check`. */
export function healthFlagsText(h: Host): string {
  const names = healthFlagNames(h);
  return names.length === 0 ? "healthy" : names.map((n) => "/" + n).join("");
}

/** Why each flag is set, by flag name (hosts that record reasons, e.g. HostImpl). */
export function healthReasons(h: Host): Record<string, string> {
  const reasons = (h as { healthReasons?: ReadonlyMap<number, string> }).healthReasons;
  const out: Record<string, string> = {};
  if (!reasons) return out;
  for (const [bit, name] of FLAG_NAMES) {
    const r = reasons.get(bit);
    if (r !== undefined && (h.healthFlags & bit) !== 0) out[name] = r;
  }
  return out;
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
      failed_active_health_check: (h.healthFlags & HealthFlag.FailedActiveHealthCheck) !== 0,
      failed_outlier_check: (h.healthFlags & HealthFlag.FailedOutlierCheck) !== 0,
    },
    health_flags: healthFlagNames(h),
    health_reasons: healthReasons(h),
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
    out.push(`${p}::health_flags::${healthFlagsText(h)}`);
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
