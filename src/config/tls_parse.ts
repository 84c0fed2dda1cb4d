/**
 * MOSN's `tls_context` (listener filter chains, `tls_context_set`, clusters) → TlsContextConfig.
 * Certificates and keys are inline PEM or file paths (relative to the working directory, as in
 * MOSN); files are read here, so an unreadable file is a config error naming its JSON path.
 */

import { createPrivateKey, X509Certificate } from "node:crypto";
import type { TlsContextConfig, TlsVersion } from "./model.ts";
import { describe, ObjReader } from "./reader.ts";

/** MOSN's (Go-style) cipher suite names → OpenSSL names; OpenSSL names are accepted as well. */
const CIPHERS: Readonly<Record<string, string>> = {
  "ECDHE-ECDSA-AES256-GCM-SHA384": "ECDHE-ECDSA-AES256-GCM-SHA384",
  "ECDHE-RSA-AES256-GCM-SHA384": "ECDHE-RSA-AES256-GCM-SHA384",
  "ECDHE-ECDSA-AES128-GCM-SHA256": "ECDHE-ECDSA-AES128-GCM-SHA256",
  "ECDHE-RSA-AES128-GCM-SHA256": "ECDHE-RSA-AES128-GCM-SHA256",
  "ECDHE-ECDSA-WITH-CHACHA20-POLY1305": "ECDHE-ECDSA-CHACHA20-POLY1305",
  "ECDHE-RSA-WITH-CHACHA20-POLY1305": "ECDHE-RSA-CHACHA20-POLY1305",
  "ECDHE-ECDSA-CHACHA20-POLY1305": "ECDHE-ECDSA-CHACHA20-POLY1305",
  "ECDHE-RSA-CHACHA20-POLY1305": "ECDHE-RSA-CHACHA20-POLY1305",
  "ECDHE-RSA-AES256-CBC-SHA": "ECDHE-RSA-AES256-SHA",
  "ECDHE-RSA-AES128-CBC-SHA": "ECDHE-RSA-AES128-SHA",
  "ECDHE-ECDSA-AES256-CBC-SHA": "ECDHE-ECDSA-AES256-SHA",
  "ECDHE-ECDSA-AES128-CBC-SHA": "ECDHE-ECDSA-AES128-SHA",
  "RSA-AES256-CBC-SHA": "AES256-SHA",
  "RSA-AES128-CBC-SHA": "AES128-SHA",
  // TLS 1.3 suites (OpenSSL spelling)
  "TLS_AES_128_GCM_SHA256": "TLS_AES_128_GCM_SHA256",
  "TLS_AES_256_GCM_SHA384": "TLS_AES_256_GCM_SHA384",
  "TLS_CHACHA20_POLY1305_SHA256": "TLS_CHACHA20_POLY1305_SHA256",
};

const CURVES: Readonly<Record<string, string>> = {
  x25519: "X25519",
  p256: "P-256",
  p384: "P-384",
  p521: "P-521",
  "p-256": "P-256",
  "p-384": "P-384",
  "p-521": "P-521",
};

const VERSIONS: Readonly<Record<string, TlsVersion>> = {
  "tls1.0": "TLSv1",
  "tls1.1": "TLSv1.1",
  "tls1.2": "TLSv1.2",
  "tls1.3": "TLSv1.3",
  "tlsv1": "TLSv1",
  "tlsv1.0": "TLSv1",
  "tlsv1.1": "TLSv1.1",
  "tlsv1.2": "TLSv1.2",
  "tlsv1.3": "TLSv1.3",
};

export type TlsSide = "server" | "client";

/**
 * One `tls_context` object; undefined when `status` is not true (MOSN: TLS off). Server side
 * requires cert_chain and private_key; a client may present one (mTLS to the upstream).
 */
export function parseTlsContext(r: ObjReader, side: TlsSide): TlsContextConfig | undefined {
  const status = r.bool("status", false);
  const issuesBefore = r.ctx.issues.length;
  const certChain = pemOrFile(r, "cert_chain");
  const privateKey = pemOrFile(r, "private_key");
  const caCert = pemOrFile(r, "ca_cert");
  // An unreadable file is reported once; the pairing checks below would only echo it.
  const unreadable = r.ctx.issues.length > issuesBefore;
  const verifyClient = r.bool("verify_client", false);
  const requireClientCert = r.bool("require_client_cert", false);
  const insecureSkip = r.bool("insecure_skip", false);
  const serverName = r.str("server_name", "");
  const cipherSuites = listOf(r, "cipher_suites", (v) => CIPHERS[v.toUpperCase()], "cipher suite");
  const ecdhCurves = listOf(r, "ecdh_curves", (v) => CURVES[v.toLowerCase()], "curve");
  const minVersion = versionOf(r, "min_version");
  const maxVersion = versionOf(r, "max_version");
  const alpn = listOf(r, "alpn", (v) => v.toLowerCase(), "protocol");
  // Measured: Deno's node:tls (rustls) honours min/max_version but picks suites and curves
  // from its own modern set (AES-GCM, ChaCha20-Poly1305; X25519, P-256, P-384), whatever is
  // asked. Say so rather than pretend.
  for (
    const [key, list] of [["cipher_suites", cipherSuites], ["ecdh_curves", ecdhCurves]] as const
  ) {
    if (list.length > 0) {
      r.ctx.warn(
        r.at(key),
        "accepted but not enforced: the TLS library negotiates among its own modern choices",
      );
    }
  }
  r.allow("type", "fall_back", "extend_verify", "sds_source", "verify_server_name");
  r.done();
  if (!status) return undefined;

  let dnsNames: string[] = [];
  if (certChain) {
    const names = certificateNames(certChain);
    if (typeof names === "string") r.ctx.error(r.at("cert_chain"), names);
    else dnsNames = names;
  }
  if (unreadable) {
    // reported above
  } else if (certChain && privateKey) {
    const bad = checkKeyPair(certChain, privateKey);
    if (bad) r.ctx.error(r.at("private_key"), bad);
  } else if (certChain && !privateKey) {
    r.ctx.error(r.at("private_key"), "is required with cert_chain");
  } else if (!certChain && privateKey) {
    r.ctx.error(r.at("cert_chain"), "is required with private_key");
  } else if (side === "server") {
    r.ctx.error(r.at("cert_chain"), "is required: a TLS listener needs a certificate");
  }
  if (caCert && !/-----BEGIN CERTIFICATE-----/.test(caCert)) {
    r.ctx.error(r.at("ca_cert"), "expected PEM certificates");
  }
  if (side === "server" && verifyClient && !caCert) {
    r.ctx.error(
      r.at("ca_cert"),
      "is required with verify_client (the CA client certificates chain to)",
    );
  }
  if (minVersion && maxVersion && minVersion > maxVersion) {
    r.ctx.error(r.at("min_version"), `is above max_version (${maxVersion})`);
  }
  return {
    certChain,
    privateKey,
    caCert,
    verifyClient,
    requireClientCert,
    insecureSkip,
    serverName,
    cipherSuites,
    ecdhCurves,
    ...(minVersion ? { minVersion } : {}),
    ...(maxVersion ? { maxVersion } : {}),
    alpn,
    dnsNames,
  };
}

/** Inline PEM, or a path whose contents are read now. "" when absent. */
function pemOrFile(r: ObjReader, key: string): string {
  const v = r.str(key, "");
  if (v === "" || v.includes("-----BEGIN")) return v;
  try {
    return Deno.readTextFileSync(v);
  } catch (e) {
    r.ctx.error(r.at(key), `cannot read file ${JSON.stringify(v)}: ${(e as Error).message}`);
    return "";
  }
}

/** A comma-separated string (MOSN) or an array of strings, each mapped by `map`. */
function listOf(
  r: ObjReader,
  key: string,
  map: (v: string) => string | undefined,
  what: string,
): string[] {
  const raw = r.raw(key);
  if (raw === undefined || raw === null || raw === "") return [];
  let items: unknown[];
  if (typeof raw === "string") items = raw.split(",");
  else if (Array.isArray(raw)) items = raw;
  else {
    r.ctx.error(r.at(key), `expected a comma-separated string or an array, got ${describe(raw)}`);
    return [];
  }
  const out: string[] = [];
  for (const item of items) {
    const text = typeof item === "string" ? item.trim() : "";
    const m = text ? map(text) : undefined;
    if (m === undefined) r.ctx.error(r.at(key), `unknown ${what} ${describe(item)}`);
    else out.push(m);
  }
  return out;
}

function versionOf(r: ObjReader, key: string): TlsVersion | undefined {
  const v = r.str(key, "");
  if (v === "") return undefined;
  const hit = VERSIONS[v.toLowerCase()];
  if (!hit) {
    r.ctx.error(r.at(key), `expected TLS1.0, TLS1.1, TLS1.2 or TLS1.3, got ${describe(v)}`);
  }
  return hit;
}

/** DNS names a certificate serves (SAN DNS entries, else its CN), or an error message. */
export function certificateNames(pem: string): string[] | string {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch (e) {
    return `not a PEM certificate: ${(e as Error).message}`;
  }
  const names: string[] = [];
  for (const part of (cert.subjectAltName ?? "").split(",")) {
    const p = part.trim();
    if (p.startsWith("DNS:")) names.push(p.slice(4).toLowerCase());
  }
  if (names.length === 0) {
    const cn = /(?:^|\n)CN=([^\n]*)/.exec(cert.subject)?.[1];
    if (cn) names.push(cn.toLowerCase());
  }
  return names;
}

function checkKeyPair(certPem: string, keyPem: string): string | undefined {
  let key;
  try {
    key = createPrivateKey(keyPem);
  } catch (e) {
    return `not a PEM private key: ${(e as Error).message}`;
  }
  try {
    if (!new X509Certificate(certPem).checkPrivateKey(key)) {
      return "does not match the certificate in cert_chain";
    }
  } catch {
    return undefined; // the certificate error is reported on cert_chain
  }
  return undefined;
}
