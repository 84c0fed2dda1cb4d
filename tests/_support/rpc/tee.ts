/**
 * A TCP tee on 127.0.0.1: forwards every connection to `targetPort` and records the bytes each
 * way, so a test can capture what a real client or server put on the wire.
 */

import { concat } from "../net.ts";

export interface TeeConnection {
  /** client → target bytes so far */
  readonly up: Uint8Array;
  /** target → client bytes so far */
  readonly down: Uint8Array;
}

export interface Tee {
  readonly port: number;
  readonly address: string;
  readonly connections: TeeConnection[];
  /** All client → target bytes of all connections, concatenated in connection order. */
  upBytes(): Uint8Array;
  close(): Promise<void>;
}

async function pump(from: Deno.Conn, to: Deno.Conn, record: Uint8Array[]): Promise<void> {
  const buf = new Uint8Array(64 * 1024);
  try {
    for (;;) {
      const n = await from.read(buf);
      if (n === null) break;
      const chunk = buf.slice(0, n);
      record.push(chunk);
      let off = 0;
      while (off < n) off += await to.write(chunk.subarray(off));
    }
    await (to as Deno.TcpConn).closeWrite();
  } catch {
    // either side closed
  }
}

/** Starts a tee to 127.0.0.1:`targetPort`. */
export function startTee(targetPort: number): Tee {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const connections: TeeConnection[] = [];
  const open = new Set<Deno.Conn>();
  const tasks = new Set<Promise<void>>();
  const loop = (async () => {
    for (;;) {
      let client: Deno.Conn;
      try {
        client = await listener.accept();
      } catch {
        return;
      }
      const task = (async () => {
        let upstream: Deno.Conn;
        try {
          upstream = await Deno.connect({ hostname: "127.0.0.1", port: targetPort });
        } catch {
          client.close();
          return;
        }
        open.add(client);
        open.add(upstream);
        const up: Uint8Array[] = [];
        const down: Uint8Array[] = [];
        connections.push({
          get up() {
            return concat(up);
          },
          get down() {
            return concat(down);
          },
        });
        await Promise.all([pump(client, upstream, up), pump(upstream, client, down)]);
        for (const c of [client, upstream]) {
          open.delete(c);
          try {
            c.close();
          } catch { /* closed */ }
        }
      })();
      tasks.add(task);
      task.finally(() => tasks.delete(task));
    }
  })();
  return {
    port,
    address: `127.0.0.1:${port}`,
    connections,
    upBytes: () => concat(connections.map((c) => c.up)),
    async close() {
      listener.close();
      await loop;
      for (const c of open) {
        try {
          c.close();
        } catch { /* closed */ }
      }
      await Promise.allSettled([...tasks]);
    },
  };
}
