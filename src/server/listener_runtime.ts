/** A configured listener at run time: accepts, counts, installs the network filter chain. */

import { IdSet } from "../common/id_table.ts";
import { log } from "../common/logger.ts";
import type {
  Address,
  ListenerConfig,
  ListenerOriginalDst,
  NetworkFilterConfig,
} from "../config/model.ts";
import type { NetworkFilterFactory } from "../filter/network/types.ts";
import type { FilterDeps, RouterLookup } from "../filter/network/types.ts";
import type { StreamFilterFactory } from "../filter/stream/types.ts";
import { AccessLog } from "../observability/access_log.ts";
import { formatAddress, formatNetAddr } from "../network/address.ts";
import { Connection, type ConnectionCounters } from "../network/connection.ts";
import { connectionRegistry } from "../network/connection_registry.ts";
import { type BindOptions, Listener } from "../network/listener.ts";
import { NodeListener } from "../network/node_listener.ts";
import type { RawConn, TlsInfo } from "../network/raw_conn.ts";
import { TlsServer } from "../network/tls/server.ts";
import { type TlsStats, tlsStats } from "../observability/tls_stats.ts";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { DenoConnDuplex } from "../network/tls/deno_conn_duplex.ts";
import { localDestination, originalDestination } from "../network/original_dst.ts";
import type { Registry } from "../common/registry.ts";
import {
  type DownstreamStats,
  downstreamStats,
  type StatsRegistry,
} from "../observability/stats.ts";
import type { ClusterManager } from "../upstream/types.ts";
import type { RequestTracing } from "../observability/otel/types.ts";

/** How often a drain looks again at connections that had no drain handler yet. */
const DRAIN_RECHECK_MS = 100;
const DRAIN_RECHECK_ROUNDS = 100;

/** Services every listener shares. */
export interface ListenerServices {
  readonly registry: Registry<NetworkFilterFactory>;
  readonly streamFilterRegistry: Registry<StreamFilterFactory>;
  readonly stats: StatsRegistry;
  readonly clusterManager: ClusterManager;
  readonly routers: RouterLookup;
  /** Request tracing of a listener; undefined (or absent) when tracing is off. */
  readonly tracing?: (listenerName: string) => RequestTracing | undefined;
  /**
   * use_original_dst: the listener that should serve a connection originally headed to `dest`
   * (exact ip:port, else the port on the fallback address), or undefined.
   */
  readonly listenerFor?: (dest: Address, fallbackToLocal: boolean) => ListenerRuntime | undefined;
}

/** How a use_original_dst listener learns the original destination (from the config model). */
export type OriginalDstSettings = ListenerOriginalDst;

export class ListenerRuntime {
  readonly config: ListenerConfig;
  /** An IdSet, not a Set: see src/common/id_table.ts (connections come and go). */
  readonly connections = new IdSet<Connection>();
  readonly #listener: Listener | NodeListener;
  /** Set when the filter chain has a tls_context: connections are TLS (or, with inspector, either). */
  readonly #tls: TlsServer | undefined;
  readonly #tlsStats: TlsStats | undefined;
  readonly #stats: DownstreamStats;
  readonly #installers: ((conn: Connection) => void)[];
  /** One byte-counter object for all of this listener's connections. */
  readonly #counters: ConnectionCounters;
  readonly accessLogs: AccessLog[];
  #drainWaiters: (() => void)[] = [];
  readonly #originalDst: OriginalDstSettings | undefined;
  readonly #listenerFor: ListenerServices["listenerFor"];

  /** Opens access log files (throws on an unwritable path) and prepares every filter. */
  constructor(config: ListenerConfig, svc: ListenerServices) {
    this.config = config;
    this.#originalDst = config.originalDst;
    this.#listenerFor = svc.listenerFor;
    const s = this.#stats = downstreamStats(svc.stats, config.name);
    this.#counters = {
      onRead: (n) => s.bytesReadTotal.inc(n),
      onWrite: (n) => s.bytesWriteTotal.inc(n),
    };
    this.accessLogs = config.accessLogs.map((a) =>
      new AccessLog({ path: a.logPath, ...(a.logFormat ? { format: a.logFormat } : {}) })
    );
    const random = Math.random;
    const streamFilters = config.streamFilters.map((f) =>
      svc.streamFilterRegistry.get(f.type)!.prepare(f.config, { random })
    );
    const deps: FilterDeps = {
      clusterManager: svc.clusterManager,
      stats: svc.stats,
      listenerName: config.name,
      listener: config,
      routers: svc.routers,
      streamFilters,
      accessLogs: this.accessLogs,
      tracing: svc.tracing?.(config.name),
    };
    // MOSN serves a listener with its first filter chain; its tls_context_set picks the
    // certificate by SNI.
    const chain = config.filterChains[0]?.filters ?? [];
    this.#installers = chain.map((f: NetworkFilterConfig) =>
      svc.registry.get(f.type)!.prepare(f.config, deps)
    );
    const tlsContexts = config.filterChains[0]?.tlsContexts ?? [];
    if (tlsContexts.length > 0) {
      // Without a configured `alpn`, offer what the first filter that has a say serves (an
      // HTTP/2 proxy: h2 then http/1.1), as Envoy/MOSN users expect h2 to just work.
      let defaultAlpn: readonly string[] = [];
      for (const f of chain) {
        const a = svc.registry.get(f.type)!.defaultAlpn?.(f.config);
        if (a && a.length > 0) {
          defaultAlpn = a;
          break;
        }
      }
      // node:tls needs node sockets: TLS listeners accept on node:net (docs/design/tls.md).
      this.#tls = new TlsServer(tlsContexts, config.tlsHandshakeTimeoutMs, defaultAlpn);
      this.#tlsStats = tlsStats(svc.stats, { listener: config.name });
      this.#listener = new NodeListener(config.name, config.address, (s) => this.#acceptTls(s));
    } else {
      this.#listener = new Listener(config.name, config.address, (c) => this.#accept(c), {
        transparent: this.#originalDst?.mode === "tproxy",
      });
    }
  }

  get name(): string {
    return this.config.name;
  }

  /** The bound address text, with the real port when 0 was configured. */
  get boundAddress(): string {
    const a = this.config.address;
    if (a.kind === "tcp" && a.port === 0) return formatAddress({ ...a, port: this.#listener.port });
    return formatAddress(a);
  }

  get port(): number {
    const a = this.config.address;
    if (this.config.bindPort === false && a.kind === "tcp") return a.port;
    return this.#listener.port;
  }

  /** The original-destination settings in force (undefined: use_original_dst off). */
  get originalDst(): OriginalDstSettings | undefined {
    return this.#originalDst;
  }

  get accepting(): boolean {
    return this.#listener.accepting;
  }

  /** `bind_port: false` (MOSN): no socket; the listener only serves handed-off connections. */
  bind(opts: BindOptions = {}): void {
    if (this.config.bindPort === false) return;
    this.#listener.bind(opts);
  }

  start(): void {
    if (this.config.bindPort === false) return;
    this.#listener.start();
  }

  /** Resolves once the socket accepts (node:net listeners bind asynchronously). */
  listening(): Promise<void> {
    return this.#listener instanceof NodeListener ? this.#listener.listening() : Promise.resolve();
  }

  /**
   * Reload: takes over `old`'s bound socket when this listener (its changed config) has the same
   * address and socket options, so that nothing is refused or reset between the two ("taken").
   * node:net (TLS) listeners cannot hand a socket over: on the same TCP address they bind a
   * socket of their own in the old one's reuseport group ("join"); else "none" (a fresh bind).
   */
  takeSocketFrom(old: ListenerRuntime): "taken" | "join" | "none" {
    const a = this.config.address, b = old.config.address;
    const sameAddress = a.kind === "tcp"
      ? b.kind === "tcp" && a.host === b.host && a.port !== 0 && a.port === old.port
      : b.kind === "unix" && a.path === b.path;
    const transparent = (c: ListenerConfig) => c.originalDst?.mode === "tproxy";
    if (
      !sameAddress || !old.accepting || this.config.bindPort === false ||
      transparent(this.config) !== transparent(old.config)
    ) return "none";
    const from = old.#listener, to = this.#listener;
    if (!(from instanceof Listener) || !(to instanceof Listener)) {
      return a.kind === "tcp" ? "join" : "none";
    }
    from.transferTo(to);
    return "taken";
  }

  /** Stops accepting; open connections go on. */
  stopAccepting(): void {
    this.#listener.close();
  }

  /** Resolves when every open connection has closed. */
  drained(): Promise<void> {
    if (this.connections.size === 0) return Promise.resolve();
    return new Promise((r) => this.#drainWaiters.push(r));
  }

  /** Asks each open connection to finish politely (HTTP/1: close after the current response). */
  drainConnections(): void {
    // A connection still detecting its protocol (Auto) gets its drain handler once detected:
    // look again until every connection has been told (or has closed).
    const pending = new Set<Connection>();
    for (const c of this.connections) {
      if (c.drainHandler) c.drainHandler();
      else pending.add(c);
    }
    if (pending.size === 0) return;
    // tcp_proxy connections never get a handler: stop looking after a while.
    let rounds = DRAIN_RECHECK_ROUNDS;
    const timer = setInterval(() => {
      for (const c of pending) {
        if (!this.connections.has(c)) pending.delete(c);
        else if (c.drainHandler) {
          pending.delete(c);
          c.drainHandler();
        }
      }
      if (pending.size === 0 || --rounds === 0) clearInterval(timer);
    }, DRAIN_RECHECK_MS);
  }

  closeAll(): void {
    for (const c of [...this.connections]) c.close("now");
  }

  #accept(raw: Deno.Conn): void {
    const od = this.#originalDst;
    if (!od) return this.#serve(raw, undefined);
    const dest = od.mode === "tproxy" ? localDestination(raw) : originalDestination(raw);
    if (dest) {
      // MOSN: the listener bound to the original destination serves it, if there is one.
      const target = this.#listenerFor?.(dest, od.fallbackToLocal);
      if (target && target !== this) {
        log.debug("original destination handed to listener", {
          listener: this.name,
          to: target.name,
          dest: formatAddress(dest),
        });
        return target.adopt(raw, dest);
      }
    }
    this.#serve(raw, dest);
  }

  /**
   * Serves a connection that another listener accepted and handed over because it was
   * originally headed to this listener's address (use_original_dst).
   */
  adopt(raw: Deno.Conn, originalDestination: Address | undefined): void {
    try {
      if (this.#tls) {
        // A Deno socket cannot carry node:tls directly; a JS duplex bridges it (slower path).
        const addrs = { local: raw.localAddr, remote: raw.remoteAddr };
        this.#acceptTls(new DenoConnDuplex(raw), addrs, originalDestination);
        return;
      }
      this.#serve(raw, originalDestination);
    } catch (e) {
      log.error("connection setup failed", { listener: this.name, err: e });
      try {
        raw.close();
      } catch { /* closed */ }
    }
  }

  #acceptTls(
    sock: Socket | Duplex,
    addrs?: { local: Deno.Addr; remote: Deno.Addr },
    originalDestination?: Address,
  ): void {
    const ts = this.#tlsStats!;
    const remote = addrs
      ? formatNetAddr(addrs.remote)
      : `${(sock as Socket).remoteAddress}:${(sock as Socket).remotePort}`;
    this.#tls!.accept(sock, this.config.inspector, {
      secure: (raw, info) => {
        ts.handshake.inc();
        this.#serveSafely(raw, info, originalDestination);
      },
      plain: (raw) => {
        ts.plaintext.inc();
        this.#serveSafely(raw, undefined, originalDestination);
      },
      failed: (reason, detail) => {
        ts.handshakeFailed.inc();
        ts.byReason.get(reason)?.inc();
        log.warn("TLS handshake failed", { listener: this.name, remote, reason, detail });
      },
    }, addrs);
  }

  #serveSafely(raw: RawConn, tls: TlsInfo | undefined, originalDestination?: Address): void {
    try {
      this.#serve(raw, originalDestination, tls);
    } catch (e) {
      log.error("connection setup failed", { listener: this.name, err: e });
      raw.close();
    }
  }

  #serve(raw: RawConn, originalDestination: Address | undefined, tls?: TlsInfo): void {
    const s = this.#stats;
    const conn = new Connection(raw, {
      idleTimeoutMs: this.config.connectionIdleTimeoutMs,
      bufferLimitBytes: this.config.connBufferLimitBytes,
      counters: this.#counters,
    });
    if (originalDestination) conn.originalDestination = originalDestination;
    if (tls) conn.tls = tls;
    if (this.#tls) conn.fromTlsListener = true;
    s.connectionTotal.inc();
    s.connectionActive.inc();
    this.connections.add(conn);
    connectionRegistry.add(conn, "downstream", this.name);
    conn.onClose((reason) => {
      connectionRegistry.remove(conn);
      s.connectionActive.dec();
      s.connectionDestroy.inc();
      if (reason === "idle_timeout") s.idleTimeout.inc();
      this.connections.delete(conn);
      if (this.connections.size === 0 && this.#drainWaiters.length > 0) {
        const w = this.#drainWaiters;
        this.#drainWaiters = [];
        for (const f of w) f();
      }
    });
    try {
      for (const install of this.#installers) install(conn);
      conn.start();
    } catch (e) {
      log.error("filter chain setup failed", { listener: this.name, err: e });
      conn.close("now");
    }
  }
}
