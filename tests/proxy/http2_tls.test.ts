import assert from "node:assert/strict";
import http2 from "node:http2";
import type { TLSSocket } from "node:tls";
import { startInProcess } from "../_support/mosn.ts";
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
