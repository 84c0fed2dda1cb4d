/**
 * Continuous load for the reload and upgrade tests: a keep-alive HTTP client (node:http with a
 * keep-alive Agent), a connect-per-request HTTP client (every request on a new TCP connection,
 * so a refused or reset connection shows), and a sofa-rpc-node RpcClient calling every 10 ms
 * on its one long-lived connection. Each counts successes and failures and keeps samples of
 * the errors.
 */

import http from "node:http";
import sofaRpc from "sofa-rpc-node";
import { HELLO_SERVICE, HELLO_VERSION, javaArg, quietLogger } from "../_support/rpc/sofa.ts";
import { readAll, writeAll } from "../_support/net.ts";

export interface LoadResult {
  ok: number;
  failed: number;
  /** Connections refused (connect-per-request only). */
  refused: number;
  /** Up to 10 error messages, each with when it happened. */
  errors: string[];
  /** Response bodies in order (HTTP), for route checks. */
  bodies: string[];
}

export interface Load {
  readonly result: LoadResult;
  /** Stops and resolves when every worker has finished its current request. */
  stop(): Promise<LoadResult>;
}

function newResult(): LoadResult {
  return { ok: 0, failed: 0, refused: 0, errors: [], bodies: [] };
}

function fail(r: LoadResult, e: unknown): void {
  r.failed++;
  if (r.errors.length < 10) {
    const what = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    r.errors.push(`${new Date().toISOString()} ${what}`);
  }
}

function run(
  workers: number,
  loop: (r: LoadResult, running: () => boolean) => Promise<void>,
): Load {
  const result = newResult();
  let running = true;
  const all = Promise.all(Array.from({ length: workers }, () => loop(result, () => running)));
  return {
    result,
    async stop() {
      running = false;
      await all;
      return result;
    },
  };
}

/** `workers` sequential keep-alive clients sharing one node:http Agent. */
export function keepAliveLoad(port: number, workers = 2): Load {
  const agent = new http.Agent({ keepAlive: true, maxSockets: workers });
  const get = () =>
    new Promise<[number, string]>((resolve, reject) => {
      const req = http.get({ host: "127.0.0.1", port, path: "/", agent }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (body += c));
        res.on("end", () => resolve([res.statusCode ?? 0, body]));
        res.on("error", reject);
      });
      req.on("error", reject);
      req.setTimeout(10_000, () => req.destroy(new Error("timeout")));
    });
  const load = run(workers, async (r, running) => {
    while (running()) {
      try {
        const [status, body] = await get();
        if (status === 200) r.ok++;
        else fail(r, new Error(`status ${status}`));
        r.bodies.push(body);
      } catch (e) {
        fail(r, e);
      }
    }
  });
  return {
    result: load.result,
    async stop() {
      const r = await load.stop();
      agent.destroy();
      return r;
    },
  };
}

const REQUEST = new TextEncoder().encode(
  "GET / HTTP/1.1\r\nHost: load\r\nConnection: close\r\n\r\n",
);
const decoder = new TextDecoder();

/** `workers` clients each opening a new connection per request (Connection: close). */
export function connectLoad(port: number, workers = 2): Load {
  return run(workers, async (r, running) => {
    while (running()) {
      let conn: Deno.Conn;
      try {
        conn = await Deno.connect({ hostname: "127.0.0.1", port });
      } catch (e) {
        if (e instanceof Deno.errors.ConnectionRefused) r.refused++;
        fail(r, e);
        continue;
      }
      try {
        await writeAll(conn, REQUEST);
        const text = decoder.decode(await readAll(conn));
        if (text.startsWith("HTTP/1.1 200")) r.ok++;
        else fail(r, new Error(`bad response ${JSON.stringify(text.slice(0, 40))}`));
      } catch (e) {
        fail(r, e);
      } finally {
        try {
          conn.close();
        } catch { /* closed */ }
      }
    }
  });
}

/**
 * A sofa-rpc-node RpcClient (direct mode) calling HelloService.sayHello every `intervalMs` on
 * its one connection (the client opens a new one only when that one closes).
 */
export function boltLoad(address: string, intervalMs = 10): Load {
  const logger = quietLogger();
  // deno-lint-ignore no-explicit-any
  const client = new sofaRpc.client.RpcClient({ logger }) as any;
  client.on("error", () => {});
  const consumer = client.createConsumer({
    interfaceName: HELLO_SERVICE,
    version: HELLO_VERSION,
    serverHost: address,
  });
  const load = run(1, async (r, running) => {
    await consumer.ready();
    let i = 0;
    while (running()) {
      const started = Date.now();
      try {
        const v = await consumer.invoke("sayHello", [javaArg(`n${i++}`)], {
          responseTimeout: 5000,
        });
        if (typeof v === "string" && v.startsWith("hello ")) r.ok++;
        else fail(r, new Error(`bad answer ${JSON.stringify(v)}`));
      } catch (e) {
        fail(r, e);
      }
      const wait = intervalMs - (Date.now() - started);
      if (wait > 0) await new Promise((res) => setTimeout(res, wait));
    }
  });
  return {
    result: load.result,
    async stop() {
      const r = await load.stop();
      await client.close();
      return r;
    },
  };
}

/** boltLoad in a child process; resolves with its result after `ms`. */
export function boltLoadProcess(address: string, ms: number): Promise<LoadResult> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("./_bolt_client.ts", import.meta.url).pathname, address, `${ms}`],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  return child.then((o) => {
    const text = new TextDecoder().decode(o.stdout).trim();
    if (!o.success || !text) throw new Error(`bolt client process failed (${o.code})`);
    return JSON.parse(text.split("\n").at(-1)!) as LoadResult;
  });
}

/**
 * The three loads of the reload and upgrade tests at once: keep-alive and connect-per-request
 * HTTP on `httpPort`, and the bolt client (in a process of its own, as a client application
 * would be) on `rpcPort` for `ms`.
 */
export class MixedLoad {
  readonly keepAlive: Load;
  readonly connect: Load;
  readonly bolt: Promise<LoadResult>;

  constructor(httpPort: number, rpcPort: number, ms: number) {
    this.keepAlive = keepAliveLoad(httpPort);
    this.connect = connectLoad(httpPort);
    this.bolt = boltLoadProcess(`127.0.0.1:${rpcPort}`, ms);
  }

  /** Stops the HTTP loads, waits for the bolt run's end, and sums all three up in one line. */
  async results(
    extra: Record<string, unknown> = {},
  ): Promise<{ keepAlive: LoadResult; connect: LoadResult; bolt: LoadResult; summary: string }> {
    const r = {
      keepAlive: await this.keepAlive.stop(),
      connect: await this.connect.stop(),
      bolt: await this.bolt,
    };
    const summary = JSON.stringify({
      ...extra,
      keepAlive: { ok: r.keepAlive.ok, failed: r.keepAlive.failed, errors: r.keepAlive.errors },
      connect: {
        ok: r.connect.ok,
        failed: r.connect.failed,
        refused: r.connect.refused,
        errors: r.connect.errors,
      },
      bolt: { ok: r.bolt.ok, failed: r.bolt.failed, errors: r.bolt.errors },
    });
    return { ...r, summary };
  }

  /** For `finally`: stops everything, ignoring the bolt run's failure. */
  async close(): Promise<void> {
    await Promise.all([this.keepAlive.stop(), this.connect.stop()]);
    await this.bolt.catch(() => {});
  }
}
