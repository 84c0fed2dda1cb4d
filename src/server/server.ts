/**
 * The composition root: config → cluster manager, listeners, admin API, demo upstreams;
 * start (bind everything first, so a bind failure starts nothing) and stop (graceful or fast).
 */

import { log, type Logger } from "../common/logger.ts";
import type { Registry } from "../common/registry.ts";
import type { AdminSource, ListenerInfo, ServerState } from "../admin/types.ts";
import { type AdminServer, startAdmin } from "../admin/server.ts";
import type { Address, MosnConfig } from "../config/model.ts";
import { networkFilters } from "../filter/network/registry.ts";
import { streamFilters } from "../filter/stream/registry.ts";
import { RouterManager } from "../router/manager.ts";
import type { NetworkFilterFactory } from "../filter/network/types.ts";
import { StatsRegistry } from "../observability/stats.ts";
import { ClusterManagerImpl } from "../upstream/cluster_manager.ts";
import { VERSION } from "../version.ts";
import { type DemoUpstream, startDemoUpstream } from "./demo_upstream.ts";
import { startIdleTrim } from "./idle_trim.ts";
import { ListenerRuntime } from "./listener_runtime.ts";

export interface ServerOptions {
  logger?: Logger;
  stats?: StatsRegistry;
  networkFilters?: Registry<NetworkFilterFactory>;
  /** Skip the admin API (tests that run many servers). */
  noAdmin?: boolean;
}

export class MosnServer implements AdminSource {
  readonly version = VERSION;
  readonly startTime = new Date();
  readonly logger: Logger;
  readonly stats: StatsRegistry;
  readonly clusterManager: ClusterManagerImpl;
  readonly routers: RouterManager;
  readonly #config: MosnConfig;
  readonly #listeners: ListenerRuntime[];
  readonly #noAdmin: boolean;
  #admin: AdminServer | undefined;
  #demos: DemoUpstream[] = [];
  #state: ServerState = "INITIALIZING";
  #stopping: Promise<void> | undefined;
  #stopTrim: () => void = () => {};

  constructor(config: MosnConfig, opts: ServerOptions = {}) {
    this.#config = config;
    this.logger = opts.logger ?? log;
    this.stats = opts.stats ?? new StatsRegistry();
    this.#noAdmin = opts.noAdmin ?? false;
    this.clusterManager = new ClusterManagerImpl(config.clusterManager.clusters, this.stats);
    this.routers = new RouterManager(config.servers[0]?.routers ?? []);
    const svc = {
      registry: opts.networkFilters ?? networkFilters,
      streamFilterRegistry: streamFilters,
      stats: this.stats,
      clusterManager: this.clusterManager,
      routers: this.routers,
      listenerFor: (dest: Address, fallbackToLocal: boolean) =>
        this.#listenerFor(dest, fallbackToLocal),
    };
    this.#listeners = (config.servers[0]?.listeners ?? []).map((l) => new ListenerRuntime(l, svc));
  }

  /**
   * use_original_dst handoff (MOSN's UseOriginalDst): the listener whose address is exactly the
   * original destination, else one on the same port at the fallback address (0.0.0.0, or
   * 127.0.0.1 with fallback_to_local), else none (the accepting listener serves it).
   */
  #listenerFor(dest: Address, fallbackToLocal: boolean): ListenerRuntime | undefined {
    if (dest.kind !== "tcp") return undefined;
    const v6 = dest.host.includes(":");
    const fallbackIp = fallbackToLocal ? (v6 ? "::1" : "127.0.0.1") : (v6 ? "::" : "0.0.0.0");
    let fallback: ListenerRuntime | undefined;
    for (const l of this.#listeners) {
      const a = l.config.address;
      if (a.kind !== "tcp" || l.port !== dest.port) continue;
      if (a.host === dest.host) return l;
      if (a.host === fallbackIp) fallback ??= l;
    }
    return fallback;
  }

  config(): MosnConfig {
    return this.#config;
  }

  state(): ServerState {
    return this.#state;
  }

  listeners(): readonly ListenerInfo[] {
    return this.#listeners.map((l) => ({
      name: l.name,
      address: l.boundAddress,
      accepting: l.accepting,
      activeConnections: l.connections.size,
    }));
  }

  /** The bound port of a listener (for configs that ask for port 0). */
  listenerPort(name: string): number {
    return this.#listeners.find((l) => l.name === name)?.port ?? 0;
  }

  get adminPort(): number {
    return this.#admin?.port ?? 0;
  }

  get gracefulTimeoutMs(): number {
    return this.#config.servers[0]?.gracefulTimeoutMs ?? 30_000;
  }

  /** Binds every socket, then starts accepting. On any bind failure, closes what was bound and throws. */
  start(): void {
    try {
      for (const d of this.#config.demoUpstreams) this.#demos.push(startDemoUpstream(d));
      for (const l of this.#listeners) l.bind();
      if (!this.#noAdmin) {
        const a = this.#config.admin.address;
        if (a.kind === "tcp") this.#admin = startAdmin(this, { hostname: a.host, port: a.port });
      }
    } catch (e) {
      for (const l of this.#listeners) l.stopAccepting();
      for (const d of this.#demos) d.close();
      this.#demos = [];
      throw e;
    }
    for (const l of this.#listeners) l.start();
    this.#stopTrim = startIdleTrim({ activity: () => this.#activity() });
    this.#state = "RUNNING";
    this.logger.info("mosn.ts started", {
      version: VERSION,
      listeners: this.listeners().map((l) => `${l.name}@${l.address}`),
      admin: this.#admin ? `127.0.0.1:${this.#admin.port}` : "off",
    });
  }

  /** Sums downstream counters: changes whenever a connection opens or a byte moves. */
  #activity(): number {
    let n = 0;
    for (const s of this.stats.scopes()) {
      if (s.type !== "downstream") continue;
      n += s.counter("connection_total").value + s.counter("bytes_read_total").value +
        s.counter("bytes_write_total").value;
    }
    return n;
  }

  /**
   * graceful: stop accepting, let open connections finish up to graceful_timeout, then close
   * the rest. fast: close everything now.
   */
  stop(mode: "graceful" | "fast"): Promise<void> {
    this.#stopping ??= this.#stop(mode);
    return this.#stopping;
  }

  async #stop(mode: "graceful" | "fast"): Promise<void> {
    this.#state = "DRAINING";
    this.#stopTrim();
    for (const l of this.#listeners) l.stopAccepting();
    if (mode === "graceful") {
      const open = this.#listeners.reduce((n, l) => n + l.connections.size, 0);
      this.logger.info("draining", { connections: open, timeout_ms: this.gracefulTimeoutMs });
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<void>((r) => (timer = setTimeout(r, this.gracefulTimeoutMs)));
      await Promise.race([Promise.all(this.#listeners.map((l) => l.drained())), timeout]);
      clearTimeout(timer);
    }
    this.#state = "STOPPING";
    for (const l of this.#listeners) l.closeAll();
    this.clusterManager.close();
    await Promise.allSettled([
      ...this.#listeners.flatMap((l) => l.accessLogs.map((a) => a.close())),
      ...(this.#admin ? [this.#admin.close()] : []),
      ...this.#demos.map((d) => d.close()),
    ]);
    this.#state = "STOPPED";
    this.logger.info("mosn.ts stopped", { mode });
  }
}
