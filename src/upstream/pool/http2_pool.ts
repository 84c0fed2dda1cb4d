/**
 * HTTP/2 connection pool for one host: streams share one connection; another is opened only
 * when every open one is at the peer's SETTINGS_MAX_CONCURRENT_STREAMS (or going away).
 * Requests wait while a connection is being opened.
 */

import { log } from "../../common/logger.ts";
import { connectionRegistry, HTTP2_LABEL } from "../../network/connection_registry.ts";
import { Http2ClientConnection } from "../../stream/http2/client_connection.ts";
import type { Http2Stats } from "../../stream/http2/stats.ts";
import type { ResponseReceiver } from "../../stream/types.ts";
import type { ResourceManager } from "../resource_manager.ts";
import type { Cluster, Host } from "../types.ts";
import type { ConnectionPool, PoolCallbacks, PoolCancel } from "./types.ts";

/** Idle upstream connections close after this long without streams. */
const IDLE_TIMEOUT_MS = 60_000;

interface Waiter extends PoolCancel {
  receiver: ResponseReceiver;
  cb: PoolCallbacks;
  cancelled: boolean;
}

export class Http2Pool implements ConnectionPool {
  readonly protocol = "Http2";
  readonly #host: Host;
  readonly #cluster: Cluster;
  readonly #resources: ResourceManager;
  readonly #stats: Http2Stats | undefined;
  readonly #conns: Http2ClientConnection[] = [];
  /** Connects in flight, plus connections still waiting for the server's SETTINGS. */
  #connecting = 0;
  readonly #warming = new Set<Http2ClientConnection>();
  #waiters: Waiter[] = [];
  #closed = false;

  constructor(host: Host, cluster: Cluster, resources: ResourceManager, stats?: Http2Stats) {
    this.#host = host;
    this.#cluster = cluster;
    this.#resources = resources;
    this.#stats = stats;
  }

  get activeConnections(): number {
    return this.#conns.length;
  }

  newStream(receiver: ResponseReceiver, cb: PoolCallbacks, fresh = false): PoolCancel | undefined {
    if (this.#closed) {
      cb.onPoolFailure("closed");
      return undefined;
    }
    if (!fresh) {
      const c = this.#pick();
      if (c) {
        this.#attach(c, receiver, cb, true);
        return undefined;
      }
    }
    const w: Waiter = {
      receiver,
      cb,
      cancelled: false,
      cancel: () => {
        w.cancelled = true;
      },
    };
    this.#waiters.push(w);
    if (this.#connecting + this.#warming.size === 0 || fresh) {
      if (!this.#resources.connections.available && this.#conns.length > 0) {
        // At the connection limit: wait for stream capacity on an open connection.
        return w;
      }
      this.#open();
    }
    return w;
  }

  #pick(): Http2ClientConnection | undefined {
    for (const c of this.#conns) if (c.available) return c;
    return undefined;
  }

  #attach(
    c: Http2ClientConnection,
    receiver: ResponseReceiver,
    cb: PoolCallbacks,
    reused: boolean,
  ) {
    c.conn.setIdleTimeout(0);
    cb.onPoolReady(c.newStream(receiver), { reused, localAddress: c.conn.localAddress });
  }

  #open(): void {
    this.#connecting++;
    this.#resources.connections.inc();
    this.#cluster.connect(this.#host, "Http2").then((conn) => {
      this.#connecting--;
      if (this.#closed) {
        this.#resources.connections.dec();
        conn.close("now");
        return;
      }
      const client = new Http2ClientConnection(conn, {
        onCapacity: (c) => this.#onCapacity(c),
        onGoaway: () => this.#serveWaiters(),
      }, this.#stats);
      connectionRegistry.describe(conn, HTTP2_LABEL, () => client.activeStreams);
      this.#conns.push(client);
      this.#warming.add(client);
      conn.onClose(() => {
        if (this.#warming.delete(client)) {
          // Closed before its SETTINGS: not an HTTP/2 server (or it failed); the requests
          // waiting for it fail now instead of reconnecting in a loop.
          this.#failWaiters("upstream closed before HTTP/2 SETTINGS");
        }
        const i = this.#conns.indexOf(client);
        if (i >= 0) this.#conns.splice(i, 1);
        this.#resources.connections.dec();
        if (this.#waiters.length > 0 && !this.#closed) this.#serveWaiters();
      });
      // Waiters are served once the server's SETTINGS arrive (onCapacity).
      conn.start();
    }, (e) => {
      this.#connecting--;
      this.#resources.connections.dec();
      log.debug("http2 pool: connect failed", { host: this.#host.addressText, err: e });
      this.#failWaiters((e as Error).message);
    });
  }

  #failWaiters(why: string): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) if (!w.cancelled) w.cb.onPoolFailure("connection_failure", why);
  }

  /** Hands waiting requests to connections with room; opens one more if still needed. */
  #serveWaiters(fresh?: Http2ClientConnection): void {
    while (this.#waiters.length > 0) {
      const w = this.#waiters[0]!;
      if (w.cancelled) {
        this.#waiters.shift();
        continue;
      }
      const c = fresh?.available ? fresh : this.#pick();
      if (!c) break;
      this.#waiters.shift();
      this.#attach(c, w.receiver, w.cb, c.lastStreamId > 0);
    }
    if (
      this.#waiters.some((w) => !w.cancelled) && this.#connecting + this.#warming.size === 0 &&
      !this.#closed &&
      (this.#resources.connections.available || this.#conns.length === 0)
    ) {
      this.#open();
    }
  }

  #onCapacity(c: Http2ClientConnection): void {
    this.#warming.delete(c);
    if (this.#waiters.length > 0) this.#serveWaiters(c);
    if (c.activeStreams === 0) {
      if (this.#closed) c.goaway();
      else c.conn.setIdleTimeout(IDLE_TIMEOUT_MS);
    }
  }

  drain(): void {
    for (const c of [...this.#conns]) c.goaway();
  }

  close(): void {
    this.#closed = true;
    for (const w of this.#waiters.splice(0)) if (!w.cancelled) w.cb.onPoolFailure("closed");
    for (const c of [...this.#conns]) c.conn.close("now");
  }
}
