import assert from "node:assert/strict";
import type http2 from "node:http2";
import https from "node:https";
import type { AddressInfo } from "node:net";
import tls, { type TLSSocket } from "node:tls";
import { startInProcess, startProcess } from "../_support/mosn.ts";
import { concat, freePort } from "../_support/net.ts";
import { curl, pem } from "../_support/tls.ts";
import { h2Origin } from "../_support/h2.ts";
import { curlH2, h2Request, tlsDoc, tlsUpstream } from "./_h2_tls.ts";
import { assertStallBounded, bigOrigin, requestBigAndStall } from "./_h2_stall.ts";

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
    tlsDoc(tlsUpstream(o.address), { downstream_protocol: "Http2", upstream_protocol: "Http2" }),
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
      tlsDoc(tlsUpstream(address), { downstream_protocol: "Http2", upstream_protocol: "Http2" }),
      { admin: true },
    );
    await mosn.listening();
    const port = mosn.listenerPort("http");
    try {
      const r = await curlH2(
        `https://127.0.0.1:${port}/x`,
        ["-o", "/dev/null"],
        "%{http_code} %{http_version}",
      );
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
      tlsUpstream(address),
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
  const o = await bigOrigin({ cert: pem("b.pem"), key: pem("b.key") });
  const port = freePort();
  const doc = tlsDoc(tlsUpstream(o.address), {
    downstream_protocol: "Http2",
    upstream_protocol: "Http2",
  });
  // deno-lint-ignore no-explicit-any
  const l = (doc as any).servers[0];
  l.listeners[0].address = `127.0.0.1:${port}`;
  l.routers[0].virtual_hosts[0].routers[0].route.timeout = "0s";
  const mosn = await startProcess(doc);
  await assertStallBounded(o, mosn, async () => {
    const c = await Deno.connectTls({
      hostname: "127.0.0.1",
      port,
      caCerts: [pem("ca.pem")],
      alpnProtocols: ["h2"],
    });
    assert.equal((await c.handshake()).alpnProtocol, "h2");
    // A huge window: only the proxy's own per-stream windows and watermarks can stop it.
    await requestBigAndStall(c, 0x7fffffff, "https");
    return c;
  });
});
