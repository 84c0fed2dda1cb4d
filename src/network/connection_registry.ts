/**
 * The live connections of this process, downstream (accepted by a listener) and upstream
 * (opened by a cluster), for the admin API and the console. Registration happens once per
 * connection (accept / connect); nothing here runs per read or write: byte counts are read from
 * the Connection when a listing is asked for.
 */

import { IdTable } from "../common/id_table.ts";
import type { Connection } from "./connection.ts";

/**
 * Protocol labels of HTTP connections, as the request's `%PROTOCOL%` spells them (RPC and TCP
 * connections carry their config names: "bolt", "dubbo", "TCP").
 */
export const HTTP1_LABEL = "HTTP/1.1";
export const HTTP2_LABEL = "HTTP/2";

export type ConnectionDirection = "downstream" | "upstream";

export interface ConnectionEntry {
  readonly conn: Connection;
  readonly direction: ConnectionDirection;
  /** The listener (downstream) or cluster (upstream) name. */
  readonly owner: string;
  /** Upstream: the host's configured "ip:port". */
  readonly host: string | undefined;
  /** Set by the layer that speaks on the connection ("HTTP/2", "bolt", "TCP", …); "" until known. */
  protocol: string;
  /** Streams (requests) in flight, read on demand; undefined when the layer does not say. */
  activeStreams: (() => number) | undefined;
}

export class ConnectionRegistry {
  /** By connection id; an IdTable, not a Map: see src/common/id_table.ts. */
  readonly #entries = new IdTable<ConnectionEntry>();

  /** Adds a connection; call {@link remove} from the connection's close handler. */
  add(
    conn: Connection,
    direction: ConnectionDirection,
    owner: string,
    host?: string,
  ): ConnectionEntry {
    const e: ConnectionEntry = {
      conn,
      direction,
      owner,
      host,
      protocol: "",
      activeStreams: undefined,
    };
    this.#entries.set(conn.id, e);
    return e;
  }

  remove(conn: Connection): void {
    if (this.#entries.get(conn.id)?.conn === conn) this.#entries.delete(conn.id);
  }

  /** Labels a registered connection with its protocol and an in-flight stream count. */
  describe(conn: Connection, protocol: string, activeStreams?: () => number): void {
    const e = this.get(conn);
    if (!e) return;
    e.protocol = protocol;
    e.activeStreams = activeStreams;
  }

  get(conn: Connection): ConnectionEntry | undefined {
    const e = this.#entries.get(conn.id);
    return e?.conn === conn ? e : undefined;
  }

  /** A copy, oldest connection first. */
  entries(): ConnectionEntry[] {
    return this.#entries.values();
  }

  get size(): number {
    return this.#entries.size;
  }
}

/**
 * The process-wide registry (one MosnServer per process in production; in-process tests that run
 * several servers see each other's connections here).
 */
export const connectionRegistry: ConnectionRegistry = new ConnectionRegistry();
