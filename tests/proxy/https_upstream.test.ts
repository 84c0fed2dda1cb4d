import assert from "node:assert/strict";
import https from "node:https";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import { startInProcess } from "../_support/mosn.ts";
import { httpDoc, simpleRouter } from "../_support/http.ts";
import { pem, pki } from "../_support/tls.ts";

/** An HTTPS origin (b.example.com) that demands a client certificate from the test CA. */
async function mtlsOrigin(): Promise<{ address: string; close(): Promise<void> }> {
  const server = https.createServer({
    cert: pem("b.pem"),
    key: pem("b.key"),
    ca: pem("ca.pem"),
    requestCert: true,
    rejectUnauthorized: true,
  }, (req, res) => {
    const s = req.socket as TLSSocket;
    const peer = s.getPeerCertificate();
    res.end(
      `sni=${(s as unknown as { servername: string }).servername} peer=${peer.subjectaltname}`,
    );
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    address: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

Deno.test("upstream TLS: SNI server_name, CA verification, client certificate (mTLS), insecure_skip", async () => {
  const o = await mtlsOrigin();
  const client = { cert_chain: pki("client.pem"), private_key: pki("client.key") };
  const mosn = startInProcess(
    httpDoc({
      clusters: [
        {
          name: "good",
          hosts: [{ address: o.address }],
          tls_context: {
            status: true,
            server_name: "b.example.com",
            ca_cert: pki("ca.pem"),
            ...client,
          },
        },
        {
          name: "wrong_name",
          hosts: [{ address: o.address }],
          tls_context: {
            status: true,
            server_name: "wrong.example.com",
            ca_cert: pki("ca.pem"),
            ...client,
          },
        },
        {
          name: "skip",
          hosts: [{ address: o.address }],
          tls_context: {
            status: true,
            server_name: "wrong.example.com",
            insecure_skip: true,
            ...client,
          },
        },
        {
          name: "no_client_cert",
          hosts: [{ address: o.address }],
          tls_context: { status: true, server_name: "b.example.com", ca_cert: pki("ca.pem") },
        },
      ],
      routers: [simpleRouter([
        { match: { prefix: "/good" }, route: { cluster_name: "good" } },
        { match: { prefix: "/wrong" }, route: { cluster_name: "wrong_name" } },
        { match: { prefix: "/skip" }, route: { cluster_name: "skip" } },
        { match: { prefix: "/nocert" }, route: { cluster_name: "no_client_cert" } },
      ])],
    }),
    { admin: true },
  );
  const base = `http://127.0.0.1:${mosn.listenerPort("http")}`;
  try {
    const good = await fetch(`${base}/good`);
    assert.equal(good.status, 200);
    assert.equal(
      await good.text(),
      "sni=b.example.com peer=URI:spiffe://cluster.local/ns/default/sa/client",
    );
    // Keep-alive: a second request reuses the pooled TLS connection.
    assert.equal((await (await fetch(`${base}/good`)).text()).startsWith("sni="), true);

    const wrong = await fetch(`${base}/wrong`);
    await wrong.body?.cancel();
    assert.equal(wrong.status, 502, "a certificate not valid for server_name is refused");

    const skip = await fetch(`${base}/skip`);
    assert.equal(skip.status, 200);
    assert.match(await skip.text(), /^sni=wrong\.example\.com /);

    const nocert = await fetch(`${base}/nocert`);
    await nocert.body?.cancel();
    assert.equal(nocert.status, 502, "the origin demands a client certificate");

    const s = await (await fetch(`http://127.0.0.1:${mosn.adminPort}/api/v1/stats`)).json();
    assert.equal(s.tls["cluster.good"].handshake, "1");
    assert.equal(s.tls["cluster.wrong_name"].fail_verify_error, "1");
    assert.equal(s.tls["cluster.skip"].handshake, "1");
    assert.equal(s.upstream["cluster.good"].connection_total, "1");
  } finally {
    await mosn.stop("fast");
    await o.close();
  }
});
