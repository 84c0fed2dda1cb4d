import assert from "node:assert/strict";
import { startInProcess } from "../_support/mosn.ts";
import { httpDoc, origin, simpleRouter } from "../_support/http.ts";
import { curl, pki, serverTls } from "../_support/tls.ts";
import { freePort } from "../_support/net.ts";
import { parseConfig } from "../../src/config/parse.ts";
import { PARSE_OPTIONS } from "../../src/server/parse_options.ts";

const XFCC = "x-forwarded-client-cert";

function tlsDoc(
  originAddress: string,
  chain: Record<string, unknown>,
  listener: Record<string, unknown>,
  logPath: string,
): Record<string, unknown> {
  const doc = httpDoc({
    clusters: [{ name: "o", hosts: [{ address: originAddress }] }],
    routers: [simpleRouter([{ match: { prefix: "/" }, route: { cluster_name: "o" } }])],
    listener,
    accessLogs: [{
      log_path: logPath,
      log_format:
        "%RESPONSE_CODE% san=%DOWNSTREAM_PEER_URI_SAN% subject=%DOWNSTREAM_PEER_SUBJECT% version=%DOWNSTREAM_TLS_VERSION% sni=%REQUESTED_SERVER_NAME% alpn=%DOWNSTREAM_ALPN%\n",
    }],
  });
  // deno-lint-ignore no-explicit-any
  const l = (doc as any).servers[0].listeners[0];
  Object.assign(l.filter_chains[0], chain);
  return doc;
}

async function stats(adminPort: number): Promise<Record<string, string>> {
  const s = await (await fetch(`http://127.0.0.1:${adminPort}/api/v1/stats`)).json();
  return s.tls?.["listener.http"] ?? {};
}

Deno.test("mTLS: no certificate and a foreign CA are refused; a good client passes, its SAN is logged", async () => {
  const o = origin((req) => new Response(req.headers.get(XFCC) ?? "none"));
  const dir = await Deno.makeTempDir();
  const logPath = `${dir}/access.log`;
  const mosn = startInProcess(
    tlsDoc(
      o.address,
      { tls_context: serverTls("a", { ca_cert: pki("ca.pem"), verify_client: true }) },
      {},
      logPath,
    ),
    { admin: true },
  );
  await mosn.listening();
  const url = `https://a.example.com:${mosn.listenerPort("http")}/`;
  const base = [
    "--cacert",
    pki("ca.pem"),
    "--resolve",
    `a.example.com:${mosn.listenerPort("http")}:127.0.0.1`,
  ];
  try {
    const noCert = await curl([...base, url]);
    assert.notEqual(noCert.code, 0, "a client without a certificate must be refused");
    const foreign = await curl([
      ...base,
      "--cert",
      pki("other_client.pem"),
      "--key",
      pki("other_client.key"),
      url,
    ]);
    assert.notEqual(foreign.code, 0, "a certificate from another CA must be refused");
    const good = await curl([
      ...base,
      "--cert",
      pki("client.pem"),
      "--key",
      pki("client.key"),
      "-H",
      `${XFCC}: URI=spiffe://forged`,
      url,
    ]);
    assert.equal(good.code, 0, good.stderr);
    // The identity reaches the upstream in XFCC; the client's forged header is replaced.
    assert.equal(
      good.stdout,
      `Subject="CN=client";URI=spiffe://cluster.local/ns/default/sa/client`,
    );

    const s = await stats(mosn.adminPort);
    assert.equal(s.handshake, "1");
    assert.equal(s.handshake_failed, "2");
    assert.equal(s.fail_verify_no_cert, "1");
    assert.equal(s.fail_verify_error, "1");

    await mosn.stop("fast");
    const lines = (await Deno.readTextFile(logPath)).trim().split("\n");
    assert.equal(lines.length, 1);
    assert.match(
      lines[0]!,
      /^200 san=spiffe:\/\/cluster\.local\/ns\/default\/sa\/client subject=CN=client version=TLSv1\.[23] sni=a\.example\.com alpn=/,
    );
  } finally {
    await mosn.stop("fast");
    await o.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SNI selects the certificate of each of two names (tls_context_set)", async () => {
  const o = origin(() => new Response("ok"));
  const dir = await Deno.makeTempDir();
  const logPath = `${dir}/access.log`;
  const mosn = startInProcess(
    tlsDoc(o.address, { tls_context_set: [serverTls("a"), serverTls("b")] }, {}, logPath),
    { admin: true },
  );
  await mosn.listening();
  const port = mosn.listenerPort("http");
  try {
    for (const name of ["a.example.com", "b.example.com"]) {
      // curl checks that the certificate names `name`: the wrong one fails with exit 60.
      const r = await curl([
        "--cacert",
        pki("ca.pem"),
        "--resolve",
        `${name}:${port}:127.0.0.1`,
        "-w",
        " %{ssl_verify_result}",
        `https://${name}:${port}/`,
      ]);
      assert.equal(r.code, 0, `${name}: ${r.stderr}`);
      assert.equal(r.stdout, "ok 0");
    }
    // Without SNI (an IP literal) the first context's certificate is served.
    const ip = await curl(["--cacert", pki("ca.pem"), `https://127.0.0.1:${port}/`]);
    assert.equal(ip.code, 0, ip.stderr);
    await mosn.stop("fast");
    const lines = (await Deno.readTextFile(logPath)).trim().split("\n");
    assert.match(lines[0]!, /sni=a\.example\.com/);
    assert.match(lines[1]!, /sni=b\.example\.com/);
  } finally {
    await mosn.stop("fast");
    await o.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("inspector: one port answers curl over TLS and over plain HTTP", async () => {
  const o = origin((req) => new Response(req.headers.has(XFCC) ? "forged" : "ok"));
  const dir = await Deno.makeTempDir();
  const mosn = startInProcess(
    tlsDoc(o.address, { tls_context: serverTls("a") }, { inspector: true }, `${dir}/a.log`),
    { admin: true },
  );
  await mosn.listening();
  const port = mosn.listenerPort("http");
  try {
    const tls = await curl(["--cacert", pki("ca.pem"), `https://127.0.0.1:${port}/`]);
    assert.equal(tls.code, 0, tls.stderr);
    assert.equal(tls.stdout, "ok");
    // A plain-text client cannot claim an identity: its XFCC is dropped.
    const plain = await curl(["-H", `${XFCC}: URI=spiffe://forged`, `http://127.0.0.1:${port}/`]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(plain.stdout, "ok");
    const s = await stats(mosn.adminPort);
    assert.equal(s.handshake, "1");
    assert.equal(s.plaintext, "1");
    // The same counters in the Prometheus view.
    const prom = await (await fetch(`http://127.0.0.1:${mosn.adminPort}/stats/prometheus`)).text();
    assert.match(prom, /^mosn_tls_handshake_total\{listener="http"\} 1$/m);
    assert.match(prom, /^mosn_tls_plaintext_total\{listener="http"\} 1$/m);
  } finally {
    await mosn.stop("fast");
    await o.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ALPN: http/1.1 is negotiated and exposed on the connection", async () => {
  const o = origin(() => new Response("ok"));
  const dir = await Deno.makeTempDir();
  const logPath = `${dir}/access.log`;
  const mosn = startInProcess(
    tlsDoc(o.address, { tls_context: serverTls("a", { alpn: "http/1.1" }) }, {}, logPath),
    { admin: true },
  );
  await mosn.listening();
  const port = mosn.listenerPort("http");
  try {
    const r = await curl(["-v", "--cacert", pki("ca.pem"), `https://127.0.0.1:${port}/`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /ALPN: server accepted http\/1\.1/);
    // curl --http2 offers h2 first; the listener does not list it, so HTTP/1.1 is agreed.
    const h2 = await curl([
      "-v",
      "--http2",
      "--cacert",
      pki("ca.pem"),
      `https://127.0.0.1:${port}/`,
    ]);
    assert.equal(h2.code, 0, h2.stderr);
    assert.equal(h2.stdout, "ok");
    assert.match(h2.stderr, /ALPN: server accepted http\/1\.1/);
    await mosn.stop("fast");
    assert.match(await Deno.readTextFile(logPath), /alpn=http\/1\.1/);
  } finally {
    await mosn.stop("fast");
    await o.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("reload: a TLS listener whose certificate changes is rebound on the same port", async () => {
  const o = origin(() => new Response("ok"));
  const dir = await Deno.makeTempDir();
  const port = freePort();
  const docFor = (cert: string) =>
    tlsDoc(
      o.address,
      { tls_context: serverTls(cert) },
      { address: `127.0.0.1:${port}` },
      `${dir}/a.log`,
    );
  const mosn = startInProcess(docFor("a"), { admin: true });
  await mosn.listening();
  const get = (name: string) =>
    curl([
      "--cacert",
      pki("ca.pem"),
      "--resolve",
      `${name}:${port}:127.0.0.1`,
      `https://${name}:${port}/`,
    ]);
  try {
    assert.equal((await get("a.example.com")).code, 0);
    const r = mosn.reload(parseConfig(docFor("b"), PARSE_OPTIONS).config);
    assert.deepEqual(r.listeners.changed, ["http"]);
    await mosn.listening();
    const b = await get("b.example.com");
    assert.equal(b.code, 0, b.stderr);
    assert.notEqual((await get("a.example.com")).code, 0, "the old certificate is gone");
  } finally {
    await mosn.stop("fast");
    await o.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("require_client_cert without verify_client: any certificate passes, none is refused", async () => {
  const o = origin((req) => new Response(req.headers.get(XFCC) ?? "none"));
  const dir = await Deno.makeTempDir();
  const mosn = startInProcess(
    tlsDoc(
      o.address,
      { tls_context: serverTls("a", { require_client_cert: true }) },
      {},
      `${dir}/a.log`,
    ),
    { admin: true },
  );
  await mosn.listening();
  const url = `https://127.0.0.1:${mosn.listenerPort("http")}/`;
  try {
    const none = await curl(["--cacert", pki("ca.pem"), url]);
    assert.notEqual(none.code, 0, "no certificate: refused");
    const foreign = await curl([
      "--cacert",
      pki("ca.pem"),
      "--cert",
      pki("other_client.pem"),
      "--key",
      pki("other_client.key"),
      url,
    ]);
    assert.equal(foreign.code, 0, foreign.stderr);
    assert.equal(
      foreign.stdout,
      `Subject="CN=other";URI=spiffe://other.local/ns/default/sa/intruder`,
    );
    const s = await stats(mosn.adminPort);
    assert.equal(s.fail_verify_no_cert, "1");
    assert.equal(s.handshake, "1");
  } finally {
    await mosn.stop("fast");
    await o.close();
    await Deno.remove(dir, { recursive: true });
  }
});
