import assert from "node:assert/strict";
import http2 from "node:http2";
import { startInProcess } from "../_support/mosn.ts";
import { httpDoc, origin, rawExchange, simpleRouter } from "../_support/http.ts";
import { concat, echoServer, tcpServer, writeAll } from "../_support/net.ts";
import { h2Origin, run } from "../_support/h2.ts";
import { waitFor } from "../_support/wait.ts";

function proxy(address: string, down: string, up: string, extra: Record<string, unknown> = {}) {
  return startInProcess(
    httpDoc({
      clusters: [{ name: "o", hosts: [{ address }] }],
      routers: [simpleRouter([{ match: { prefix: "/" }, route: { cluster_name: "o" } }])],
      proxy: { downstream_protocol: down, upstream_protocol: up, ...extra },
    }),
    { admin: true },
  );
}

/** An h2c origin answering with its method, path, authority and body, plus a trailer. */
function echoH2() {
  return h2Origin((stream, headers) => {
    const chunks: Uint8Array[] = [];
    stream.on("data", (c: Uint8Array) => chunks.push(c));
    stream.on("end", () => {
      const body = new TextDecoder().decode(concat(chunks));
      stream.respond({ ":status": 200, "x-origin": "h2" }, { waitForTrailers: true });
      stream.on("wantTrailers", () => stream.sendTrailers({ "x-trailer": "t1" }));
      stream.end(`${headers[":method"]} ${headers[":path"]} ${headers[":authority"]} ${body}`);
    });
  });
}

Deno.test("http2: h2c client (curl, nghttp) to an HTTP/1.1 upstream", async () => {
  const o = origin(async (req) =>
    new Response(`${req.method} ${new URL(req.url).pathname} ${req.headers.get("host")} ${await req
      .text()}`)
  );
  const mosn = proxy(o.address, "Http2", "Http1");
  const port = mosn.listenerPort("http");
  try {
    const get = await run("curl", ["-sS", "--http2-prior-knowledge", `http://127.0.0.1:${port}/a`]);
    assert.equal(get.stdout, `GET /a 127.0.0.1:${port} `);
    const post = await run("curl", [
      "-sS",
      "--http2-prior-knowledge",
      "-d",
      "payload",
      `http://127.0.0.1:${port}/p`,
    ]);
    assert.equal(post.stdout, `POST /p 127.0.0.1:${port} payload`);
    // nghttp: several streams at once on one connection.
    const n = await run("nghttp", [
      "-n",
      "-s",
      "-m",
      "20",
      `http://127.0.0.1:${port}/m`,
    ]);
    assert.equal(n.code, 0, n.stderr);
    assert.equal(o.requests, 22);
  } finally {
    await mosn.stop("fast");
    await o.close();
  }
});

Deno.test("http2: HTTP/1.1 client to an h2c upstream, trailers as chunked trailers", async () => {
  const o = await echoH2();
  const mosn = proxy(o.address, "Http1", "Http2");
  const port = mosn.listenerPort("http");
  try {
    const r = await run("curl", ["-sS", "-i", "--raw", "-d", "b0dy", `http://127.0.0.1:${port}/x`]);
    assert.match(r.stdout, /^HTTP\/1\.1 200/);
    assert.match(r.stdout, /x-origin: h2/);
    assert.match(r.stdout, /transfer-encoding: chunked/i);
    assert.match(
      r.stdout,
      new RegExp(`POST /x 127\\.0\\.0\\.1:${port} b0dy\\r\\n0\\r\\nx-trailer: t1`),
    );
    // Keep-alive client, several requests: all multiplexed on one upstream connection.
    const many = await run("curl", [
      "-sS",
      ...Array.from({ length: 5 }, (_, i) => `http://127.0.0.1:${port}/k${i}`),
    ]);
    assert.match(many.stdout, /GET \/k4/);
  } finally {
    await mosn.stop("fast");
    await o.close();
  }
});

Deno.test("http2: h2c to h2c with trailers, large bodies both ways, one upstream connection", async () => {
  const o = await h2Origin((stream, headers) => {
    const chunks: Uint8Array[] = [];
    stream.on("data", (c: Uint8Array) => chunks.push(c));
    stream.on("end", () => {
      const body = concat(chunks);
      stream.respond({ ":status": 200, "x-len": String(body.byteLength) }, {
        waitForTrailers: true,
      });
      stream.on("wantTrailers", () => stream.sendTrailers({ "x-trailer": "t1" }));
      if (headers[":path"] === "/big") stream.end(new Uint8Array(3 * 1024 * 1024).fill(97));
      else stream.end(`${headers[":method"]} ${headers[":path"]}`);
    });
  });
  const mosn = proxy(o.address, "Http2", "Http2");
  const port = mosn.listenerPort("http");
  const dir = await Deno.makeTempDir();
  try {
    const r = await run("curl", [
      "-sS",
      "-i",
      "--http2-prior-knowledge",
      `http://127.0.0.1:${port}/t`,
    ]);
    assert.match(r.stdout, /^HTTP\/2 200/);
    assert.match(r.stdout, /GET \/t/);
    assert.match(r.stdout, /x-trailer: t1/);
    // 2 MiB up, 3 MiB down (several flow-control windows each way).
    await Deno.writeFile(`${dir}/up`, new Uint8Array(2 * 1024 * 1024).fill(98));
    const big = await run("curl", [
      "-sS",
      "-D",
      "-",
      "-o",
      `${dir}/down`,
      "--http2-prior-knowledge",
      "--data-binary",
      `@${dir}/up`,
      `http://127.0.0.1:${port}/big`,
    ]);
    assert.match(big.stdout, /x-len: 2097152/);
    assert.equal((await Deno.stat(`${dir}/down`)).size, 3 * 1024 * 1024);
    const load = await run("h2load", [
      "-n",
      "400",
      "-c",
      "4",
      "-m",
      "10",
      `http://127.0.0.1:${port}/h`,
    ]);
    assert.match(load.stdout, /400 succeeded/);
    // Every stream above rode one upstream connection.
    assert.equal(o.sessionsOpened(), 1);
    const stats = await (await fetch(`http://127.0.0.1:${mosn.adminPort}/api/v1/stats`)).json();
    for (const key of ["listener.http", "cluster.o"]) {
      assert.equal(stats.http2[key].stream_total, "402", key);
      assert.equal(stats.http2[key].stream_active, "0", key);
    }
  } finally {
    await mosn.stop("fast");
    await o.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("http2: Auto detects the HTTP/2 preface and HTTP/1 on one port", async () => {
  const o = origin((req) => new Response(`up ${req.method} ${new URL(req.url).pathname}`));
  const mosn = startInProcess(httpDoc({
    clusters: [{ name: "o", hosts: [{ address: o.address }] }],
    routers: [
      simpleRouter([{
        match: { prefix: "/" },
        route: { cluster_name: "o", upstream_protocol: "Http1" },
      }]),
    ],
    proxy: { downstream_protocol: "Auto" },
  }));
  const port = mosn.listenerPort("http");
  try {
    const h2 = await run("curl", [
      "-sS",
      "-w",
      " %{http_version}",
      "--http2-prior-knowledge",
      `http://127.0.0.1:${port}/two`,
    ]);
    assert.equal(h2.stdout, "up GET /two 2");
    const h1 = await run("curl", ["-sS", "-w", " %{http_version}", `http://127.0.0.1:${port}/one`]);
    assert.equal(h1.stdout, "up GET /one 1.1");
  } finally {
    await mosn.stop("fast");
    await o.close();
  }
});

Deno.test("http2: fallback_for_unknown_protocol hands unknown bytes to a following tcp_proxy", async () => {
  const o = origin(() => new Response("via http"));
  const echo = echoServer();
  const doc = httpDoc({
    clusters: [
      { name: "o", hosts: [{ address: o.address }] },
      { name: "raw", hosts: [{ address: `127.0.0.1:${echo.port}` }] },
    ],
    routers: [simpleRouter([{ match: { prefix: "/" }, route: { cluster_name: "o" } }])],
    proxy: {
      downstream_protocol: "Auto",
      upstream_protocol: "Http1",
      fallback_for_unknown_protocol: true,
    },
  });
  // deno-lint-ignore no-explicit-any -- test document surgery
  const chain = (doc as any).servers[0].listeners[0].filter_chains[0].filters;
  chain.push({ type: "tcp_proxy", config: { cluster: "raw" } });
  const mosn = startInProcess(doc);
  const port = mosn.listenerPort("http");
  try {
    const raw = await rawExchange(port, "\x00\x01 not a protocol we know\n");
    assert.equal(raw, "\x00\x01 not a protocol we know\n");
    const h2 = await run("curl", ["-sS", "--http2-prior-knowledge", `http://127.0.0.1:${port}/`]);
    assert.equal(h2.stdout, "via http");
    const h1 = await run("curl", ["-sS", `http://127.0.0.1:${port}/`]);
    assert.equal(h1.stdout, "via http");
  } finally {
    await mosn.stop("fast");
    await o.close();
    await echo.close();
  }
});

Deno.test("http2: graceful stop sends GOAWAY and lets the open stream finish", async () => {
  const o = origin(async () => {
    await new Promise((r) => setTimeout(r, 300));
    return new Response("finished");
  });
  const mosn = proxy(o.address, "Http2", "Http1");
  const port = mosn.listenerPort("http");
  const client = http2.connect(`http://127.0.0.1:${port}`);
  try {
    const goaway = new Promise<number>((r) => client.once("goaway", (code: number) => r(code)));
    const req = client.request({ ":path": "/slow" });
    const body = new Promise<string>((resolve, reject) => {
      let text = "";
      req.setEncoding("utf8");
      req.on("data", (c: string) => (text += c));
      req.on("end", () => resolve(text));
      req.on("error", reject);
    });
    await waitFor(() => o.requests === 1, "the request to reach the origin");
    const stopped = mosn.stop("graceful");
    assert.equal(await goaway, 0); // NO_ERROR
    assert.equal(await body, "finished");
    await stopped;
  } finally {
    client.destroy();
    await mosn.stop("fast");
    await o.close();
  }
});

Deno.test("http2: a second upstream connection opens only when the first is at the peer's stream limit", async () => {
  const o = await h2Origin((stream) => {
    setTimeout(() => {
      stream.respond({ ":status": 200 });
      stream.end("slow");
    }, 200);
  }, { maxConcurrentStreams: 2 });
  const mosn = proxy(o.address, "Http2", "Http2");
  const port = mosn.listenerPort("http");
  try {
    // Warm up: one connection, its SETTINGS (limit 2) known.
    const first = await run("curl", [
      "-sS",
      "--http2-prior-knowledge",
      `http://127.0.0.1:${port}/w`,
    ]);
    assert.equal(first.stdout, "slow");
    assert.equal(o.sessionsOpened(), 1);
    // Six at once: 2 per connection → 3 connections.
    const r = await run("nghttp", ["-n", "-s", "-m", "6", `http://127.0.0.1:${port}/p`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(o.sessionsOpened(), 3);
  } finally {
    await mosn.stop("fast");
    await o.close();
  }
});

Deno.test("http2: an upstream that is not HTTP/2 fails the request with 502, no reconnect loop", async () => {
  // Answers whatever arrives with an HTTP/1.1 400 and closes (as HTTP/1-only servers do).
  const o = tcpServer(async (c) => {
    await c.read(new Uint8Array(1024));
    await writeAll(
      c,
      new TextEncoder().encode("HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n"),
    );
    c.close();
  });
  const mosn = proxy(`127.0.0.1:${o.port}`, "Http1", "Http2");
  const port = mosn.listenerPort("http");
  try {
    const r = await run("curl", [
      "-sS",
      "-o",
      "/dev/null",
      "-w",
      "%{http_code}",
      `http://127.0.0.1:${port}/`,
    ]);
    assert.equal(r.stdout, "502");
  } finally {
    await mosn.stop("fast");
    await o.close();
  }
});

Deno.test("http2: a response that ends before the request resets the rest of the upload (NO_ERROR)", async () => {
  const o = origin(() => new Response("early"));
  const mosn = proxy(o.address, "Http2", "Http1");
  const port = mosn.listenerPort("http");
  const client = http2.connect(`http://127.0.0.1:${port}`);
  try {
    // A request body that never ends; the route answers without reading it.
    const req = client.request({ ":path": "/nothing", ":method": "POST" }, { endStream: false });
    req.write("some bytes");
    req.resume(); // read the response body so that the stream can close
    const closedP = new Promise<number>((r) => req.once("close", () => r(req.rstCode)));
    const status = await new Promise<number>((r) =>
      req.once("response", (h) => r(Number(h[":status"])))
    );
    assert.equal(status, 200);
    const closed = await closedP;
    assert.equal(closed, 0); // NO_ERROR
    const stats = await (await fetch(`http://127.0.0.1:${mosn.adminPort}/api/v1/stats`)).json();
    assert.equal(stats.http2["listener.http"].stream_active, "0");
  } finally {
    client.destroy();
    await mosn.stop("fast");
    await o.close();
  }
});

Deno.test("http2: header blocks larger than a frame travel as CONTINUATION both ways", async () => {
  const big = "v".repeat(20_000);
  const o = await h2Origin((stream, headers) => {
    stream.respond({ ":status": 200, "x-big-back": String(headers["x-big"]).length + ":" + big });
    stream.end("ok");
  });
  const mosn = proxy(o.address, "Http2", "Http2");
  const client = http2.connect(`http://127.0.0.1:${mosn.listenerPort("http")}`);
  try {
    const req = client.request({ ":path": "/big-headers", "x-big": big });
    req.resume();
    const h = await new Promise<http2.IncomingHttpHeaders>((r) => req.once("response", r));
    assert.equal(h[":status"], 200);
    assert.equal(h["x-big-back"], `20000:${big}`);
  } finally {
    client.destroy();
    await mosn.stop("fast");
    await o.close();
  }
});
