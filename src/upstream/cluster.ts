/** A cluster: its hosts, its balancer, and counted upstream connects to its hosts. */

import { ConnectError, MosnError } from "../common/errors.ts";
import { IdSet } from "../common/id_table.ts";
import { log } from "../common/logger.ts";
import type { Address, ClusterConfig, HostConfig } from "../config/model.ts";
import { Connection, type ConnectionCounters } from "../network/connection.ts";
import { connectionRegistry } from "../network/connection_registry.ts";
import { dial } from "../network/dial.ts";
import type { RawConn, TlsInfo } from "../network/raw_conn.ts";
import { dialTls, TlsConnectError } from "../network/tls/client.ts";
import { type TlsStats, tlsStats } from "../observability/tls_stats.ts";
import { type StatsRegistry, type UpstreamStats, upstreamStats } from "../observability/stats.ts";
import { HostImpl } from "./host.ts";
import { type LoadBalancerFactory, loadBalancers } from "./lb/registry.ts";
import { Http1Pool } from "./pool/http1_pool.ts";
import { Http2Pool } from "./pool/http2_pool.ts";
import { MultiplexPool } from "./pool/multiplex_pool.ts";
import { type Http2Stats, http2Stats } from "../stream/http2/stats.ts";
import { createXProtocol } from "../protocol/xprotocol/registry.ts";
import type { ConnectionPool } from "./pool/types.ts";
import { ResourceManager } from "./resource_manager.ts";
import type { Cluster, Host, LoadBalancer, UpstreamResult } from "./types.ts";
import { formatAddress } from "../network/address.ts";

export interface ClusterOptions {
  /** Randomness for the balancer; defaults to Math.random. */
  random?: () => number;
}

/** Something attached to a cluster for its lifetime: a health checker, a DNS refresher… */
export interface ClusterExtension {
  /** The host list changed (DNS re-resolution, original-destination hosts). */
  onHostsChanged?(hosts: readonly Host[]): void;
  close(): void;
}

/** Consumes upstream attempt outcomes (outlier detection). */
export interface ResultSink {
  record(host: Host, result: UpstreamResult): void;
}

export class ClusterImpl implements Cluster {
  readonly name: string;
  readonly config: ClusterConfig;
  readonly stats: UpstreamStats;
  readonly resources: ResourceManager;
  /** Set by the cluster manager when `outlier_detection` is configured. */
  outlier: ResultSink | undefined;

  #hosts: readonly Host[];
  #lb: LoadBalancer;
  readonly #factory: LoadBalancerFactory;
  readonly #random: () => number;
  readonly #statsRegistry: StatsRegistry;
  readonly #extensions: ClusterExtension[] = [];
  /** ORIGINAL_DST: hosts made on demand, by "ip:port". */
  readonly #dynamicHosts = new Map<string, HostImpl>();

  readonly #pools = new Map<Host, Map<string, ConnectionPool>>();
  readonly #counters = new Map<Host, ConnectionCounters>();
  /** Set when the cluster's tls_context is on. */
  readonly #tlsStats: TlsStats | undefined;
  /** An IdSet, not a Set: see src/common/id_table.ts (connections come and go). */
  readonly #conns = new IdSet<Connection>();
  #idleWaiters: (() => void)[] = [];
  #closed = false;

  /** Throws MosnError REGISTRY_UNKNOWN when `config.lbType` names no registered balancer. */
  constructor(config: ClusterConfig, stats: StatsRegistry, options: ClusterOptions = {}) {
    this.name = config.name;
    this.config = config;
    const factory = loadBalancers.get(config.lbType);
    if (!factory) {
      throw new MosnError(
        "REGISTRY_UNKNOWN",
        `cluster "${config.name}": unknown lb_type "${config.lbType}" (known: ${
          loadBalancers.names().join(", ")
        })`,
      );
    }
    this.stats = upstreamStats(stats, { cluster: config.name });
    if (config.tls) this.#tlsStats = tlsStats(stats, { cluster: config.name });
    this.resources = new ResourceManager(config.circuitBreakers);
    this.#statsRegistry = stats;
    this.#factory = factory;
    this.#random = options.random ?? Math.random;
    this.#hosts = Object.freeze(config.hosts.map((h) => new HostImpl(h, this, stats)));
    this.#lb = factory(this.#hosts, this.#random, config, this);
  }

  get hosts(): readonly Host[] {
    return this.#hosts;
  }

  get lb(): LoadBalancer {
    return this.#lb;
  }

  /**
   * Replaces the host list (DNS re-resolution): hosts whose address stays keep their object,
   * health and stats; the balancer is rebuilt; extensions are told.
   */
  setHosts(configs: readonly HostConfig[]): void {
    const old = new Map(this.#hosts.map((h) => [h.addressText, h]));
    const next = configs.map((c) =>
      old.get(c.addressText) ?? new HostImpl(c, this, this.#statsRegistry)
    );
    this.#hosts = Object.freeze(next);
    this.#lb = this.#factory(this.#hosts, this.#random, this.config, this);
    for (const e of this.#extensions) e.onHostsChanged?.(this.#hosts);
  }

  /** ORIGINAL_DST: the host for `address`, made on first use and kept while in use. */
  hostFor(address: Address): Host {
    const text = formatAddress(address);
    let h = this.#dynamicHosts.get(text);
    if (!h) {
      h = new HostImpl(
        { address, addressText: text, hostname: "", weight: 1, metadata: {} },
        this,
        this.#statsRegistry,
      );
      this.#dynamicHosts.set(text, h);
    }
    return h;
  }

  /** Hosts made by hostFor (ORIGINAL_DST). */
  get dynamicHosts(): ReadonlyMap<string, Host> {
    return this.#dynamicHosts;
  }

  /** Forgets an on-demand host (ORIGINAL_DST cleanup of hosts no longer used). */
  dropDynamicHost(addressText: string): void {
    this.#dynamicHosts.delete(addressText);
  }

  /** Stops health checks, outlier sweeps and DNS refresh (a replaced cluster finishing up). */
  stopExtensions(): void {
    for (const e of this.#extensions.splice(0)) e.close();
  }

  attach(ext: ClusterExtension): void {
    this.#extensions.push(ext);
  }

  reportResult(host: Host, result: UpstreamResult): void {
    this.outlier?.record(host, result);
  }

  /** One byte-counter object per host, shared by its connections. */
  #countersFor(host: Host): ConnectionCounters {
    let c = this.#counters.get(host);
    if (!c) {
      const cs = this.stats;
      const hs = host.stats;
      c = {
        onRead(n) {
          cs.bytesReadTotal.inc(n);
          hs.bytesReadTotal.inc(n);
        },
        onWrite(n) {
          cs.bytesWriteTotal.inc(n);
          hs.bytesWriteTotal.inc(n);
        },
      };
      this.#counters.set(host, c);
    }
    return c;
  }

  /**
   * The connection pool of `host` for `protocol` ("Http1" or an xprotocol name such as
   * "bolt"), created on first use.
   */
  pool(host: Host, protocol: string): ConnectionPool {
    let byProto = this.#pools.get(host);
    if (!byProto) this.#pools.set(host, byProto = new Map());
    let p = byProto.get(protocol);
    if (!p) {
      p = protocol === "Http1"
        ? new Http1Pool(host, this, this.resources)
        : protocol === "Http2"
        ? new Http2Pool(host, this, this.resources, this.#h2Stats())
        : new MultiplexPool(host, this, createXProtocol(protocol));
      byProto.set(protocol, p);
    }
    return p;
  }

  #http2Stats: Http2Stats | undefined;
  #h2Stats(): Http2Stats {
    return this.#http2Stats ??= http2Stats(this.#statsRegistry, { cluster: this.name });
  }

  /** Upstream connections opened by this cluster and not yet closed. */
  get connectionCount(): number {
    return this.#conns.size;
  }

  async connect(host: Host, protocol?: "Http1" | "Http2"): Promise<Connection> {
    const cs = this.stats;
    const hs = host.stats;
    if (this.#closed) {
      throw new ConnectError(host.addressText, false, new Error(`cluster ${this.name} is closed`));
    }
    let raw: RawConn;
    let tls: TlsInfo | undefined;
    const tlsCfg = this.config.tls;
    try {
      if (tlsCfg) {
        const want = protocol === "Http2" ? "h2" : protocol === "Http1" ? "http/1.1" : "";
        ({ conn: raw, info: tls } = await dialTls(
          host.address,
          this.config.connectTimeoutMs,
          tlsCfg,
          want ? { alpn: [want] } : {},
        ));
        checkAlpn(host.addressText, want, raw, tls);
        this.#tlsStats!.handshake.inc();
      } else raw = await dial(host.address, this.config.connectTimeoutMs);
    } catch (e) {
      if (e instanceof TlsConnectError) {
        const ts = this.#tlsStats!;
        ts.handshakeFailed.inc();
        ts.byReason.get(e.tlsReason)?.inc();
        log.warn("upstream TLS handshake failed", {
          cluster: this.name,
          host: host.addressText,
          reason: e.tlsReason,
          detail: (e.cause as Error)?.message ?? String(e.cause),
        });
      }
      cs.connectionConFail.inc();
      hs.connectionConFail.inc();
      if (e instanceof ConnectError && e.code === "CONNECT_TIMEOUT") {
        cs.connectionConTimeout.inc();
        hs.connectionConTimeout.inc();
      }
      throw e;
    }
    // close() ran while we were dialing: nobody would close this socket later.
    if (this.#closed) {
      raw.close();
      throw new ConnectError(host.addressText, false, new Error(`cluster ${this.name} is closed`));
    }
    const conn = new Connection(raw, {
      bufferLimitBytes: this.config.connBufferLimitBytes,
      counters: this.#countersFor(host),
    });
    if (tls) conn.tls = tls;
    cs.connectionTotal.inc();
    hs.connectionTotal.inc();
    cs.connectionActive.inc();
    hs.connectionActive.inc();
    this.#conns.add(conn);
    connectionRegistry.add(conn, "upstream", this.name, host.addressText);
    conn.onClose(() => {
      connectionRegistry.remove(conn);
      cs.connectionActive.dec();
      hs.connectionActive.dec();
      cs.connectionDestroy.inc();
      hs.connectionDestroy.inc();
      this.#conns.delete(conn);
      if (this.#conns.size === 0) this.#notifyIdle();
    });
    return conn;
  }

  /**
   * Resolves once no connection opened by this cluster is open, e.g. to forget a cluster that
   * a config update replaced while its proxied sessions finish.
   */
  whenIdle(): Promise<void> {
    if (this.#conns.size === 0) return Promise.resolve();
    return new Promise((r) => this.#idleWaiters.push(r));
  }

  /** Closes every open upstream connection now; later connects reject. */
  close(): void {
    this.#closed = true;
    for (const e of this.#extensions.splice(0)) e.close();
    for (const byProto of this.#pools.values()) for (const p of byProto.values()) p.close();
    for (const c of [...this.#conns]) c.close("now");
  }

  #notifyIdle(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }
}

/**
 * An HTTP/2 pool needs the server to choose "h2" (speaking h2 to a server that agreed on
 * something else, or on nothing, fails on its first bytes); an HTTP/1 pool accepts
 * "http/1.1" or no ALPN. Otherwise the connection is closed with a TlsConnectError (a 502).
 */
function checkAlpn(address: string, want: string, raw: RawConn, info: TlsInfo): void {
  const got = info.alpn;
  if (want === "" || got === want || (want === "http/1.1" && got === "")) return;
  raw.close();
  throw new TlsConnectError(
    address,
    "fail_alpn",
    new Error(
      `ALPN: the server chose ${got ? JSON.stringify(got) : "no protocol"}, ${
        JSON.stringify(want)
      } is needed`,
    ),
  );
}
