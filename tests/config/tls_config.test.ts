import assert from "node:assert/strict";
import { ConfigError } from "../../src/common/errors.ts";
import { parseConfig } from "../../src/config/parse.ts";
import { PARSE_OPTIONS } from "../../src/server/parse_options.ts";
import { pem, pki } from "../_support/tls.ts";

function doc(tls: Record<string, unknown>, cluster: Record<string, unknown> = {}) {
  return {
    servers: [{
      listeners: [{
        name: "l1",
        address: "127.0.0.1:0",
        filter_chains: [{
          tls_context: tls,
          filters: [{ type: "tcp_proxy", config: { cluster: "c1" } }],
        }],
      }],
    }],
    cluster_manager: {
      clusters: [{ name: "c1", hosts: [{ address: "127.0.0.1:9" }], ...cluster }],
    },
  };
}

function issues(d: unknown): { path: string; message: string }[] {
  try {
    parseConfig(d, PARSE_OPTIONS);
  } catch (e) {
    if (e instanceof ConfigError) return [...e.issues];
    throw e;
  }
  return [];
}

Deno.test("tls_context: files and inline PEM are read; names come from the certificate", () => {
  const { config, warnings } = parseConfig(
    doc({
      status: true,
      cert_chain: pki("a.pem"),
      private_key: pem("a.key"),
      ca_cert: pki("ca.pem"),
      verify_client: true,
      min_version: "TLS1.2",
      cipher_suites: "ECDHE-ECDSA-AES128-GCM-SHA256,ECDHE-ECDSA-WITH-CHACHA20-POLY1305",
      ecdh_curves: "x25519,p256",
      alpn: "h2,http/1.1",
    }, {
      tls_context: { status: true, server_name: "b.example.com", ca_cert: pki("ca.pem") },
    }),
    PARSE_OPTIONS,
  );
  assert.deepEqual(warnings.map((w) => w.path), [
    "servers[0].listeners[0].filter_chains[0].tls_context.cipher_suites",
    "servers[0].listeners[0].filter_chains[0].tls_context.ecdh_curves",
  ]);
  const t = config.servers[0]!.listeners[0]!.filterChains[0]!.tlsContexts[0]!;
  assert.match(t.certChain, /BEGIN CERTIFICATE/);
  assert.deepEqual(t.dnsNames, ["a.example.com", "localhost"]);
  assert.equal(t.minVersion, "TLSv1.2");
  assert.deepEqual(t.cipherSuites, [
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
  ]);
  assert.deepEqual(t.ecdhCurves, ["X25519", "P-256"]);
  assert.deepEqual(t.alpn, ["h2", "http/1.1"]);
  assert.equal(config.clusterManager.clusters[0]!.tls?.serverName, "b.example.com");
});

Deno.test("tls_context: status false means plain text (MOSN)", () => {
  const { config } = parseConfig(doc({ status: false, cert_chain: pki("a.pem") }), PARSE_OPTIONS);
  assert.deepEqual(config.servers[0]!.listeners[0]!.filterChains[0]!.tlsContexts, []);
});

Deno.test("tls_context: an unreadable certificate file is a config error naming the path", () => {
  const got = issues(doc({
    status: true,
    cert_chain: "/nonexistent/server.pem",
    private_key: pki("a.key"),
  }));
  const hit = got.find((i) =>
    i.path === "servers[0].listeners[0].filter_chains[0].tls_context.cert_chain"
  );
  assert.ok(hit, JSON.stringify(got));
  assert.match(hit.message, /cannot read file "\/nonexistent\/server\.pem"/);
});

Deno.test("tls_context: a key that does not match, bad versions and unknown ciphers are refused", () => {
  const got = issues(doc({
    status: true,
    cert_chain: pki("a.pem"),
    private_key: pki("b.key"),
    min_version: "SSL3",
    cipher_suites: "RC4-MD5",
  }));
  const p = "servers[0].listeners[0].filter_chains[0].tls_context";
  assert.deepEqual(got.map((i) => i.path).sort(), [
    `${p}.cipher_suites`,
    `${p}.min_version`,
    `${p}.private_key`,
  ]);
  assert.match(got.find((i) => i.path.endsWith("private_key"))!.message, /does not match/);
});

Deno.test("tls_context: verify_client needs ca_cert; a listener needs a certificate", () => {
  const got = issues(doc({ status: true, verify_client: true }));
  const paths = got.map((i) => i.path);
  assert.ok(paths.includes("servers[0].listeners[0].filter_chains[0].tls_context.cert_chain"));
  assert.ok(paths.includes("servers[0].listeners[0].filter_chains[0].tls_context.ca_cert"));
});
