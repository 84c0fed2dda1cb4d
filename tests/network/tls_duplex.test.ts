import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/parse.ts";
import type { RawConn, TlsInfo } from "../../src/network/raw_conn.ts";
import { DenoConnDuplex } from "../../src/network/tls/deno_conn_duplex.ts";
import { TlsServer } from "../../src/network/tls/server.ts";
import { PARSE_OPTIONS } from "../../src/server/parse_options.ts";
import { readAll, writeAll } from "../_support/net.ts";
import { pem, serverTls } from "../_support/tls.ts";

/** The tls_context of a one-listener config, parsed as the server would. */
function contexts() {
  const { config } = parseConfig({
    servers: [{
      listeners: [{
        name: "l",
        address: "127.0.0.1:0",
        filter_chains: [{
          tls_context: serverTls("a"),
          filters: [{ type: "tcp_proxy", config: { cluster: "c" } }],
        }],
      }],
    }],
    cluster_manager: { clusters: [{ name: "c", hosts: [{ address: "127.0.0.1:9" }] }] },
  }, PARSE_OPTIONS);
  return config.servers[0]!.listeners[0]!.filterChains[0]!.tlsContexts;
}

Deno.test("TLS over a Deno socket (a use_original_dst hand-over): handshake, echo, half-close", async () => {
  const server = new TlsServer(contexts(), 5000);
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  const served = (async () => {
    const raw = await l.accept();
    const { conn, info } = await new Promise<{ conn: RawConn; info: TlsInfo }>((resolve, reject) =>
      server.accept(new DenoConnDuplex(raw), false, {
        secure: (conn, info) => resolve({ conn, info }),
        plain: () => reject(new Error("not TLS?")),
        failed: (reason, detail) => reject(new Error(`${reason}: ${detail}`)),
      }, { local: raw.localAddr, remote: raw.remoteAddr })
    );
    // Echo until the client half-closes, then half-close back.
    const buf = new Uint8Array(8192);
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      let off = 0;
      while (off < n) off += await conn.write(buf.slice(off, n));
    }
    await conn.closeWrite();
    return info;
  })();
  const c = await Deno.connectTls({ hostname: "127.0.0.1", port, caCerts: [pem("ca.pem")] });
  const data = new TextEncoder().encode("x".repeat(100_000));
  const reading = readAll(c);
  await writeAll(c, data);
  await c.closeWrite();
  assert.equal((await reading).length, data.length);
  c.close();
  const info = await served;
  assert.match(info.version, /^TLSv1\.[23]$/);
  assert.equal(info.peerCertificatePresent, false);
  l.close();
});
