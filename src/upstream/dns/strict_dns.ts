/**
 * STRICT_DNS clusters: every configured "hostname:port" is resolved at start and again every
 * `dns_refresh_rate`; each resolved address becomes one host. The host list is replaced only
 * when the set of addresses changes, so unchanged hosts keep their health, stats and pools.
 * A failed resolution keeps the last good addresses of that name.
 */

import { lookup } from "node:dns/promises";
import { log } from "../../common/logger.ts";
import type { HostConfig } from "../../config/model.ts";
import { formatAddress, isIPv4, isIPv6 } from "../../network/address.ts";
import type { ClusterExtension, ClusterImpl } from "../cluster.ts";

export interface DnsRefreshOptions {
  /**
   * Resolves a name to IP addresses. Default: the system resolver (`getaddrinfo`, so
   * /etc/hosts and "localhost" work without a DNS server).
   */
  resolve?: (name: string) => Promise<string[]>;
  /** Clock for `lastRefreshAt`; default Date.now. */
  now?: () => number;
}

/** The running refresher, attached to its cluster. */
export interface DnsRefresher extends ClusterExtension {
  /** Settles after the first resolution round. */
  readonly ready: Promise<void>;
  /** When the last round finished (ms, `now()`); 0 before the first. */
  readonly lastRefreshAt: number;
  /** Runs one resolution round now (the periodic timer keeps its own schedule). */
  refresh(): Promise<void>;
}

/** The system resolver: A and AAAA through getaddrinfo. */
export async function systemResolve(name: string): Promise<string[]> {
  const res = await lookup(name, { all: true, verbatim: true });
  return res.map((r) => r.address);
}

function isIp(host: string): boolean {
  return isIPv4(host) || isIPv6(host);
}

/**
 * Starts resolving the hostname hosts of `cluster` (a STRICT_DNS cluster) and returns the
 * extension to attach; `close()` stops it. Hosts given as IP addresses are kept as they are.
 */
export function startDnsRefresh(
  cluster: ClusterImpl,
  opts: DnsRefreshOptions = {},
): DnsRefresher {
  const resolve = opts.resolve ?? systemResolve;
  const now = opts.now ?? Date.now;
  const configured = cluster.config.hosts;
  const rateMs = Math.max(1, cluster.config.dnsRefreshRateMs || 5000);
  /** Last good addresses per configured host index; absent = never resolved. */
  const lastGood = new Map<number, string[]>();
  /** Names whose last resolution failed (to log a failure once, and the recovery). */
  const failing = new Set<string>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  let running: Promise<void> | undefined;
  let lastRefreshAt = 0;
  let current = keyOf(cluster.hosts.map((h) => h.config));

  function keyOf(hosts: readonly HostConfig[]): string {
    return hosts.map((h) => `${h.addressText}|${h.weight}`).sort().join(",");
  }

  async function resolveOne(i: number, h: HostConfig): Promise<void> {
    if (h.address.kind !== "tcp") return;
    const name = h.address.host;
    try {
      const ips = await resolve(name);
      if (ips.length === 0) throw new Error("no addresses");
      lastGood.set(i, [...new Set(ips)]);
      if (failing.delete(name)) {
        log.info("dns resolution recovered", { cluster: cluster.name, host: name });
      }
    } catch (e) {
      if (!failing.has(name)) {
        failing.add(name);
        log.warn("dns resolution failed; keeping the last good addresses", {
          cluster: cluster.name,
          host: name,
          err: e,
        });
      }
    }
  }

  function build(): HostConfig[] {
    const out: HostConfig[] = [];
    const seen = new Set<string>();
    const add = (h: HostConfig) => {
      if (seen.has(h.addressText)) return;
      seen.add(h.addressText);
      out.push(h);
    };
    configured.forEach((h, i) => {
      if (h.address.kind !== "tcp" || isIp(h.address.host)) return add(h);
      const ips = lastGood.get(i);
      if (!ips) return add(h); // never resolved: keep the configured name (dial resolves it)
      for (const ip of ips) {
        const address = { kind: "tcp" as const, host: ip, port: h.address.port };
        add({
          address,
          addressText: formatAddress(address),
          hostname: h.hostname || h.address.host,
          weight: h.weight,
          metadata: h.metadata,
        });
      }
    });
    return out;
  }

  async function round(): Promise<void> {
    await Promise.all(
      configured.map((h, i) =>
        h.address.kind === "tcp" && !isIp(h.address.host) ? resolveOne(i, h) : undefined
      ),
    );
    if (closed) return;
    lastRefreshAt = now();
    const next = build();
    const key = keyOf(next);
    if (key !== current) {
      current = key;
      cluster.setHosts(next);
      log.debug("dns hosts changed", {
        cluster: cluster.name,
        hosts: next.map((h) => h.addressText),
      });
    }
  }

  function refresh(): Promise<void> {
    // One round at a time: a slow resolver must not stack rounds.
    running ??= round()
      .catch((e) => log.error("dns refresh failed", { cluster: cluster.name, err: e }))
      .finally(() => (running = undefined));
    return running;
  }

  function schedule(): void {
    if (closed) return;
    const id = setTimeout(() => {
      timer = undefined;
      refresh().finally(schedule);
    }, rateMs);
    Deno.unrefTimer(id);
    timer = id;
  }

  const ready = refresh().finally(schedule);

  return {
    ready,
    get lastRefreshAt() {
      return lastRefreshAt;
    },
    refresh,
    close() {
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    },
  };
}
