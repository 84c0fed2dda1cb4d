/** A fake AdminSource: a real StatsRegistry and Logger plus a tiny in-test ClusterManager. */

import { Logger } from "../../src/common/logger.ts";
import { ResourceManager } from "../../src/upstream/resource_manager.ts";
import type { ClusterConfig, HostConfig, MosnConfig } from "../../src/config/model.ts";
import type { AdminSource, ListenerInfo, ServerState } from "../../src/admin/types.ts";
import { downstreamStats, StatsRegistry, upstreamStats } from "../../src/observability/stats.ts";
import { HostImpl } from "../../src/upstream/host.ts";
import type { Cluster, ClusterManager, Host } from "../../src/upstream/types.ts";

export const RAW_CONFIG = {
  servers: [{
    default_log_level: "INFO",
    routers: [{ router_config_name: "r1", virtual_hosts: [] }],
    listeners: [{
      name: "egress_listener",
      address: "127.0.0.1:2045",
      filter_chains: [{ filters: [{ type: "tcp_proxy", config: { cluster: "c1" } }] }],
    }],
  }],
  cluster_manager: {
    clusters: [{
      name: "c1",
      type: "SIMPLE",
      lb_type: "LB_ROUNDROBIN",
      hosts: [{ address: "127.0.0.1:8080" }, { address: "127.0.0.1:8081", weight: 3 }],
    }],
  },
  admin: { address: { socket_address: { address: "127.0.0.1", port_value: 34901 } } },
};

function hostConfig(addressText: string, weight: number): HostConfig {
  const [host, port] = addressText.split(":");
  return {
    address: { kind: "tcp", host: host!, port: Number(port) },
    addressText,
    hostname: "",
    weight,
    metadata: {},
  };
}

const C1: ClusterConfig = {
  name: "c1",
  type: "SIMPLE",
  lbType: "LB_ROUNDROBIN",
  hosts: [hostConfig("127.0.0.1:8080", 1), hostConfig("127.0.0.1:8081", 3)],
  connectTimeoutMs: 3000,
  connBufferLimitBytes: 1 << 20,
  circuitBreakers: { maxConnections: 100, maxPendingRequests: 0, maxRequests: 0, maxRetries: 3 },
  lbConfig: {
    choiceCount: 2,
    healthyPanicThreshold: 50,
    minimumRingSize: 1024,
    maximumRingSize: 8 * 1024 * 1024,
    maglevTableSize: 65537,
  },
  dnsRefreshRateMs: 5000,
  originalDst: { useHeader: false, headerName: "x-envoy-original-dst-host" },
};

function makeCluster(reg: StatsRegistry, config: ClusterConfig): Cluster {
  const hosts: Host[] = [];
  const cluster: Cluster = {
    name: config.name,
    config,
    hosts,
    lb: { chooseHost: () => hosts.find((h) => h.healthy) },
    stats: upstreamStats(reg, { cluster: config.name }),
    connect: () => Promise.reject(new Error("no connections in admin tests")),
    reportResult() {},
    resources: new ResourceManager(config.circuitBreakers),
    pool: () => {
      throw new Error("no pools in admin tests");
    },
  };
  for (const hc of config.hosts) hosts.push(new HostImpl(hc, cluster, reg));
  return cluster;
}

export interface FakeSource extends AdminSource {
  currentState: ServerState;
  /** When set, config() throws it (exercises the 500 path). */
  configError?: Error;
  readonly logLines: string[];
  readonly cluster: Cluster;
}

export function fakeSource(): FakeSource {
  const stats = new StatsRegistry();
  const logLines: string[] = [];
  const logger = new Logger("INFO", (line) => logLines.push(line));
  const cluster = makeCluster(stats, C1);
  const clusterManager: ClusterManager = {
    get: (name) => (name === cluster.name ? cluster : undefined),
    clusters: () => [cluster],
    close() {},
  };
  const config = {
    servers: [],
    clusterManager: { clusters: [C1] },
    admin: { address: { kind: "tcp", host: "127.0.0.1", port: 34901 } },
    demoUpstreams: [],
    metrics: {},
    raw: RAW_CONFIG,
  } satisfies MosnConfig;
  const listeners: ListenerInfo[] = [
    { name: "egress_listener", address: "127.0.0.1:2045", accepting: true, activeConnections: 2 },
    { name: "uds", address: "unix:/tmp/mosn.sock", accepting: false, activeConnections: 0 },
  ];
  downstreamStats(stats, "egress_listener");
  const src: FakeSource = {
    version: "9.9.9-test",
    startTime: new Date(1_000_000),
    logger,
    stats,
    clusterManager,
    commandLine: ["start", "-c", "mosn.json"],
    currentState: "RUNNING",
    logLines,
    cluster,
    config() {
      if (src.configError) throw src.configError;
      return config;
    },
    state: () => src.currentState,
    listeners: () => listeners,
  };
  return src;
}
