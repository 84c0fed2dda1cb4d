import assert from "node:assert/strict";
import { startInProcess, tcpProxyDoc } from "../_support/mosn.ts";
import { echoServer, readAll, writeAll } from "../_support/net.ts";
import { pem, serverTls } from "../_support/tls.ts";

function tlsTcpProxyDoc(
  upstream: string,
  listener: Record<string, unknown>,
  tls: Record<string, unknown> = serverTls("a"),
) {
  const doc = tcpProxyDoc([{ name: "c1", hosts: [{ address: upstream }] }], { cluster: "c1" }, {
    ...listener,
  });
  // deno-lint-ignore no-explicit-any
  (doc as any).servers[0].listeners[0].filter_chains[0].tls_context = tls;
  return doc;
}

async function tlsStats(adminPort: number): Promise<Record<string, string>> {
  const s = await (await fetch(`http://127.0.0.1:${adminPort}/api/v1/stats`)).json();
  return s.tls?.["listener.l1"] ?? {};
}

Deno.test("TLS listener + tcp_proxy: 4 MiB each way with backpressure, and the half-close is forwarded", async () => {
  const echo = echoServer();
  const mosn = startInProcess(tlsTcpProxyDoc(echo.address, {}), { admin: true });
  await mosn.listening();
  try {
    const c = await Deno.connectTls({
      hostname: "127.0.0.1",
      port: mosn.listenerPort("l1"),
      caCerts: [pem("ca.pem")],
    });
    const data = new Uint8Array(4 << 20);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31) & 0xff;
    const reading = readAll(c);
    await writeAll(c, data);
    await c.closeWrite(); // the echo server sees EOF, finishes echoing and closes
    const back = await reading;
    assert.equal(back.length, data.length);
    assert.ok(back.every((b, i) => b === data[i]), "bytes come back unchanged");
    c.close();
    const s = await tlsStats(mosn.adminPort);
    assert.equal(s.handshake, "1");
  } finally {
    await mosn.stop("fast");
    await echo.close();
  }
});

Deno.test("TLS listener: a silent client is dropped after tls_handshake_timeout; garbage is a connection_error", async () => {
  const echo = echoServer();
  const mosn = startInProcess(
    tlsTcpProxyDoc(echo.address, { tls_handshake_timeout: "200ms" }),
    { admin: true },
  );
  await mosn.listening();
  const port = mosn.listenerPort("l1");
  try {
    const silent = await Deno.connect({ hostname: "127.0.0.1", port });
    assert.equal((await readAll(silent)).length, 0, "closed without a byte");
    silent.close();

    const garbage = await Deno.connect({ hostname: "127.0.0.1", port });
    await writeAll(garbage, new TextEncoder().encode("GET / HTTP/1.1\r\nhost: x\r\n\r\n"));
    await readAll(garbage).catch(() => new Uint8Array(0));
    garbage.close();

    let s: Record<string, string> = {};
    for (let i = 0; i < 50 && s.handshake_failed !== "2"; i++) {
      await new Promise((r) => setTimeout(r, 50));
      s = await tlsStats(mosn.adminPort);
    }
    assert.equal(s.handshake_failed, "2");
    assert.equal(s.fail_handshake_timeout, "1");
    assert.equal(s.connection_error, "1");
    assert.equal(echo.accepted, 0, "nothing reached the upstream");
  } finally {
    await mosn.stop("fast");
    await echo.close();
  }
});
