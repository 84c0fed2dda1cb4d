/**
 * The composition root: config → cluster manager, listeners, admin API, demo upstreams;
 * start (bind everything first, so a bind failure starts nothing) and stop (graceful or fast).
 */

import { ConfigError } from "../common/errors.ts";
import { log, type Logger } from "../common/logger.ts";
import type { Registry } from "../common/registry.ts";
import type { AdminSource, ListenerInfo, ServerState } from "../admin/types.ts";
import { type AdminServer, startAdmin } from "../admin/server.ts";
import type { Address, MosnConfig } from "../config/model.ts";
import { networkFilters } from "../filter/network/registry.ts";
import { streamFilters } from "../filter/stream/registry.ts";
import { RouterManager } from "../router/manager.ts";
import type { RouteTable } from "../router/route_table.ts";
import type { NetworkFilterFactory } from "../filter/network/types.ts";
import { StatsRegistry } from "../observability/stats.ts";
import { Telemetry } from "../observability/otel/telemetry.ts";
import type { EnvLookup } from "../observability/otel/settings.ts";
import { ClusterManagerImpl } from "../upstream/cluster_manager.ts";
import { VERSION } from "../version.ts";
import { type DemoUpstream, startDemoUpstream } from "./demo_upstream.ts";
import { startIdleTrim } from "./idle_trim.ts";
import { ListenerRuntime, type ListenerServices } from "./listener_runtime.ts";
import { assertPortFree, steerAddress, unsteerAddress } from "../network/reuseport.ts";

export interface StartOptions {
  /**
   * Addresses ("host:port") the process being upgraded listens on: joined (SO_REUSEPORT)
   * rather than refused as taken.
   */
  sharedAddresses?: ReadonlySet<string>;
}

/** What a handover did (old side of an upgrade). */
export interface HandoverOutcome {
  /** host:port of every socket whose new connections were steered to the new process. */
  steered: string[];
  /** host:port where steering failed (no FFI, old kernel): those were closed after the grace. */
  unsteered: string[];
}

export interface ServerOptions {
  logger?: Logger;
  stats?: StatsRegistry;
  networkFilters?: Registry<NetworkFilterFactory>;
  /** Skip the admin API (tests that run many servers). */
  noAdmin?: boolean;
  /** Reads and validates the config again (SIGHUP, POST /api/v1/reload); throws ConfigError. */
  configSource?: () => Promise<MosnConfig>;
  /** Validates a whole config document (dynamic updates); throws ConfigError. */
  parse?: (doc: unknown) => MosnConfig;
  /** Where OTEL_* variables are read (tests); default the process environment. */
  env?: EnvLookup;
}

/** What a reload did, or why it did nothing. */
export interface ReloadOutcome {
  ok: boolean;
  errors: string[];
  listeners?: { added: string[]; changed: string[]; removed: string[] };
}

export class MosnServer implements AdminSource {
  readonly version = VERSION;
  readonly startTime = new Date();
  readonly logger: Logger;
  readonly stats: StatsRegistry;
  readonly clusterManager: ClusterManagerImpl;
  readonly routers: RouterManager;
  /** OpenTelemetry traces and metrics (both off unless configured). */
  readonly telemetry: Telemetry;
  #config: MosnConfig;
  #listeners: ListenerRuntime[];
  /** Listeners removed or replaced by a reload, finishing their connections. */
  readonly #retiredListeners = new Set<ListenerRuntime>();
  readonly #svc: ListenerServices;
  readonly #noAdmin: boolean;
  #admin: AdminServer | undefined;
  #demos: DemoUpstream[] = [];
  #state: ServerState = "INITIALIZING";
  #stopping: Promise<void> | undefined;
  #stopTrim: () => void = () => {};
  readonly #configSource: (() => Promise<MosnConfig>) | undefined;
  readonly #parse: ((doc: unknown) => MosnConfig) | undefined;
  /** Set by /healthcheck/fail: /ready answers 503 so load balancers take us out first. */
  healthCheckFailed = false;

  constructor(config: MosnConfig, opts: ServerOptions = {}) {
    this.#config = config;
    this.logger = opts.logger ?? log;
    this.stats = opts.stats ?? new StatsRegistry();
    this.#noAdmin = opts.noAdmin ?? false;
    this.#configSource = opts.configSource;
    this.#parse = opts.parse;
    this.clusterManager = new ClusterManagerImpl(config.clusterManager.clusters, this.stats);
    this.routers = new RouterManager(config.servers[0]?.routers ?? []);
    this.telemetry = new Telemetry(config, this.stats, opts.env);
    const telemetry = this.telemetry;
    const svc: ListenerServices = {
      tracing: (name) => telemetry.tracing(name),
      registry: opts.networkFilters ?? networkFilters,
      streamFilterRegistry: streamFilters,
      stats: this.stats,
      clusterManager: this.clusterManager,
      routers: this.routers,
      listenerFor: (dest: Address, fallbackToLocal: boolean) =>
        this.#listenerFor(dest, fallbackToLocal),
    };
    this.#svc = svc;
    this.#listeners = (config.servers[0]?.listeners ?? []).map((l) => new ListenerRuntime(l, svc));
  }

  /**
   * Applies a new, already validated config as a diff: unchanged listeners keep their sockets
   * and connections; changed listeners are rebound with the new settings while their open
   * connections finish on the old ones; removed listeners drain; routes and clusters change for
   * new requests at once (in-flight requests keep what they started with).
   */
  reload(
    next: MosnConfig,
  ): { listeners: { added: string[]; changed: string[]; removed: string[] } } {
    if (this.#state !== "RUNNING") throw new Error(`cannot reload while ${this.#state}`);
    const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
    if (!same(this.#config.tracing, next.tracing) || !same(this.#config.metrics, next.metrics)) {
      // Exporters and samplers are built once; swapping them under live spans is not worth it.
      this.logger.warn("tracing/metrics changed: takes effect after a restart");
    }
    // Clusters first, so that routes and listeners never point at a missing cluster.
    const nextClusters = new Map(next.clusterManager.clusters.map((c) => [c.name, c]));
    for (const c of next.clusterManager.clusters) {
      const prev = this.clusterManager.get(c.name);
      if (!prev || !same(prev.config, c)) this.clusterManager.addOrUpdate(c);
    }
    for (const c of this.clusterManager.clusters()) {
      if (!nextClusters.has(c.name)) this.clusterManager.remove(c.name);
    }
    this.routers.update(next.servers[0]?.routers ?? []);

    const added: string[] = [], changed: string[] = [], removed: string[] = [];
    const byName = new Map(this.#listeners.map((l) => [l.name, l]));
    const result: ListenerRuntime[] = [];
    const fresh: ListenerRuntime[] = [];
    const sharedFresh = new Set<ListenerRuntime>();
    for (const cfg of next.servers[0]?.listeners ?? []) {
      const old = byName.get(cfg.name);
      byName.delete(cfg.name);
      if (old && same(old.config, cfg)) {
        result.push(old);
        continue;
      }
      const l = new ListenerRuntime(cfg, this.#svc);
      if (old) {
        changed.push(cfg.name);
        // Same address: the new settings take over the old socket (nothing refused or reset);
        // the old listener's connections finish with the old settings.
        const how = l.takeSocketFrom(old);
        if (how !== "taken") fresh.push(l);
        if (how === "join") sharedFresh.add(l); // the old socket closes right after
        this.#retire(old);
      } else {
        added.push(cfg.name);
        fresh.push(l);
      }
      result.push(l);
    }
    for (const old of byName.values()) {
      removed.push(old.name);
      this.#retire(old);
    }
    for (const l of fresh) l.bind({ shared: sharedFresh.has(l) });
    for (const l of fresh) l.start();
    this.#listeners = result;
    this.#config = next;
    this.logger.info("config reloaded", { added, changed, removed });
    return { listeners: { added, changed, removed } };
  }

  /**
   * Reads the config source again and applies it. An invalid config changes nothing: its
   * problems come back (each with its JSON path) and the running config stays.
   */
  async reloadFromSource(): Promise<ReloadOutcome> {
    if (!this.#configSource) return { ok: false, errors: ["no config file to reload from"] };
    let next: MosnConfig;
    try {
      next = await this.#configSource();
    } catch (e) {
      const errors = e instanceof ConfigError
        ? e.issues.map((i) => `${i.path || "$"}: ${i.message}`)
        : [(e as Error).message];
      this.logger.error("reload refused: invalid config", { errors });
      return { ok: false, errors };
    }
    try {
      const r = this.reload(next);
      return { ok: true, errors: [], ...r };
    } catch (e) {
      this.logger.error("reload failed", { err: e });
      return { ok: false, errors: [(e as Error).message] };
    }
  }

  /**
   * Applies a changed document (dynamic updates): validated as a whole, then reloaded as a diff.
   * Returns the problems (JSON paths) instead when it is invalid; nothing changes then.
   */
  applyDocument(doc: unknown): ReloadOutcome {
    if (!this.#parse) return { ok: false, errors: ["dynamic updates are not enabled"] };
    let next: MosnConfig;
    try {
      next = this.#parse(doc);
    } catch (e) {
      const errors = e instanceof ConfigError
        ? e.issues.map((i) => `${i.path || "$"}: ${i.message}`)
        : [(e as Error).message];
      return { ok: false, errors };
    }
    try {
      return { ok: true, errors: [], ...this.reload(next) };
    } catch (e) {
      return { ok: false, errors: [(e as Error).message] };
    }
  }

  /** The running document, as a mutable copy (for dynamic updates). */
  documentCopy(): Record<string, unknown> {
    return structuredClone(this.#config.raw) as Record<string, unknown>;
  }

  /**
   * Envoy's drain_listeners: stop accepting on every listener; `graceful` also asks open
   * connections to finish (HTTP/1 answers its next response with `Connection: close`).
   * `/ready` answers 503 from now on.
   */
  drainListeners(graceful: boolean): void {
    if (this.#state === "RUNNING") this.#state = "DRAINING";
    for (const l of this.#listeners) {
      l.stopAccepting();
      if (graceful) l.drainConnections();
    }
  }

  /** Stops a listener accepting; its connections finish, then it is forgotten. */
  #retire(l: ListenerRuntime): void {
    l.stopAccepting();
    l.drainConnections();
    this.#retiredListeners.add(l);
    l.drained().then(() => {
      this.#retiredListeners.delete(l);
      for (const a of l.accessLogs) a.close();
    });
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

  routeTables(): RouteTable[] {
    return this.routers.tables();
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

  /**
   * Resolves once every listener accepts. Deno-native listeners accept as soon as start()
   * returns; node:net ones (TLS listeners) a moment later, when node reports 'listening'.
   */
  listening(): Promise<void> {
    return Promise.all(this.#listeners.map((l) => l.listening())).then(() => {});
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

  /**
   * Binds every socket, then starts accepting. On any bind failure, closes what was bound and
   * throws. TCP sockets are SO_REUSEPORT so that a later upgrade can join them.
   */
  start(opts: StartOptions = {}): void {
    const shared = (host: string, port: number) =>
      opts.sharedAddresses?.has(`${host}:${port}`) ?? false;
    try {
      for (const d of this.#config.demoUpstreams) this.#demos.push(startDemoUpstream(d));
      for (const l of this.#listeners) {
        const a = l.config.address;
        l.bind({ shared: a.kind === "unix" || (a.kind === "tcp" && shared(a.host, a.port)) });
      }
      if (!this.#noAdmin) {
        const a = this.#config.admin.address;
        if (a.kind === "tcp") {
          try {
            if (!shared(a.host, a.port)) assertPortFree(a.host, a.port);
          } catch (e) {
            throw new Error(`admin: cannot listen on ${a.host}:${a.port}: ${(e as Error).message}`);
          }
          this.#admin = startAdmin(this, { hostname: a.host, port: a.port }, { reusePort: true });
        }
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

  /** The TCP addresses ("host:port") this process listens on: listeners, admin, demo upstreams. */
  boundAddresses(): string[] {
    const out: string[] = [];
    for (const l of this.#listeners) {
      const a = l.config.address;
      if (a.kind === "tcp" && l.accepting) out.push(`${a.host}:${l.port}`);
    }
    const admin = this.#config.admin.address;
    if (this.#admin && admin.kind === "tcp") out.push(`${admin.host}:${this.#admin.port}`);
    for (const [i, d] of this.#demos.entries()) {
      const a = this.#config.demoUpstreams[i]?.address;
      if (a?.kind === "tcp") out.push(`${a.host}:${d.port}`);
    }
    return out;
  }

  /**
   * Old side of an upgrade, once the new process listens beside us on every shared address:
   * steer each reuseport group's new connections to the new socket (index 1, in join order),
   * keep accepting for `graceMs` so that our accept queues and half-done handshakes empty, then
   * stop accepting. Closing without steering would reset what the kernel still queued here.
   * The caller then drains (stop("graceful")).
   */
  async handover(graceMs: number): Promise<HandoverOutcome> {
    const steered: string[] = [], unsteered: string[] = [];
    for (const addr of this.boundAddresses()) {
      const i = addr.lastIndexOf(":");
      try {
        if (steerAddress(addr.slice(0, i), Number(addr.slice(i + 1)), 1) > 0) steered.push(addr);
        else unsteered.push(addr);
      } catch (e) {
        this.logger.warn("upgrade: cannot steer connections", { address: addr, err: e });
        unsteered.push(addr);
      }
    }
    if (unsteered.length > 0) {
      this.logger.warn(
        "upgrade: closing listeners without steering; queued connections may reset",
        {
          addresses: unsteered,
        },
      );
    }
    await new Promise((r) => setTimeout(r, graceMs));
    if (this.#state === "RUNNING") this.#state = "DRAINING";
    for (const l of this.#listeners) l.stopAccepting();
    // These stop listening at once; their open requests finish in the background (a slow admin
    // client must not hold the new process waiting for our answer).
    this.#admin?.close().catch(() => {});
    for (const d of this.#demos) d.close().catch(() => {});
    this.logger.info("upgrade: listeners handed over", { steered, unsteered });
    return { steered, unsteered };
  }

  /**
   * New side of an upgrade, after the old process closed its sockets: remove the steering
   * program from each group, so that a later upgrade starts from plain hashing.
   */
  releaseSteering(): void {
    for (const addr of this.boundAddresses()) {
      const i = addr.lastIndexOf(":");
      try {
        unsteerAddress(addr.slice(0, i), Number(addr.slice(i + 1)));
      } catch (e) {
        this.logger.debug("upgrade: detach steering failed", { address: addr, err: e });
      }
    }
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
    for (const l of this.#listeners) {
      l.stopAccepting();
      if (mode === "graceful") l.drainConnections();
    }
    const all = () => [...this.#listeners, ...this.#retiredListeners];
    if (mode === "graceful") {
      const open = all().reduce((n, l) => n + l.connections.size, 0);
      this.logger.info("draining", { connections: open, timeout_ms: this.gracefulTimeoutMs });
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<void>((r) => (timer = setTimeout(r, this.gracefulTimeoutMs)));
      await Promise.race([Promise.all(all().map((l) => l.drained())), timeout]);
      clearTimeout(timer);
    }
    this.#state = "STOPPING";
    for (const l of all()) l.closeAll();
    this.clusterManager.close();
    await Promise.allSettled([
      ...this.#listeners.flatMap((l) => l.accessLogs.map((a) => a.close())),
      ...(this.#admin ? [this.#admin.close()] : []),
      ...this.#demos.map((d) => d.close()),
      // Last spans and metrics out, bounded so a dead collector cannot hold the stop.
      this.telemetry.shutdown(Math.min(5000, this.gracefulTimeoutMs)),
    ]);
    this.#state = "STOPPED";
    this.logger.info("mosn.ts stopped", { mode });
  }
}
