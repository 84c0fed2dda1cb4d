import assert from "node:assert/strict";
import http2 from "node:http2";
import https from "node:https";
import type { AddressInfo } from "node:net";
import tls, { type TLSSocket } from "node:tls";
import { rssKiB, startInProcess, startProcess } from "../_support/mosn.ts";
import { echoServer, freePort, writeAll } from "../_support/net.ts";
import {
  encodeHeaderBlock,
  encodeSettings,
  encodeWindowUpdate,
  PREFACE,
  Setting,
} from "../../src/protocol/http2/frame.ts";
import { HpackEncoder } from "../../src/protocol/http2/hpack/encoder.ts";
import { httpDoc, origin, simpleRouter } from "../_support/http.ts";
import { curl, pem, pki, serverTls } from "../_support/tls.ts";
import { h2Origin, run } from "../_support/h2.ts";
import { type EchoClient, echoClient, grpc, type Msg, startEchoServer } from "../_support/grpc.ts";

/** A TLS listener (certificate a.example.com) whose proxy speaks `proxy` to cluster "o". */
function tlsDoc(
  cluster: { hosts: { address: string }[]; [k: string]: unknown },
  proxy: Record<string, unknown>,
  chain: Record<string, unknown> = { tls_context: serverTls("a") },
  extra: { accessLogs?: unknown[] } = {},
): Record<string, unknown> {
  const doc = httpDoc({
    clusters: [{ name: "o", ...cluster }],
    routers: [simpleRouter([{ match: { prefix: "/" }, route: { cluster_name: "o" } }])],
    proxy,
    ...extra,
  });
  // deno-lint-ignore no-explicit-any
  Object.assign((doc as any).servers[0].listeners[0].filter_chains[0], chain);
  return doc;
}

Deno.test("h2(TLS) → h1: curl --http2 negotiates h2 by default ALPN; nghttp over TLS", async () => {
  const o = origin((req) =>
    new Response(`${req.method} ${new URL(req.url).pathname} host=${req.headers.get("host")}`)
  );
  const mosn = startInProcess(
    tlsDoc({ hosts: [{ address: o.address }] }, {
      downstream_protocol: "Http2",
      upstream_protocol: "Http1",
    }),
  );
  await mosn.listening();
  const port = mosn.listenerPort("http");
  try {
    const r = await curl([
      "--http2",
      "--cacert",
      pki("ca.pem"),
      "-w",
      " %{http_version}",
      `https://127.0.0.1:${port}/hello`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `GET /hello host=127.0.0.1:${port} 2`);
    const n = await run("nghttp", ["-n", "-s", "-m", "5", `https://127.0.0.1:${port}/n`]);
    assert.equal(n.code, 0, n.stderr + n.stdout);
  } finally {
    await mosn.stop("fast");
    await o.close();
  }
});

interface H2Reply {
  status: number;
  headers: http2.IncomingHttpHeaders;
  body: string;
  trailers: http2.IncomingHttpHeaders;
  alpn: string;
}

/** One request with node:http2 over TLS (trusting the test CA), optional request trailers. */
function h2Request(
  port: number,
  path: string,
  body: string,
  reqTrailers?: Record<string, string>,
): Promise<H2Reply> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`https://127.0.0.1:${port}`, { ca: pem("ca.pem") });
    session.on("error", reject);
    const req = session.request(
      { ":method": "POST", ":path": path, "te": "trailers" },
      { waitForTrailers: reqTrailers !== undefined },
    );
    if (reqTrailers) req.on("wantTrailers", () => req.sendTrailers(reqTrailers));
    let headers: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    const chunks: Uint8Array[] = [];
    req.on("response", (h) => (headers = h));
    req.on("trailers", (t) => (trailers = t));
    req.on("data", (c: Uint8Array) => chunks.push(c));
    req.on("error", reject);
    req.on("end", () => {
      const alpn = String((session.socket as TLSSocket).alpnProtocol);
      session.close();
      resolve({
        status: Number(headers[":status"]),
        headers,
        body: new TextDecoder().decode(concat(chunks)),
        trailers,
        alpn,
      });
    });
    req.end(body);
  });
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.byteLength;
  }
  return out;
}

Deno.test("h2(TLS) → h2(TLS): ALPN h2 both sides, SNI to the origin, trailers both ways", async () => {
  const seenTrailers: http2.IncomingHttpHeaders[] = [];
  const o = await h2Origin(
    (stream) => {
      const chunks: Uint8Array[] = [];
      stream.on("data", (c: Uint8Array) => chunks.push(c));
      stream.on("trailers", (t) => seenTrailers.push(t));
      stream.on("end", () => {
        const s = stream.session!.socket as TLSSocket;
        stream.respond({
          ":status": 200,
          "x-origin-alpn": String(s.alpnProtocol),
          "x-origin-sni": String((s as unknown as { servername: string }).servername),
        }, { waitForTrailers: true });
        stream.on(
          "wantTrailers",
          () => stream.sendTrailers({ "x-trail": "done", "grpc-status": "0" }),
        );
        stream.end(`echo ${new TextDecoder().decode(concat(chunks))}`);
      });
    },
    {},
    { cert: pem("b.pem"), key: pem("b.key") },
  );
  const mosn = startInProcess(
    tlsDoc({
      hosts: [{ address: o.address }],
      tls_context: { status: true, server_name: "b.example.com", ca_cert: pki("ca.pem") },
    }, { downstream_protocol: "Http2", upstream_protocol: "Http2" }),
    { admin: true },
  );
  await mosn.listening();
  const port = mosn.listenerPort("http");
  try {
    const r = await h2Request(port, "/t", "hello", { "x-req-trail": "yes" });
    assert.equal(r.alpn, "h2");
    assert.equal(r.status, 200);
    assert.equal(r.body, "echo hello");
    assert.equal(r.headers["x-origin-alpn"], "h2");
    assert.equal(r.headers["x-origin-sni"], "b.example.com");
    assert.equal(r.trailers["x-trail"], "done");
    assert.equal(r.trailers["grpc-status"], "0");
    assert.equal(seenTrailers[0]?.["x-req-trail"], "yes");
    // A second request reuses the one upstream TLS connection.
    assert.equal((await h2Request(port, "/u", "again")).body, "echo again");
    assert.equal(o.sessionsOpened(), 1);
    const s = await (await fetch(`http://127.0.0.1:${mosn.adminPort}/api/v1/stats`)).json();
    assert.equal(s.tls?.["cluster.o"]?.handshake, "1");
    assert.equal(s.tls?.["listener.http"]?.handshake, "2");
  } finally {
    await mosn.stop("fast");
    await o.close();
  }
});

function unary(c: EchoClient, req: Msg, md = new grpc.Metadata()) {
  return new Promise<{ err: grpc.ServiceError | null; res?: Msg; trail?: grpc.Metadata }>(
    (resolve) => {
      let trail: grpc.Metadata | undefined;
      let err: grpc.ServiceError | null = null;
      let res: Msg | undefined;
      let pending = 2;
      const done = () => --pending === 0 && resolve({ err, res, trail });
      const call = c.Unary(req, md, {}, (e, r) => {
        err = e;
        res = r;
        done();
      });
      call.on("status", (s) => {
        trail = s.metadata;
        done();
      });
    },
  );
}

function serverStream(c: EchoClient, n: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let got = 0;
    const call = c.ServerStream({ text: "s", n });
    call.on("data", () => got++);
    call.on("error", reject);
    call.on("end", () => resolve(got));
  });
}

function bidi(c: EchoClient, n: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const got: number[] = [];
    const call = c.Bidi();
    call.on("data", (m: Msg) => got.push(m.n));
    call.on("error", reject);
    call.on("end", () => resolve(got));
    for (let i = 0; i < n; i++) call.write({ text: "b", n: i });
    call.end();
  });
}

for (const upstream of ["TLS", "h2c"] as const) {
  Deno.test(`gRPC over TLS through the proxy to a ${upstream} grpc-js server: unary, streaming, trailers`, async () => {
    const srv = await startEchoServer(
      upstream === "TLS" ? { cert: pem("b.pem"), key: pem("b.key"), ca: pem("ca.pem") } : undefined,
    );
    const mosn = startInProcess(
      tlsDoc({
        hosts: [{ address: srv.address }],
        ...(upstream === "TLS"
          ? {
            tls_context: { status: true, server_name: "b.example.com", ca_cert: pki("ca.pem") },
          }
          : {}),
      }, { downstream_protocol: "Http2", upstream_protocol: "Http2" }),
    );
    await mosn.listening();
    const c = echoClient(mosn.listenerPort("http"), {
      ca: pem("ca.pem"),
      serverName: "a.example.com",
    });
    try {
      const md = new grpc.Metadata();
      md.set("x-req", "m");
      const r = await unary(c, { text: "hi", n: 3 }, md);
      assert.equal(r.err, null);
      assert.deepEqual(r.res, { text: "echo hi", n: 3 });
      assert.equal(r.trail?.get("x-trail")[0], "done");
      const f = await unary(c, { text: "fail", n: 0 });
      assert.equal(f.err?.code, grpc.status.INVALID_ARGUMENT);
      assert.equal(f.err?.metadata.get("x-detail")[0], "why-it-failed");
      assert.equal(await serverStream(c, 2000), 2000);
      const b = await bidi(c, 50);
      assert.deepEqual(b, Array.from({ length: 50 }, (_, i) => i + 1));
    } finally {
      c.close();
      await mosn.stop("fast");
      await srv.close();
    }
  });
}

Deno.test("mTLS + h2: the client's SAN and ALPN h2 in the access log, XFCC to the origin", async () => {
  const o = origin((req) => new Response(req.headers.get("x-forwarded-client-cert") ?? "none"));
  const dir = await Deno.makeTempDir();
  const logPath = `${dir}/access.log`;
  const mosn = startInProcess(
    tlsDoc(
      { hosts: [{ address: o.address }] },
      { downstream_protocol: "Http2", upstream_protocol: "Http1" },
      { tls_context: serverTls("a", { ca_cert: pki("ca.pem"), verify_client: true }) },
      {
        accessLogs: [{
          log_path: logPath,
          log_format:
            "%RESPONSE_CODE% %PROTOCOL% san=%DOWNSTREAM_PEER_URI_SAN% alpn=%DOWNSTREAM_ALPN%\n",
        }],
      },
    ),
  );
  await mosn.listening();
  const port = mosn.listenerPort("http");
  try {
    const r = await curl([
      "--http2",
      "--cacert",
      pki("ca.pem"),
      "--cert",
      pki("client.pem"),
      "--key",
      pki("client.key"),
      "-w",
      " %{http_version}",
      `https://127.0.0.1:${port}/m`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      `Subject="CN=client";URI=spiffe://cluster.local/ns/default/sa/client 2`,
    );
    const noCert = await curl(["--http2", "--cacert", pki("ca.pem"), `https://127.0.0.1:${port}/`]);
    assert.notEqual(noCert.code, 0, "a client without a certificate must be refused");
    await mosn.stop("fast");
    const lines = (await Deno.readTextFile(logPath)).trim().split("\n");
    assert.equal(lines.length, 1);
    assert.match(
      lines[0]!,
      /^200 HTTP\/2 san=spiffe:\/\/cluster\.local\/ns\/default\/sa\/client alpn=h2$/,
    );
  } finally {
    await mosn.stop("fast");
    await o.close();
    await Deno.remove(dir, { recursive: true });
  }
});

for (const down of ["Http2", "Auto"] as const) {
  Deno.test(`ALPN on a TLS ${down} listener: a client offering only http/1.1 gets HTTP/1.1, h2 gets HTTP/2`, async () => {
    const o = origin((req) => new Response(`via ${req.headers.get("x-proto") ?? "?"}`));
    const mosn = startInProcess(
      tlsDoc({ hosts: [{ address: o.address }] }, {
        downstream_protocol: down,
        upstream_protocol: "Http1",
      }),
    );
    await mosn.listening();
    const port = mosn.listenerPort("http");
    const url = `https://127.0.0.1:${port}/f`;
    try {
      const h1 = await curl([
        "-v",
        "--http1.1",
        "--cacert",
        pki("ca.pem"),
        "-w",
        " %{http_version}",
        url,
      ]);
      assert.equal(h1.code, 0, h1.stderr);
      assert.match(h1.stderr, /ALPN: server accepted http\/1\.1/);
      assert.equal(h1.stdout, "via ? 1.1");
      const h2 = await curl([
        "-v",
        "--http2",
        "--cacert",
        pki("ca.pem"),
        "-w",
        " %{http_version}",
        url,
      ]);
      assert.equal(h2.code, 0, h2.stderr);
      assert.match(h2.stderr, /ALPN: server accepted h2/);
      assert.equal(h2.stdout, "via ? 2");
    } finally {
      await mosn.stop("fast");
      await o.close();
    }
  });
}

for (
  const [kind, alpn] of [
    ["answers the h2 offer with an alert (it has only http/1.1)", ["http/1.1"]],
    ["has no ALPN at all", undefined],
  ] as const
) {
  Deno.test(`upstream h2 over TLS: a server that ${kind} is refused with a 502 (tls fail_alpn)`, async () => {
    const server = tls.createServer(
      { cert: pem("b.pem"), key: pem("b.key"), ...(alpn ? { ALPNProtocols: [...alpn] } : {}) },
      (s) => s.end("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nh1"),
    );
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    const mosn = startInProcess(
      tlsDoc({
        hosts: [{ address }],
        tls_context: { status: true, server_name: "b.example.com", ca_cert: pki("ca.pem") },
      }, { downstream_protocol: "Http2", upstream_protocol: "Http2" }),
      { admin: true },
    );
    await mosn.listening();
    const port = mosn.listenerPort("http");
    try {
      const r = await curl([
        "--http2",
        "--cacert",
        pki("ca.pem"),
        "-o",
        "/dev/null",
        "-w",
        "%{http_code} %{http_version}",
        `https://127.0.0.1:${port}/x`,
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "502 2");
      const s = await (await fetch(`http://127.0.0.1:${mosn.adminPort}/api/v1/stats`)).json();
      assert.equal(s.tls?.["cluster.o"]?.fail_alpn, "1");
      assert.equal(s.tls?.["cluster.o"]?.handshake_failed, "1");
      assert.equal(s.tls?.["cluster.o"]?.handshake, "0");
    } finally {
      await mosn.stop("fast");
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
}

Deno.test("upstream HTTP/1 over TLS offers ALPN http/1.1 (an h2-capable origin answers in HTTP/1.1)", async () => {
  // It lists h2 first: had the proxy offered h2 (or nothing but spoken HTTP/1 anyway), the
  // answer would show it.
  const server = https.createServer(
    { cert: pem("b.pem"), key: pem("b.key"), ALPNProtocols: ["h2", "http/1.1"] },
    (req, res) =>
      res.end(`alpn=${(req.socket as TLSSocket).alpnProtocol} version=${req.httpVersion}`),
  );
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const mosn = startInProcess(
    tlsDoc(
      {
        hosts: [{ address }],
        tls_context: { status: true, server_name: "b.example.com", ca_cert: pki("ca.pem") },
      },
      { downstream_protocol: "Http1", upstream_protocol: "Http1" },
      {},
    ),
  );
  await mosn.listening();
  try {
    const r = await curl([`http://127.0.0.1:${mosn.listenerPort("http")}/p`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "alpn=http/1.1 version=1.1");
  } finally {
    await mosn.stop("fast");
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
});

Deno.test("h2 over TLS both sides: a client that stops reading a 1 GiB response keeps the proxy's RSS bounded", async () => {
  const CHUNK = new Uint8Array(64 * 1024).fill(120);
  const TOTAL = 1024 * 1024 * 1024;
  const state = { written: 0 };
  const o = await h2Origin(
    (stream) => {
      stream.respond({ ":status": 200 });
      const pump = () => {
        while (state.written < TOTAL && !stream.destroyed) {
          state.written += CHUNK.byteLength;
          if (!stream.write(CHUNK)) return void stream.once("drain", pump);
        }
        stream.end();
      };
      pump();
    },
    {},
    { cert: pem("b.pem"), key: pem("b.key") },
  );
  const port = freePort();
  const doc = tlsDoc({
    hosts: [{ address: o.address }],
    tls_context: { status: true, server_name: "b.example.com", ca_cert: pki("ca.pem") },
  }, { downstream_protocol: "Http2", upstream_protocol: "Http2" });
  // deno-lint-ignore no-explicit-any
  const l = (doc as any).servers[0];
  l.listeners[0].address = `127.0.0.1:${port}`;
  l.routers[0].virtual_hosts[0].routers[0].route.timeout = "0s";
  const mosn = await startProcess(doc);
  let c: Deno.TlsConn | undefined;
  try {
    const before = await rssKiB(mosn.child.pid);
    c = await Deno.connectTls({
      hostname: "127.0.0.1",
      port,
      caCerts: [pem("ca.pem")],
      alpnProtocols: ["h2"],
    });
    assert.equal((await c.handshake()).alpnProtocol, "h2");
    // A huge window: only the proxy's own per-stream windows and watermarks can stop it.
    await writeAll(c, PREFACE);
    await writeAll(c, encodeSettings([[Setting.INITIAL_WINDOW_SIZE, 0x7fffffff]]));
    await writeAll(c, encodeWindowUpdate(0, 0x7fffffff - 65535));
    const enc = new HpackEncoder();
    for (const sid of [1, 3]) {
      enc.begin();
      for (const [n, v] of [[":method", "GET"], [":scheme", "https"], [":path", "/big"]]) {
        enc.field(n!, v!);
      }
      enc.field(":authority", "t");
      await writeAll(c, encodeHeaderBlock(sid, enc.finish(), true, 16384));
    }
    // Wait until the origin stops making progress (held back by flow control).
    let written = -1;
    for (let i = 0; i < 100 && written !== state.written; i++) {
      written = state.written;
      await new Promise((r) => setTimeout(r, 300));
    }
    const after = await rssKiB(mosn.child.pid);
    assert.ok(written > 128 * 1024, `the response never started (${written} bytes)`);
    assert.ok(written < 64 * 1024 * 1024, `origin wrote ${written} bytes`);
    assert.ok(after - before < 64 * 1024, `RSS grew ${after - before} KiB (${before} → ${after})`);
  } finally {
    c?.close();
    mosn.kill("SIGKILL");
    await mosn.exited;
    await o.close();
  }
});

Deno.test("h2 over TLS, listener drain: GOAWAY(max id) + PING first, then GOAWAY(last stream); the open stream finishes", async () => {
  let release: (() => void) | undefined;
  const o = origin(async () => {
    await new Promise<void>((r) => (release = r));
    return new Response("late");
  });
  const mosn = startInProcess(
    tlsDoc({ hosts: [{ address: o.address }] }, {
      downstream_protocol: "Http2",
      upstream_protocol: "Http1",
    }),
  );
  await mosn.listening();
  const session = http2.connect(`https://127.0.0.1:${mosn.listenerPort("http")}`, {
    ca: pem("ca.pem"),
  });
  session.on("error", () => {});
  const goaways: number[] = [];
  session.on("goaway", (_code: number, last: number) => goaways.push(last));
  try {
    const req = session.request({ ":path": "/slow" });
    const chunks: Uint8Array[] = [];
    req.on("data", (c: Uint8Array) => chunks.push(c));
    const ended = new Promise<void>((r) => req.on("end", () => r()));
    req.end();
    for (let i = 0; i < 100 && !release; i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(release, "the request reached the origin");
    mosn.drainListeners(true);
    for (let i = 0; i < 100 && goaways.length < 2; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.deepEqual(goaways, [0x7fffffff, 1]);
    release!();
    await ended;
    assert.equal(new TextDecoder().decode(concat(chunks)), "late");
  } finally {
    session.destroy();
    await mosn.stop("fast");
    await o.close();
  }
});

Deno.test("TLS Auto listener with fallback_for_unknown_protocol: h2 by ALPN, unknown bytes handed to tcp_proxy", async () => {
  const echo = echoServer();
  const o = origin(() => new Response("web"));
  const doc = tlsDoc({ hosts: [{ address: o.address }] }, {
    downstream_protocol: "Auto",
    upstream_protocol: "Http1",
    fallback_for_unknown_protocol: true,
  });
  // deno-lint-ignore no-explicit-any
  const d = doc as any;
  d.servers[0].listeners[0].filter_chains[0].filters.push({
    type: "tcp_proxy",
    config: { cluster: "echo" },
  });
  d.cluster_manager.clusters.push({
    name: "echo",
    type: "SIMPLE",
    lb_type: "LB_ROUNDROBIN",
    hosts: [{ address: `127.0.0.1:${echo.port}` }],
  });
  const mosn = startInProcess(doc);
  await mosn.listening();
  const port = mosn.listenerPort("http");
  try {
    const h2 = await curl([
      "--http2",
      "--cacert",
      pki("ca.pem"),
      "-w",
      " %{http_version}",
      `https://127.0.0.1:${port}/`,
    ]);
    assert.equal(h2.code, 0, h2.stderr);
    assert.equal(h2.stdout, "web 2");
    // No ALPN and bytes no codec knows: the connection goes to tcp_proxy (echo).
    const c = await Deno.connectTls({ hostname: "127.0.0.1", port, caCerts: [pem("ca.pem")] });
    await writeAll(c, new TextEncoder().encode("\x00\x01 raw bytes, not a protocol"));
    const buf = new Uint8Array(64);
    let got = "";
    while (got.length < 28) {
      const n = await c.read(buf);
      if (n === null) break;
      got += new TextDecoder().decode(buf.subarray(0, n));
    }
    c.close();
    assert.equal(got, "\x00\x01 raw bytes, not a protocol");
  } finally {
    await mosn.stop("fast");
    await o.close();
    await echo.close();
  }
});
