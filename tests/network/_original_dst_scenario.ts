/**
 * Helper processes for tests/network/original_dst.test.ts, each run inside a network namespace
 * with `ip netns exec <ns> deno run -A tests/network/_original_dst_scenario.ts <role> …`:
 *
 *   echo <host> <port>…   echo servers; each connection first gets "echo <host>:<port>\n"
 *   proxy <config.json>    mosn.ts in-process with an extra network filter `report_dst` that
 *                          writes one JSON line (listener, original destination, local address)
 *                          to each new downstream connection
 *   client <host> <port> <payload>
 *                          connects, sends payload ("x*N": N bytes), half-closes, prints what
 *                          came back as JSON
 *
 * Servers print READY once listening and exit when their stdin closes, so they never outlive
 * the test. Every wait is bounded.
 */

import { FilterStatus } from "../../src/network/connection.ts";
import { formatAddress } from "../../src/network/address.ts";
import { networkFilters } from "../../src/filter/network/registry.ts";
import type { NetworkFilterFactory } from "../../src/filter/network/types.ts";
import { parseConfig } from "../../src/config/parse.ts";
import { PARSE_OPTIONS } from "../../src/server/parse_options.ts";
import { MosnServer } from "../../src/server/server.ts";
import { log } from "../../src/common/logger.ts";

const enc = new TextEncoder();

async function untilStdinCloses(): Promise<void> {
  const buf = new Uint8Array(64);
  try {
    while ((await Deno.stdin.read(buf)) !== null) { /* keep waiting */ }
  } catch { /* closed */ }
}

async function writeAll(c: Deno.Conn, b: Uint8Array): Promise<void> {
  for (let off = 0; off < b.length;) off += await c.write(b.subarray(off));
}

async function echo(host: string, ports: number[]): Promise<void> {
  const listeners = ports.map((port) => Deno.listen({ hostname: host, port }));
  for (const l of listeners) {
    const { port } = l.addr as Deno.NetAddr;
    (async () => {
      for await (const c of l) {
        (async () => {
          try {
            await writeAll(c, enc.encode(`echo ${host}:${port}\n`));
            const buf = new Uint8Array(16 * 1024);
            for (let n; (n = await c.read(buf)) !== null;) await writeAll(c, buf.subarray(0, n));
            await c.closeWrite();
          } catch {
            /* peer gone */
          } finally {
            try {
              c.close();
            } catch { /* closed */ }
          }
        })();
      }
    })().catch(() => {});
  }
  console.log("READY");
  await untilStdinCloses();
  for (const l of listeners) l.close();
  Deno.exit(0);
}

const reportDst: NetworkFilterFactory = {
  type: "report_dst",
  parseConfig(r) {
    r.done();
    return {};
  },
  prepare(_cfg, deps) {
    return (conn) => {
      conn.addReadFilter({
        onNewConnection() {
          const od = conn.originalDestination;
          conn.write(enc.encode(
            JSON.stringify({
              listener: deps.listenerName,
              originalDestination: od ? formatAddress(od) : "",
              local: conn.localAddress,
            }) + "\n",
          ));
          return FilterStatus.Continue;
        },
        onData: () => FilterStatus.Continue,
      });
    };
  },
};

async function proxy(configFile: string): Promise<void> {
  networkFilters.register(reportDst.type, reportDst);
  const doc = JSON.parse(await Deno.readTextFile(configFile));
  const { config } = parseConfig(doc, PARSE_OPTIONS);
  log.setLevel("WARN");
  const server = new MosnServer(config, { noAdmin: true, logger: log });
  server.start();
  console.log("READY");
  await untilStdinCloses();
  await server.stop("fast");
  Deno.exit(0);
}

async function client(host: string, port: number, payload: string): Promise<void> {
  const timer = setTimeout(() => {
    console.log(JSON.stringify({ error: "timeout" }));
    Deno.exit(2);
  }, 10_000);
  const c = await Deno.connect({ hostname: host, port });
  await writeAll(c, enc.encode(payload));
  await c.closeWrite();
  const dec = new TextDecoder();
  let text = "";
  const buf = new Uint8Array(16 * 1024);
  for (let n; (n = await c.read(buf)) !== null;) {
    text += dec.decode(buf.subarray(0, n), { stream: true });
  }
  c.close();
  clearTimeout(timer);
  console.log(JSON.stringify({ text }));
}

const [role, ...args] = Deno.args;
if (role === "echo") await echo(args[0]!, args.slice(1).map(Number));
else if (role === "proxy") await proxy(args[0]!);
else if (role === "client") {
  // "x*N" stands for N bytes of "x" (too long for an argument).
  const p = args[2] ?? "";
  const m = /^x\*(\d+)$/.exec(p);
  await client(args[0]!, Number(args[1]), m ? "x".repeat(Number(m[1])) : p);
} else {
  console.error(`unknown role ${role}`);
  Deno.exit(64);
}
