import assert from "node:assert/strict";
import type { ClusterConfig, HostConfig } from "../../../src/config/model.ts";
import { log } from "../../../src/common/logger.ts";
import { StatsRegistry } from "../../../src/observability/stats.ts";
import { ClusterImpl } from "../../../src/upstream/cluster.ts";
import { ClusterManagerImpl } from "../../../src/upstream/cluster_manager.ts";
import { startDnsRefresh } from "../../../src/upstream/dns/strict_dns.ts";

function dnsHost(host: string, port: number, weight = 1): HostConfig {
  return {
    address: { kind: "tcp", host, port },
    addressText: `${host}:${port}`,
    hostname: "",
    weight,
    metadata: { zone: "a" },
  };
}

function dnsCluster(hosts: HostConfig[], dnsRefreshRateMs = 60_000): ClusterConfig {
  return {
    name: "dns",
    type: "STRICT_DNS",
    lbType: "LB_ROUNDROBIN",
    hosts,
    connectTimeoutMs: 1000,
    connBufferLimitBytes: 1 << 20,
    circuitBreakers: { maxConnections: 0, maxPendingRequests: 0, maxRequests: 0, maxRetries: 0 },
    lbConfig: {
      choiceCount: 2,
      healthyPanicThreshold: 50,
      minimumRingSize: 1024,
      maximumRingSize: 8_388_608,
      maglevTableSize: 65537,
    },
    dnsRefreshRateMs,
    originalDst: { useHeader: false, headerName: "x-envoy-original-dst-host" },
  };
}

const addrs = (c: ClusterImpl) => c.hosts.map((h) => h.addressText).sort();

Deno.test("strict_dns: one host per resolved address, set replaced on change", async () => {
  const answers: Record<string, string[]> = {
    "svc.example": ["10.0.0.1", "10.0.0.2"],
    "other.example": ["10.0.1.1"],
  };
  const cluster = new ClusterImpl(
    dnsCluster([dnsHost("svc.example", 8080, 3), dnsHost("other.example", 9090)]),
    new StatsRegistry(),
  );
  let changes = 0;
  cluster.attach({ onHostsChanged: () => changes++, close() {} });
  const dns = startDnsRefresh(cluster, { resolve: (n) => Promise.resolve(answers[n] ?? []) });
  try {
    await dns.ready;
    assert.deepEqual(addrs(cluster), ["10.0.0.1:8080", "10.0.0.2:8080", "10.0.1.1:9090"]);
    const h1 = cluster.hosts.find((h) => h.addressText === "10.0.0.1:8080")!;
    assert.deepEqual(h1.weight, 3);
    assert.deepEqual(h1.config.hostname, "svc.example");
    assert.deepEqual(h1.metadata, { zone: "a" });
    assert.deepEqual(h1.address, { kind: "tcp", host: "10.0.0.1", port: 8080 });
    assert.deepEqual(changes, 1);
    assert.ok(dns.lastRefreshAt > 0);

    // Same answer (other order): no replacement.
    answers["svc.example"] = ["10.0.0.2", "10.0.0.1"];
    await dns.refresh();
    assert.deepEqual(changes, 1);

    // One address goes, one comes: the staying host keeps its object.
    const kept = cluster.hosts.find((h) => h.addressText === "10.0.0.2:8080")!;
    answers["svc.example"] = ["10.0.0.2", "10.0.0.3"];
    await dns.refresh();
    assert.deepEqual(changes, 2);
    assert.deepEqual(addrs(cluster), ["10.0.0.2:8080", "10.0.0.3:8080", "10.0.1.1:9090"]);
    assert.ok(cluster.hosts.includes(kept));
    assert.ok(cluster.lb.chooseHost() !== undefined);
  } finally {
    dns.close();
  }
});

Deno.test("strict_dns: a failed resolution keeps the last good set", async () => {
  let fail = false;
  const level = log.level;
  log.setLevel("FATAL");
  const cluster = new ClusterImpl(dnsCluster([dnsHost("a.example", 80)]), new StatsRegistry());
  const dns = startDnsRefresh(cluster, {
    resolve: () => fail ? Promise.reject(new Error("SERVFAIL")) : Promise.resolve(["10.1.1.1"]),
  });
  try {
    await dns.ready;
    assert.deepEqual(addrs(cluster), ["10.1.1.1:80"]);
    const before = cluster.hosts;
    fail = true;
    await dns.refresh();
    await dns.refresh();
    assert.ok(cluster.hosts === before, "host list untouched");
    assert.deepEqual(addrs(cluster), ["10.1.1.1:80"]);
    fail = false;
    await dns.refresh();
    assert.deepEqual(addrs(cluster), ["10.1.1.1:80"]);
  } finally {
    dns.close();
    log.setLevel(level);
  }
});

Deno.test("strict_dns: first resolution failing keeps the configured name; IP hosts pass", async () => {
  const level = log.level;
  log.setLevel("FATAL");
  const cluster = new ClusterImpl(
    dnsCluster([dnsHost("down.example", 80), dnsHost("10.2.2.2", 81)]),
    new StatsRegistry(),
  );
  const dns = startDnsRefresh(cluster, { resolve: () => Promise.reject(new Error("NXDOMAIN")) });
  try {
    await dns.ready;
    assert.deepEqual(addrs(cluster), ["10.2.2.2:81", "down.example:80"]);
  } finally {
    dns.close();
    log.setLevel(level);
  }
});

Deno.test("strict_dns: periodic refresh every dns_refresh_rate", async () => {
  let n = 0;
  const cluster = new ClusterImpl(dnsCluster([dnsHost("p.example", 80)], 20), new StatsRegistry());
  const dns = startDnsRefresh(cluster, {
    resolve: () => Promise.resolve([`10.3.0.${++n}`]),
  });
  try {
    await dns.ready;
    const deadline = Date.now() + 5000;
    while (n < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.ok(n >= 3, `resolved ${n} times`);
    await dns.refresh();
    assert.deepEqual(addrs(cluster), [`10.3.0.${n}:80`]);
  } finally {
    dns.close();
  }
});

Deno.test("strict_dns: the system resolver resolves localhost (no DNS server needed)", async () => {
  const cluster = new ClusterImpl(dnsCluster([dnsHost("localhost", 8080)]), new StatsRegistry());
  const dns = startDnsRefresh(cluster);
  try {
    await dns.ready;
    const list = addrs(cluster);
    assert.ok(list.length >= 1, "at least one address");
    assert.ok(
      list.every((a) => a === "127.0.0.1:8080" || a === "[::1]:8080"),
      `loopback addresses only, got ${list.join(", ")}`,
    );
  } finally {
    dns.close();
  }
});

Deno.test("strict_dns: the cluster manager attaches a refresher to STRICT_DNS clusters", async () => {
  const cm = new ClusterManagerImpl(
    [dnsCluster([dnsHost("localhost", 8081)])],
    new StatsRegistry(),
  );
  try {
    const deadline = Date.now() + 5000;
    const c = cm.get("dns")!;
    while (c.hosts.some((h) => h.addressText === "localhost:8081") && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.ok(c.hosts.every((h) => h.addressText !== "localhost:8081"), "resolved to IPs");
  } finally {
    cm.close();
  }
});
