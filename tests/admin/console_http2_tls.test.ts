import assert from "node:assert/strict";
import http2 from "node:http2";
import { startInProcess } from "../_support/mosn.ts";
import { httpDoc, simpleRouter } from "../_support/http.ts";
import { h2Origin } from "../_support/h2.ts";
import { pem, pki, serverTls } from "../_support/tls.ts";
import type { ConnectionJson, ConnectionsResponse } from "../../src/admin/console_types.ts";

/**
 * The console's Connections API with the features merged together: an mTLS client speaking
 * HTTP/2 (ALPN h2) to the proxy, which speaks h2c to the origin. While a request is held open by
 * the origin, both connections are listed as HTTP/2 with one active stream, and the downstream
 * one carries the client's SPIFFE identity.
 */
Deno.test("connections API: HTTP/2 over mTLS downstream and h2c upstream, with streams and identity", async () => {
  const held: http2.ServerHttp2Stream[] = [];
  const up = await h2Origin((stream) => held.push(stream));
  const doc = httpDoc({
    clusters: [{ name: "h2up", hosts: [{ address: up.address }] }],
    routers: [simpleRouter([{ match: { prefix: "/" }, route: { cluster_name: "h2up" } }])],
    proxy: { downstream_protocol: "Http2", upstream_protocol: "Http2" },
  });
  // deno-lint-ignore no-explicit-any
  (doc as any).servers[0].listeners[0].filter_chains[0].tls_context = serverTls("a", {
    ca_cert: pki("ca.pem"),
    verify_client: true,
    alpn: "h2",
  });
  const server = startInProcess(doc, { admin: true });
  await server.listening();
  const base = `http://127.0.0.1:${server.adminPort}`;
  const client = http2.connect(`https://127.0.0.1:${server.listenerPort("http")}`, {
    ca: pem("ca.pem"),
    cert: pem("client.pem"),
    key: pem("client.key"),
    servername: "a.example.com",
  });
  client.on("error", () => {});
  try {
    const req = client.request({ ":path": "/held", ":method": "GET" });
    const body = new Promise<{ status: number; text: string }>((resolve, reject) => {
      let status = 0;
      let text = "";
      req.on("response", (h) => (status = Number(h[":status"])));
      req.setEncoding("utf8");
      req.on("data", (d: string) => (text += d));
      req.on("end", () => resolve({ status, text }));
      req.on("error", reject);
    });
    // Wait for the origin to hold the request: both connections are then open, one stream each.
    for (let i = 0; i < 200 && held.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 25));
    }
    assert.equal(held.length, 1, "the request reached the origin");

    const cx = await (await fetch(base + "/api/v1/connections")).json() as ConnectionsResponse;
    const mine = (c: ConnectionJson) => c.owner === "http" || c.owner === "h2up";
    const down = cx.connections.find((c) => c.direction === "downstream" && mine(c));
    const upstream = cx.connections.find((c) => c.direction === "upstream" && mine(c));
    assert.ok(down && upstream, JSON.stringify(cx));
    assert.equal(down.protocol, "HTTP/2");
    assert.equal(down.active_streams, 1);
    assert.match(down.tls ?? "", /^TLSv1\.[23] /);
    assert.match(down.tls ?? "", / peer=spiffe:\/\/cluster\.local\/ns\/default\/sa\/client /);
    assert.match(down.tls ?? "", / sni=a\.example\.com alpn=h2$/);
    assert.equal(upstream.protocol, "HTTP/2");
    assert.equal(upstream.host, up.address);
    assert.equal(upstream.active_streams, 1);
    assert.equal(upstream.tls, undefined, "h2c upstream: no TLS");

    held[0]!.respond({ ":status": 200 });
    held[0]!.end("released");
    assert.deepEqual(await body, { status: 200, text: "released" });
    // Finished streams are no longer counted.
    const after = await (await fetch(base + "/api/v1/connections")).json() as ConnectionsResponse;
    for (const c of after.connections.filter(mine)) {
      assert.equal(c.protocol, "HTTP/2");
      assert.equal(c.active_streams, 0, JSON.stringify(c));
    }
  } finally {
    client.close();
    await server.stop("fast");
    await up.close();
  }
});
