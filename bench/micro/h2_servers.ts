/**
 * The measurement behind docs/design/http2.md: the same h2c "hello" server three ways — this
 * project's codec (src/stream/http2) on a Connection, `node:http2` under Deno, and Deno.serve
 * (h2c prior knowledge) — each loaded by h2load on cpu0 while the server runs on cpu1.
 * Run: `./deno run -A --unstable-net bench/micro/h2_servers.ts [seconds]`.
 */

import http2 from "node:http2";
import { Connection } from "../../src/network/connection.ts";
import { HeaderMap } from "../../src/protocol/header_map.ts";
import { Http2ServerConnection } from "../../src/stream/http2/server_connection.ts";
import type { RequestReceiver, ServerStream } from "../../src/stream/types.ts";
import { h2load } from "../lib/h2load.ts";

const kind = Deno.args[0];
const HELLO = new TextEncoder().encode("hello");

if (kind === "own" || kind === "node" || kind === "deno") {
  // Child mode: serve on the port given and wait to be killed.
  const port = Number(Deno.args[1]);
  if (kind === "own") {
    const l = Deno.listen({ hostname: "127.0.0.1", port });
    const answer = (s: ServerStream): RequestReceiver => ({
      onRequestHeaders(_req, end) {
        if (!end) return;
        const h = new HeaderMap(["content-type", "text/plain", "content-length", "5"]);
        s.sendResponseHeaders({ status: 200, reason: "", headers: h, contentLength: 5 }, false);
        s.sendResponseData(HELLO, true);
      },
      onRequestData() {
        return undefined;
      },
      onRequestTrailers() {},
      onResetStream() {},
    });
    for await (const raw of l) {
      const c = new Connection(raw);
      c.addReadFilter(new Http2ServerConnection(c, answer));
      c.start();
    }
  } else if (kind === "node") {
    const server = http2.createServer();
    server.on("stream", (s) => {
      const stream = s as http2.ServerHttp2Stream;
      stream.respond({ ":status": 200, "content-type": "text/plain", "content-length": "5" });
      stream.end("hello");
    });
    server.listen(port, "127.0.0.1");
  } else {
    Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, () => new Response("hello"));
  }
} else {
  const seconds = Number(kind ?? "5");
  const port = 31990;
  for (const k of ["own", "node", "deno"]) {
    const child = new Deno.Command("taskset", {
      args: [
        "-c",
        "1",
        Deno.execPath(),
        "run",
        "-A",
        "--unstable-net",
        import.meta.filename!,
        k,
        String(port),
      ],
      stdout: "null",
      stderr: "inherit",
    }).spawn();
    await new Promise((r) => setTimeout(r, 1500));
    const load = await h2load(
      "0",
      `http://127.0.0.1:${port}/`,
      seconds,
      [],
      Deno.makeTempFileSync({ suffix: ".tsv" }),
    );
    console.log(`${k.padEnd(5)} ${load.rps} req/s (${load.requests} succeeded)`);
    child.kill("SIGKILL");
    await child.status;
  }
}
