import assert from "node:assert/strict";
import http2 from "node:http2";
import { startInProcess } from "../_support/mosn.ts";
import { concat, echoServer, writeAll } from "../_support/net.ts";
import { origin } from "../_support/http.ts";
import { curl, pem, pki, serverTls } from "../_support/tls.ts";
import { run } from "../_support/h2.ts";
import { curlH2, tlsDoc } from "./_h2_tls.ts";

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
    const r = await curlH2(`https://127.0.0.1:${port}/hello`);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `GET /hello host=127.0.0.1:${port} 2`);
    const n = await run("nghttp", ["-n", "-s", "-m", "5", `https://127.0.0.1:${port}/n`]);
    assert.equal(n.code, 0, n.stderr + n.stdout);
  } finally {
    await mosn.stop("fast");
    await o.close();
  }
});

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
    const r = await curlH2(`https://127.0.0.1:${port}/m`, [
      "--cert",
      pki("client.pem"),
      "--key",
      pki("client.key"),
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
      const h2 = await curlH2(url, ["-v"]);
      assert.equal(h2.code, 0, h2.stderr);
      assert.match(h2.stderr, /ALPN: server accepted h2/);
      assert.equal(h2.stdout, "via ? 2");
    } finally {
      await mosn.stop("fast");
      await o.close();
    }
  });
}

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
    const h2 = await curlH2(`https://127.0.0.1:${port}/`);
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
