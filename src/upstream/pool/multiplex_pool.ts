/**
 * Connection pool for multiplexed RPC: one upstream connection per host (MOSN's default)
 * carries every request; it is opened on first use and reopened after it closes.
 */

import { log } from "../../common/logger.ts";
import { connectionRegistry } from "../../network/connection_registry.ts";
import type { XProtocol } from "../../protocol/xprotocol/types.ts";
import { XClientConnection } from "../../stream/xprotocol/client_connection.ts";
import type { ResponseReceiver } from "../../stream/types.ts";
import type { Cluster, Host } from "../types.ts";
import type { ConnectionPool, PoolCallbacks, PoolCancel } from "./types.ts";

interface Waiter extends PoolCancel {
  receiver: ResponseReceiver;
  cb: PoolCallbacks;
  cancelled: boolean;
}

export class MultiplexPool implements ConnectionPool {
  readonly protocol: string;
  readonly #host: Host;
  readonly #cluster: Cluster;
  readonly #proto: XProtocol;
  #client: XClientConnection | undefined;
  #connecting = false;
  #waiters: Waiter[] = [];
  #closed = false;

  constructor(host: Host, cluster: Cluster, proto: XProtocol) {
    this.#host = host;
    this.#cluster = cluster;
    this.#proto = proto;
    this.protocol = proto.name;
  }

  get activeConnections(): number {
    return this.#client ? 1 : 0;
  }

  newStream(receiver: ResponseReceiver, cb: PoolCallbacks): PoolCancel | undefined {
    if (this.#closed) {
      cb.onPoolFailure("closed");
      return undefined;
    }
    const c = this.#client;
    if (c && !c.conn.closed) {
      cb.onPoolReady(c.newStream(receiver), { reused: true, localAddress: c.conn.localAddress });
      return undefined;
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
    if (!this.#connecting) this.#open();
    return w;
  }

  #open(): void {
    this.#connecting = true;
    this.#cluster.connect(this.#host).then((conn) => {
      this.#connecting = false;
      if (this.#closed) {
        conn.close("now");
        return;
      }
      const client = new XClientConnection(conn, this.#proto);
      this.#client = client;
      connectionRegistry.describe(conn, this.#proto.name, () => client.inflight);
      conn.onClose(() => {
        if (this.#client === client) this.#client = undefined;
      });
      conn.start();
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const w of waiters) {
        if (!w.cancelled) {
          w.cb.onPoolReady(client.newStream(w.receiver), {
            reused: false,
            localAddress: conn.localAddress,
          });
        }
      }
    }, (e) => {
      this.#connecting = false;
      log.debug("multiplex pool: connect failed", { host: this.#host.addressText, err: e });
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const w of waiters) {
        if (!w.cancelled) w.cb.onPoolFailure("connection_failure", (e as Error).message);
      }
    });
  }

  drain(): void {
    const c = this.#client;
    if (!c) return;
    if (c.inflight === 0) c.conn.close("flush");
    else c.onDrained(() => c.conn.close("flush"));
  }

  close(): void {
    this.#closed = true;
    for (const w of this.#waiters.splice(0)) if (!w.cancelled) w.cb.onPoolFailure("closed");
    this.#client?.conn.close("now");
  }
}
