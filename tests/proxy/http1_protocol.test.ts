import assert from "node:assert/strict";
import * as http from "node:http";
import { startInProcess } from "../_support/mosn.ts";
import { httpDoc, origin, rawExchange, readResponse, simpleRouter } from "../_support/http.ts";
import { writeAll } from "../_support/net.ts";

function proxyTo(address: string) {
  return startInProcess(httpDoc({
    clusters: [{ name: "o", hosts: [{ address }] }],
    routers: [simpleRouter([{ match: { prefix: "/" }, route: { cluster_name: "o" } }])],
  }));
}

/** A node:http origin (it speaks trailers, 100-continue and chunked the way Node does). */
async function nodeOrigin(
  handler: http.RequestListener,
): Promise<{ address: string; close(): Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  return {
    address: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

Deno.test("http1: chunked bodies with trailers pass through both ways", async () => {
  let gotTrailers: Record<string, string> = {};
  let gotBody = "";
  const o = await nodeOrigin((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      gotBody = body;
      gotTrailers = { ...req.trailers } as Record<string, string>;
      res.writeHead(200, { "transfer-encoding": "chunked", trailer: "x-checksum" });
      res.write("part1-");
      res.write("part2");
      res.addTrailers({ "x-checksum": "abc123" });
      res.end();
    });
  });
  const mosn = proxyTo(o.address);
  try {
    const out = await rawExchange(
      mosn.listenerPort("http"),
      "POST /up HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nTrailer: x-client-sum\r\nConnection: close\r\n\r\n" +
        "5\r\nhello\r\n6\r\n world\r\n0\r\nx-client-sum: 42\r\n\r\n",
    );
    assert.equal(gotBody, "hello world");
    assert.equal(gotTrailers["x-client-sum"], "42");
    assert.match(out, /^HTTP\/1\.1 200/);
    assert.match(out, /transfer-encoding: chunked/i);
    assert.match(out, /\r\n6\r\npart1-\r\n5\r\npart2\r\n0\r\nx-checksum: abc123\r\n\r\n$/i);
  } finally {
    await mosn.stop("fast");
    await o.close();
  }
});

Deno.test("http1: pipelined requests are answered in order", async () => {
  const o = origin(async (req) => {
    const n = Number(new URL(req.url).searchParams.get("n"));
    // Later requests answer faster: order must still hold.
    await new Promise((r) => setTimeout(r, (5 - n) * 10));
    return new Response(`r${n}`);
  });
  const mosn = proxyTo(o.address);
  try {
    const c = await Deno.connect({ port: mosn.listenerPort("http") });
    let text = "";
    for (let n = 0; n < 5; n++) text += `GET /?n=${n} HTTP/1.1\r\nHost: t\r\n\r\n`;
    await writeAll(c, new TextEncoder().encode(text));
    const carry = { buf: new Uint8Array(0) };
    for (let n = 0; n < 5; n++) {
      const r = await readResponse(c, carry);
      assert.equal(r.status, 200);
      assert.equal(r.body, `r${n}`);
    }
    c.close();
  } finally {
    await mosn.stop("fast");
    await o.close();
  }
});

Deno.test("http1: Expect 100-continue gets 100 before the body, then the answer", async () => {
  const o = origin(async (req) => new Response(`got ${(await req.text()).length}`));
  const mosn = proxyTo(o.address);
  try {
    const out = await new Deno.Command("curl", {
      args: [
        "-sS",
        "-v",
        "-H",
        "Expect: 100-continue",
        "--data-binary",
        "x".repeat(2000),
        `http://127.0.0.1:${mosn.listenerPort("http")}/up`,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const err = new TextDecoder().decode(out.stderr);
    assert.match(err, /< HTTP\/1\.1 100 Continue/);
    assert.equal(new TextDecoder().decode(out.stdout), "got 2000");
  } finally {
    await mosn.stop("fast");
    await o.close();
  }
});

Deno.test("http1: HEAD, 204 and 304 responses carry no body and keep the connection usable", async () => {
  const o = origin((req) => {
    const p = new URL(req.url).pathname;
    if (p === "/204") return new Response(null, { status: 204 });
    if (p === "/304") return new Response(null, { status: 304, headers: { etag: '"v1"' } });
    return new Response("0123456789");
  });
  const mosn = proxyTo(o.address);
  try {
    // Each exchange separately, so the framing of each answer is checked exactly.
    const h = await rawExchange(
      mosn.listenerPort("http"),
      "HEAD / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    );
    assert.match(h, /^HTTP\/1\.1 200/);
    assert.match(h, /content-length: 10/i);
    assert.ok(h.endsWith("\r\n\r\n"), "HEAD answer has no body");
    const n = await rawExchange(
      mosn.listenerPort("http"),
      "GET /204 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    );
    assert.match(n, /^HTTP\/1\.1 204/);
    assert.ok(n.endsWith("\r\n\r\n"));
    const m = await rawExchange(
      mosn.listenerPort("http"),
      "GET /304 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    );
    assert.match(m, /^HTTP\/1\.1 304/);
    assert.ok(m.endsWith("\r\n\r\n"));
  } finally {
    await mosn.stop("fast");
    await o.close();
  }
});

Deno.test("http1: Connection: close is honoured after the response", async () => {
  const o = origin(() => new Response("bye"));
  const mosn = proxyTo(o.address);
  try {
    // No half-close: the proxy itself must close after answering.
    const out = await rawExchange(
      mosn.listenerPort("http"),
      "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
      false,
    );
    assert.match(out, /^HTTP\/1\.1 200/);
    assert.match(out, /connection: close/i);
    assert.ok(out.endsWith("bye"));
  } finally {
    await mosn.stop("fast");
    await o.close();
  }
});

Deno.test("http1: a WebSocket echo works through the proxy", async () => {
  const o = origin((req) => {
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.onmessage = (e) => socket.send(`echo:${e.data}`);
    return response;
  });
  const mosn = proxyTo(o.address);
  try {
    const ws = new WebSocket(`ws://127.0.0.1:${mosn.listenerPort("http")}/ws`);
    const got: string[] = [];
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => {
        for (let i = 0; i < 3; i++) ws.send(`m${i}`);
      };
      ws.onmessage = (e) => {
        got.push(String(e.data));
        if (got.length === 3) resolve();
      };
      ws.onerror = () => reject(new Error("websocket error"));
    });
    const closed = new Promise((r) => (ws.onclose = r));
    ws.close();
    await closed;
    assert.deepEqual(got, ["echo:m0", "echo:m1", "echo:m2"]);
  } finally {
    await mosn.stop("fast");
    await o.close();
  }
});

const MALFORMED: [string, string, number][] = [
  ["bad request line", "GARBAGE\r\n\r\n", 400],
  ["lowercase method chars invalid", "G@T / HTTP/1.1\r\nHost: t\r\n\r\n", 400],
  ["missing version", "GET /\r\nHost: t\r\n\r\n", 400],
  ["HTTP/2.0 version on HTTP/1 port", "GET / HTTP/2.0\r\nHost: t\r\n\r\n", 400],
  [
    "bad chunk size",
    "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
    400,
  ],
  [
    "chunk size overflow",
    "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\n",
    400,
  ],
  ["header without colon", "GET / HTTP/1.1\r\nHost: t\r\nNoColonHere\r\n\r\n", 400],
  ["space before colon", "GET / HTTP/1.1\r\nHost : t\r\n\r\n", 400],
  ["obs-fold", "GET / HTTP/1.1\r\nHost: t\r\nX-A: 1\r\n  folded\r\n\r\n", 400],
  ["bare CR", "GET / HTTP/1.1\r\nHost: t\rX: y\r\n\r\n", 400],
  ["NUL in header value", "GET / HTTP/1.1\r\nHost: t\r\nX: a\u0000b\r\n\r\n", 400],
  [
    "oversized headers",
    `GET / HTTP/1.1\r\nHost: t\r\nX-Big: ${"a".repeat(70 * 1024)}\r\n\r\n`,
    431,
  ],
  ["oversized request line", `GET /${"a".repeat(10 * 1024)} HTTP/1.1\r\nHost: t\r\n\r\n`, 414],
  [
    "two different Content-Length",
    "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
    400,
  ],
  [
    "non-numeric Content-Length",
    "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3x\r\n\r\nabc",
    400,
  ],
  ["negative Content-Length", "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\n", 400],
  [
    "Content-Length plus Transfer-Encoding",
    "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    400,
  ],
  [
    "Transfer-Encoding not ending in chunked",
    "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
    400,
  ],
  ["missing Host on HTTP/1.1", "GET / HTTP/1.1\r\nX: y\r\n\r\n", 400],
  ["two Host headers", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400],
  [
    "missing CRLF after chunk data",
    "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXX0\r\n\r\n",
    400,
  ],
  ["control character in target", "GET /a\u0001b HTTP/1.1\r\nHost: t\r\n\r\n", 400],
];

Deno.test("http1: malformed requests get 400/414/431 while other connections keep being served", async () => {
  const o = origin(() => new Response("fine"));
  const mosn = proxyTo(o.address);
  const port = mosn.listenerPort("http");
  try {
    // A keep-alive connection that must survive everything below.
    const keeper = await Deno.connect({ port });
    const carry = { buf: new Uint8Array(0) };
    for (const [name, text, status] of MALFORMED) {
      const out = await rawExchange(port, text, false);
      assert.match(
        out,
        new RegExp(`^HTTP/1\\.1 ${status} `),
        `${name}: got ${JSON.stringify(out.slice(0, 60))}`,
      );
      assert.match(out, /connection: close/i, name);
      await writeAll(keeper, new TextEncoder().encode("GET / HTTP/1.1\r\nHost: t\r\n\r\n"));
      const r = await readResponse(keeper, carry);
      assert.equal(r.body, "fine", `keeper after ${name}`);
    }
    keeper.close();
    assert.ok(MALFORMED.length >= 20);
  } finally {
    await mosn.stop("fast");
    await o.close();
  }
});
