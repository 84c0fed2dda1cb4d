/**
 * HTTP/1.1 connection pool for one host: reuses idle keep-alive connections (most recent
 * first), opens new ones up to the cluster's max_connections, queues requests beyond that up
 * to max_pending_requests, and answers overflow past both.
 */

import { log } from "../../common/logger.ts";
import { connectionRegistry, HTTP1_LABEL } from "../../network/connection_registry.ts";
import { Http1ClientConnection } from "../../stream/http1/client_connection.ts";
import type { ResponseReceiver } from "../../stream/types.ts";
import type { ResourceManager } from "../resource_manager.ts";
import type { Cluster, Host } from "../types.ts";
import type { ConnectionPool, PoolCallbacks, PoolCancel } from "./types.ts";

/** Idle upstream connections close after this long unused. */
const DEFAULT_IDLE_TIMEOUT_MS = 60_000;

interface Waiter extends PoolCancel {
  receiver: ResponseReceiver;
  cb: PoolCallbacks;
  cancelled: boolean;
  /** Counted against max_pending_requests (queued with no connection slot free). */
  counted: boolean;
}

export class Http1Pool implements ConnectionPool {
  readonly protocol = "Http1";
  readonly #host: Host;
  readonly #cluster: Cluster;
  readonly #resources: ResourceManager;
  readonly #idleTimeoutMs: number;
  readonly #idle: Http1ClientConnection[] = [];
  readonly #all = new Set<Http1ClientConnection>();
  #connecting = 0;
  #waiters: Waiter[] = [];
  #closed = false;

  constructor(
    host: Host,
    cluster: Cluster,
    resources: ResourceManager,
    idleTimeoutMs = DEFAULT_IDLE_TIMEOUT_MS,
  ) {
    this.#host = host;
    this.#cluster = cluster;
    this.#resources = resources;
    this.#idleTimeoutMs = idleTimeoutMs;
  }

  get activeConnections(): number {
    return this.#all.size;
  }

  newStream(receiver: ResponseReceiver, cb: PoolCallbacks, fresh = false): PoolCancel | undefined {
    if (this.#closed) {
      cb.onPoolFailure("closed");
      return undefined;
    }
    if (!fresh) {
      const c = this.#idle.pop();
      if (c) {
        this.#attach(c, receiver, cb, true);
        return undefined;
      }
    }
    if (this.#resources.connections.available) {
      const w = this.#waiter(receiver, cb);
      this.#waiters.push(w);
      this.#open();
      return w;
    }
    if (!this.#resources.pendingRequests.available) {
      cb.onPoolFailure("overflow");
      return undefined;
    }
    const w = this.#waiter(receiver, cb);
    w.counted = true;
    this.#resources.pendingRequests.inc();
    this.#waiters.push(w);
    return w;
  }

  #waiter(receiver: ResponseReceiver, cb: PoolCallbacks): Waiter {
    const w: Waiter = {
      receiver,
      cb,
      cancelled: false,
      counted: false,
      cancel: () => {
        if (w.cancelled) return;
        w.cancelled = true;
        const i = this.#waiters.indexOf(w);
        if (i >= 0) this.#waiters.splice(i, 1);
        if (w.counted) this.#resources.pendingRequests.dec();
      },
    };
    return w;
  }

  #attach(
    c: Http1ClientConnection,
    receiver: ResponseReceiver,
    cb: PoolCallbacks,
    reused: boolean,
  ) {
    c.conn.setIdleTimeout(0);
    const stream = c.newStream(receiver);
    cb.onPoolReady(stream, { reused, localAddress: c.conn.localAddress });
  }

  #open(): void {
    this.#connecting++;
    this.#resources.connections.inc();
    this.#cluster.connect(this.#host, "Http1").then((conn) => {
      this.#connecting--;
      const client = new Http1ClientConnection(conn, {
        onIdle: (c) => this.#onIdle(c),
        onClose: (c) => this.#onClose(c),
      });
      this.#all.add(client);
      connectionRegistry.describe(conn, HTTP1_LABEL, () => client.busy ? 1 : 0);
      conn.start();
      if (this.#closed) {
        conn.close("now");
        return;
      }
      this.#onIdle(client, false);
    }, (e) => {
      this.#connecting--;
      this.#resources.connections.dec();
      // The first waiter gets the failure; the others keep waiting for other connections.
      const w = this.#nextWaiter();
      log.debug("http1 pool: connect failed", { host: this.#host.addressText, err: e });
      w?.cb.onPoolFailure("connection_failure", (e as Error).message);
      if (this.#waiters.length > this.#connecting && this.#resources.connections.available) {
        this.#open();
      }
    });
  }

  #nextWaiter(): Waiter | undefined {
    for (;;) {
      const w = this.#waiters.shift();
      if (!w) return undefined;
      if (w.cancelled) continue;
      if (w.counted) this.#resources.pendingRequests.dec();
      w.cancelled = true;
      return w;
    }
  }

  #onIdle(c: Http1ClientConnection, reused = true): void {
    if (this.#closed || c.conn.closed) return;
    const w = this.#nextWaiter();
    if (w) {
      this.#attach(c, w.receiver, w.cb, reused);
      return;
    }
    c.conn.setIdleTimeout(this.#idleTimeoutMs);
    this.#idle.push(c);
  }

  #onClose(c: Http1ClientConnection): void {
    if (!this.#all.delete(c)) return;
    this.#resources.connections.dec();
    const i = this.#idle.indexOf(c);
    if (i >= 0) this.#idle.splice(i, 1);
    // A slot freed: a queued request may now get a connection.
    if (
      !this.#closed && this.#waiters.length > this.#connecting &&
      this.#resources.connections.available
    ) {
      this.#open();
    }
  }

  drain(): void {
    for (const c of this.#idle.splice(0)) c.conn.close("now");
  }

  close(): void {
    this.#closed = true;
    for (const w of this.#waiters.splice(0)) {
      if (!w.cancelled) w.cb.onPoolFailure("closed");
    }
    for (const c of [...this.#all]) c.conn.close("now");
  }
}
