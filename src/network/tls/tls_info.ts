/** Reads what a finished node:tls handshake negotiated into a TlsInfo. */

import type { TLSSocket } from "node:tls";
import type { TlsInfo } from "../raw_conn.ts";

interface PeerCert {
  subject?: Record<string, string | string[]>;
  subjectaltname?: string;
  raw?: Uint8Array;
}

/** `sni`: the name the client asked for (server side) or the one we sent (client side). */
export function tlsInfoOf(t: TLSSocket, sni: string): TlsInfo {
  const peer = t.getPeerCertificate() as unknown as PeerCert | null;
  const present = peer !== null && (peer.raw !== undefined || peer.subject !== undefined);
  return {
    version: t.getProtocol() ?? "",
    cipher: t.getCipher()?.name ?? "",
    alpn: typeof t.alpnProtocol === "string" ? t.alpnProtocol : "",
    sni,
    peerCertificatePresent: present,
    peerUriSans: present ? uriSans(peer.subjectaltname ?? "") : [],
    peerSubject: present ? subjectText(peer.subject) : "",
  };
}

/** "DNS:a, URI:spiffe://x" → ["spiffe://x"]. */
export function uriSans(altNames: string): string[] {
  const out: string[] = [];
  for (const part of altNames.split(",")) {
    const p = part.trim();
    if (p.startsWith("URI:")) out.push(p.slice(4));
  }
  return out;
}

/** { CN: "client", O: "acme" } → "CN=client,O=acme" (Envoy prints RFC 2253 order). */
function subjectText(subject: Record<string, string | string[]> | undefined): string {
  if (!subject) return "";
  const parts: string[] = [];
  for (const [k, v] of Object.entries(subject)) {
    for (const x of Array.isArray(v) ? v : [v]) parts.push(`${k}=${x}`);
  }
  return parts.reverse().join(",");
}

/**
 * The peer-verification result of a finished handshake: "" when the chain verified, else an
 * OpenSSL-style code (UNABLE_TO_VERIFY_LEAF_SIGNATURE, CERT_HAS_EXPIRED, …). node:tls computes
 * `authorized` only for sockets accepted by a tls.Server; a TLSSocket made by hand (as here,
 * to peek first) asks its handle.
 */
export function verifyErrorOf(t: TLSSocket): string {
  const handle = (t as unknown as { ssl?: { verifyError?: () => unknown } }).ssl;
  const v = handle?.verifyError?.();
  if (v === null || v === undefined || v === "") return "";
  if (typeof v === "string") return v;
  const code = (v as { code?: unknown }).code;
  return typeof code === "string" ? code : String((v as Error).message ?? v);
}
