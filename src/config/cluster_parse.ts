/**
 * Parses one `cluster_manager.clusters[]` entry: hosts, balancer, circuit breakers, active
 * health checks, outlier detection, subsets, DNS and original-destination settings.
 */

import { parseAddress } from "../network/address.ts";
import type {
  Address,
  ClusterConfig,
  HealthCheckConfig,
  HostConfig,
  LbConfig,
  LbSubsetConfig,
  OriginalDstConfig,
  OutlierDetectionConfig,
  SubsetFallback,
} from "./model.ts";
import { CLUSTER_TYPES, LB_TYPES, SUBSET_FALLBACK } from "./model.ts";
import { describe, ObjReader } from "./reader.ts";
import { parseTlsContext } from "./tls_parse.ts";

/** Accepted spellings of balancer names beyond the canonical ones. */
const LB_ALIASES: Record<string, string> = {
  LB_RINGHASH: "LB_RING_HASH",
  RING_HASH: "LB_RING_HASH",
  MAGLEV: "LB_MAGLEV",
  ROUND_ROBIN: "LB_ROUNDROBIN",
  LEAST_REQUEST: "LB_LEAST_REQUEST",
  RANDOM: "LB_RANDOM",
};

export function parseCluster(r: ObjReader): ClusterConfig {
  const name = r.reqStr("name");
  const type = r.oneOf("type", CLUSTER_TYPES, "SIMPLE");
  const lbRaw = r.raw("lb_type");
  const lbAlias = typeof lbRaw === "string" ? LB_ALIASES[lbRaw.toUpperCase()] : undefined;
  const lbType = lbAlias
    ? (r.allow("lb_type"), lbAlias as ClusterConfig["lbType"])
    : r.oneOf("lb_type", LB_TYPES, type === "ORIGINAL_DST" ? "LB_ORIGINAL_DST" : "LB_RANDOM");

  const hosts: HostConfig[] = [];
  for (const item of r.arr("hosts")) {
    const hr = ObjReader.of(r.ctx, item.value, item.path);
    if (!hr) continue;
    const text = hr.reqStr("address");
    let address: Address = { kind: "tcp", host: "127.0.0.1", port: 0 };
    if (text) {
      const a = type === "STRICT_DNS" ? parseHostPort(text) : parseAddress(text);
      if (typeof a === "string") hr.ctx.error(hr.at("address"), a);
      else if (a.kind === "tcp" && a.port === 0) {
        hr.ctx.error(
          hr.at("address"),
          `port 0 is not a valid upstream port, got ${describe(text)}`,
        );
      } else address = a;
    }
    hosts.push({
      address,
      addressText: text,
      hostname: hr.str("hostname", ""),
      weight: hr.int("weight", 1, 1, 128),
      metadata: parseMetadata(hr),
    });
    hr.done();
  }

  const cbItems = r.arr("circuit_breakers");
  let maxConnections = 0, maxPendingRequests = 0, maxRequests = 0, maxRetries = 0;
  const cb0 = cbItems[0];
  if (cb0) {
    const cr = ObjReader.of(r.ctx, cb0.value, cb0.path);
    if (cr) {
      maxConnections = cr.int("max_connections", 0, 0);
      maxPendingRequests = cr.int("max_pending_requests", 0, 0);
      maxRequests = cr.int("max_requests", 0, 0);
      maxRetries = cr.int("max_retries", 0, 0);
      cr.allow("priority");
      cr.done();
    }
  }

  const hc = r.obj("health_check");
  const od = r.obj("outlier_detection");
  const subset = r.obj("lb_subset_config");
  const lbConfig = parseLbConfig(r.obj("lb_config"));
  const originalDst = parseOriginalDst(r.obj("original_dst_lb_config"));
  const healthCheck = hc ? parseHealthCheck(hc) : undefined;
  const outlierDetection = od ? parseOutlier(od) : undefined;
  const lbSubset = subset ? parseSubset(subset) : undefined;
  const tlsReader = r.obj("tls_context");
  const tls = tlsReader ? parseTlsContext(tlsReader, "client") : undefined;

  const cfg: ClusterConfig = {
    name,
    type,
    lbType,
    hosts,
    connectTimeoutMs: r.duration("connect_timeout", 3000),
    connBufferLimitBytes: r.int("conn_buffer_limit_bytes", 1 << 20, 1024, 1 << 30),
    circuitBreakers: { maxConnections, maxPendingRequests, maxRequests, maxRetries },
    lbConfig,
    dnsRefreshRateMs: r.duration("dns_refresh_rate", 5000),
    originalDst,
    ...(healthCheck ? { healthCheck } : {}),
    ...(outlierDetection ? { outlierDetection } : {}),
    ...(lbSubset ? { lbSubset } : {}),
    ...(tls ? { tls } : {}),
  };
  r.allow(
    "max_request_per_conn",
    "spec",
    "cluster_manager_tls",
    "idle_timeout",
    "dns_resolvers",
    "respect_dns_ttl",
    "dns_lookup_family",
  );
  r.done();
  return cfg;
}

/** "host:port" where host may be a DNS name (STRICT_DNS clusters). */
function parseHostPort(text: string): Address | string {
  const ip = parseAddress(text);
  if (typeof ip !== "string") return ip;
  const m =
    /^([A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*\.?):([0-9]{1,5})$/
      .exec(text);
  if (!m) return `expected "hostname:port" or "ip:port", got ${describe(text)}`;
  const port = Number(m[5]);
  if (port > 65535) return `port out of range 0-65535, got ${port}`;
  return { kind: "tcp", host: m[1]!, port };
}

/** MOSN host metadata: `{"filter_metadata": {"mosn.lb": {k: v}}}` or a flat map. */
function parseMetadata(hr: ObjReader): Record<string, string> {
  const m = hr.obj("metadata");
  if (!m) return {};
  const fm = m.obj("filter_metadata");
  if (fm) {
    const lb = fm.strMap("mosn.lb");
    fm.allow(...fm.keys());
    m.done();
    return lb;
  }
  return hr.strMap("metadata");
}

const HC_PROTOCOLS: Record<string, HealthCheckConfig["protocol"]> = {
  tcp: "tcp",
  http: "http",
  http1: "http",
  grpc: "grpc",
  bolt: "bolt",
};

function parseHealthCheck(r: ObjReader): HealthCheckConfig {
  const protoText = r.str("protocol", "tcp");
  const protocol = HC_PROTOCOLS[protoText.toLowerCase()];
  if (!protocol) {
    r.ctx.error(
      r.at("protocol"),
      `expected one of "tcp", "http", "grpc", "bolt", got ${describe(protoText)}`,
    );
  }
  // Protocol-specific keys may sit in `check_config` (MOSN) or at the top (Envoy-like).
  const cc = r.obj("check_config");
  const pick = (key: string): ObjReader => (cc && cc.has(key) ? cc : r);
  const statuses: [number, number][] = [];
  const src = pick("expected_statuses");
  for (const item of src.arr("expected_statuses")) {
    const sr = ObjReader.of(r.ctx, item.value, item.path);
    if (!sr) continue;
    const start = sr.int("start", 200, 100, 599);
    const end = sr.int("end", start + 1, 101, 600);
    if (end <= start) {
      sr.ctx.error(sr.at("end"), `must be greater than start (${start}), got ${end}`);
    }
    statuses.push([start, end]);
    sr.done();
  }
  const cfg: HealthCheckConfig = {
    protocol: protocol ?? "tcp",
    timeoutMs: r.duration("timeout", 1000),
    intervalMs: r.duration("interval", 10_000),
    intervalJitterMs: r.duration("interval_jitter", 0),
    initialDelayMs: r.duration("initial_delay", 0),
    healthyThreshold: r.int("healthy_threshold", 1, 1, 1000),
    unhealthyThreshold: r.int("unhealthy_threshold", 2, 1, 1000),
    path: pick("path").str("path", "/"),
    method: pick("method").str("method", "GET").toUpperCase(),
    host: pick("host").str("host", ""),
    expectedStatuses: statuses.length > 0 ? statuses : [[200, 400]],
    serviceName: pick("service_name").str("service_name", ""),
    eventLogPath: r.str("event_log_path", ""),
  };
  if (cfg.intervalMs === 0) r.ctx.error(r.at("interval"), "must be greater than 0");
  if (cfg.timeoutMs === 0) r.ctx.error(r.at("timeout"), "must be greater than 0");
  if (cc) {
    cc.allow("path", "method", "host", "expected_statuses", "service_name");
    cc.done();
  }
  r.allow("service_name", "timeout", "interval", "interval_jitter");
  r.done();
  return cfg;
}

function parseOutlier(r: ObjReader): OutlierDetectionConfig {
  const pct = (k: string, d: number) => r.int(k, d, 0, 100);
  const cfg: OutlierDetectionConfig = {
    consecutive5xx: r.int("consecutive_5xx", 5, 0),
    consecutiveGatewayFailure: r.int("consecutive_gateway_failure", 5, 0),
    intervalMs: r.duration("interval", 10_000),
    baseEjectionTimeMs: r.duration("base_ejection_time", 30_000),
    maxEjectionTimeMs: r.duration("max_ejection_time", 300_000),
    maxEjectionPercent: pct("max_ejection_percent", 10),
    enforcingConsecutive5xx: pct("enforcing_consecutive_5xx", 100),
    enforcingConsecutiveGatewayFailure: pct("enforcing_consecutive_gateway_failure", 0),
    enforcingSuccessRate: pct("enforcing_success_rate", 100),
    successRateMinimumHosts: r.int("success_rate_minimum_hosts", 5, 0),
    successRateRequestVolume: r.int("success_rate_request_volume", 100, 0),
    successRateStdevFactor: r.int("success_rate_stdev_factor", 1900, 0),
    enforcingFailurePercentage: pct("enforcing_failure_percentage", 0),
    failurePercentageThreshold: pct("failure_percentage_threshold", 85),
    failurePercentageMinimumHosts: r.int("failure_percentage_minimum_hosts", 5, 0),
    failurePercentageRequestVolume: r.int("failure_percentage_request_volume", 50, 0),
  };
  if (cfg.intervalMs === 0) r.ctx.error(r.at("interval"), "must be greater than 0");
  r.done();
  return cfg;
}

function parseSubset(r: ObjReader): LbSubsetConfig {
  // MOSN writes the policy as a number (0, 1, 2); Envoy as a name.
  const raw = r.raw("fall_back_policy");
  let fallBackPolicy: SubsetFallback = "NO_FALLBACK";
  if (
    typeof raw === "number" && Number.isInteger(raw) && raw >= 0 && raw < SUBSET_FALLBACK.length
  ) {
    fallBackPolicy = SUBSET_FALLBACK[raw]!;
  } else if (raw !== undefined && raw !== null) {
    fallBackPolicy = r.oneOf("fall_back_policy", SUBSET_FALLBACK, "NO_FALLBACK");
  }
  const selectors: string[][] = [];
  for (const item of r.arr("subset_selectors")) {
    if (!Array.isArray(item.value) || !item.value.every((k) => typeof k === "string")) {
      r.ctx.error(item.path, `expected a list of metadata keys, got ${describe(item.value)}`);
      continue;
    }
    selectors.push([...item.value as string[]]);
  }
  const cfg: LbSubsetConfig = {
    fallBackPolicy,
    defaultSubset: r.strMap("default_subset"),
    subsetSelectors: selectors,
  };
  r.done();
  return cfg;
}

function parseLbConfig(r: ObjReader | undefined): LbConfig {
  const cfg: LbConfig = {
    choiceCount: r ? r.int("choice_count", 2, 1, 100) : 2,
    healthyPanicThreshold: r ? r.int("healthy_panic_threshold", 50, 0, 100) : 50,
    minimumRingSize: r ? r.int("minimum_ring_size", 1024, 1, 8_388_608) : 1024,
    maximumRingSize: r ? r.int("maximum_ring_size", 8_388_608, 1, 8_388_608) : 8_388_608,
    maglevTableSize: r ? r.int("table_size", 65537, 3, 5_000_011) : 65537,
  };
  r?.done();
  return cfg;
}

function parseOriginalDst(r: ObjReader | undefined): OriginalDstConfig {
  const cfg: OriginalDstConfig = {
    useHeader: r ? r.bool("use_header", false) : false,
    headerName: r ? r.str("header_name", "x-envoy-original-dst-host") : "x-envoy-original-dst-host",
  };
  r?.done();
  return cfg;
}
