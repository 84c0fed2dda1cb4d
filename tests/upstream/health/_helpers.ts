/** Builders for the health check tests: configs, a real ClusterImpl, polling, stats reads. */

import type { ClusterConfig, HealthCheckConfig } from "../../../src/config/model.ts";
import { parseAddress } from "../../../src/network/address.ts";
import type { StatsRegistry } from "../../../src/observability/stats.ts";
import { ClusterImpl } from "../../../src/upstream/cluster.ts";
import { pem } from "../../_support/tls.ts";

/** A health check config with short test timings (100 ms interval, 250 ms timeout). */
export function hcConfig(over: Partial<HealthCheckConfig> = {}): HealthCheckConfig {
  return {
    protocol: "tcp",
    timeoutMs: 250,
    intervalMs: 100,
    intervalJitterMs: 0,
    initialDelayMs: 0,
    healthyThreshold: 1,
    unhealthyThreshold: 2,
    path: "/",
    method: "GET",
    host: "",
    expectedStatuses: [[200, 400]],
    serviceName: "",
    eventLogPath: "",
    ...over,
  };
}

export function clusterConfig(
  name: string,
  addresses: readonly string[],
  healthCheck?: HealthCheckConfig,
): ClusterConfig {
  return {
    name,
    type: "SIMPLE",
    lbType: "LB_ROUNDROBIN",
    hosts: addresses.map(hostConfig),
    connectTimeoutMs: 1000,
    connBufferLimitBytes: 1 << 20,
    circuitBreakers: { maxConnections: 0, maxPendingRequests: 0, maxRequests: 0, maxRetries: 0 },
    ...(healthCheck ? { healthCheck } : {}),
    lbConfig: {
      choiceCount: 2,
      healthyPanicThreshold: 50,
      minimumRingSize: 1024,
      maximumRingSize: 8_388_608,
      maglevTableSize: 65537,
    },
    dnsRefreshRateMs: 5000,
    originalDst: { useHeader: false, headerName: "x-envoy-original-dst-host" },
  };
}

export function hostConfig(addressText: string) {
  const address = parseAddress(addressText);
  if (typeof address === "string") throw new Error(address);
  return { address, addressText, hostname: "", weight: 1, metadata: {} };
}

export function makeCluster(
  stats: StatsRegistry,
  addresses: readonly string[],
  name = "hc",
): ClusterImpl {
  return new ClusterImpl(clusterConfig(name, addresses), stats);
}

/**
 * A cluster whose hosts speak TLS with the fixtures' b.pem: trusts ca.pem and sends SNI
 * b.example.com (the name b.pem is issued for), no client certificate.
 */
export function makeTlsCluster(
  stats: StatsRegistry,
  addresses: readonly string[],
  name: string,
): ClusterImpl {
  return new ClusterImpl({
    ...clusterConfig(name, addresses),
    tls: {
      certChain: "",
      privateKey: "",
      caCert: pem("ca.pem"),
      verifyClient: false,
      requireClientCert: false,
      insecureSkip: false,
      serverName: "b.example.com",
      cipherSuites: [],
      ecdhCurves: [],
      alpn: [],
      dnsNames: [],
    },
  }, stats);
}

/** A `health_check_*` value of `cluster`. */
export function hcStat(stats: StatsRegistry, cluster: string, name: string): number {
  const m = stats.scope("upstream", { cluster }).metrics.get(`health_check_${name}`);
  return m && "value" in m ? m.value : 0;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `pred` every 10 ms (with a ref'd timer) until true; throws after `timeoutMs`. */
export async function waitFor(
  pred: () => boolean,
  timeoutMs = 3000,
  what = "condition",
): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!pred()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** A TCP listener on 127.0.0.1 that accepts and runs `handle` per connection. */
export interface Listener {
  readonly port: number;
  close(): Promise<void>;
}

export function listen(
  handle: (c: Deno.Conn) => Promise<void> = () => Promise.resolve(),
  port = 0,
): Listener {
  const l = Deno.listen({ hostname: "127.0.0.1", port });
  const conns = new Set<Deno.Conn>();
  const tasks = new Set<Promise<void>>();
  const loop = (async () => {
    for (;;) {
      let c: Deno.Conn;
      try {
        c = await l.accept();
      } catch {
        return;
      }
      conns.add(c);
      const t = handle(c).catch(() => {}).finally(() => {
        conns.delete(c);
        try {
          c.close();
        } catch { /* closed */ }
      });
      tasks.add(t);
      t.finally(() => tasks.delete(t));
    }
  })();
  return {
    port: (l.addr as Deno.NetAddr).port,
    async close() {
      l.close();
      await loop;
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed */ }
      }
      await Promise.allSettled([...tasks]);
    },
  };
}

/** Reads exactly `n` bytes, or null at EOF first. */
export async function readN(conn: Deno.Conn, n: number): Promise<Uint8Array | null> {
  const out = new Uint8Array(n);
  let off = 0;
  while (off < n) {
    const r = await conn.read(out.subarray(off));
    if (r === null) return null;
    off += r;
  }
  return out;
}

export function hex(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
}

export function fromHex(s: string): Uint8Array {
  const t = s.trim();
  const out = new Uint8Array(t.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(t.slice(2 * i, 2 * i + 2), 16);
  return out;
}
