/**
 * Puts the downstream TLS identity on a request: into its StreamInfo (access log, metrics) and
 * into Envoy's `x-forwarded-client-cert` header, so routes can match on the client identity
 * (`headers: [{name: "x-forwarded-client-cert", value: ".*sa/client.*", regex: true}]`) and
 * the upstream learns who called. On connections of TLS listeners a client-sent XFCC is always
 * removed first (Envoy's SANITIZE_SET), so it cannot be forged.
 */

import type { TlsInfo } from "../network/raw_conn.ts";
import type { HeaderMap } from "../protocol/header_map.ts";
import type { StreamInfo } from "../stream/stream_info.ts";

export const XFCC = "x-forwarded-client-cert";

/**
 * For requests on connections of a TLS listener; `tls` is undefined for the plain-text ones of
 * an inspector port, whose client-sent XFCC is dropped all the same (else a plain client could
 * claim any identity on a port that routes on it).
 */
export function applyDownstreamTls(
  info: StreamInfo,
  headers: HeaderMap,
  tls: TlsInfo | undefined,
): void {
  headers.delete(XFCC);
  if (!tls) return;
  info.downstreamTls = tls;
  info.downstreamPeerIdentity = tls.peerUriSans[0] ?? "";
  if (tls.peerCertificatePresent) headers.set(XFCC, xfccValue(tls));
}

/** `Subject="CN=client";URI=spiffe://…` (Envoy's element syntax; values with , ; = " quoted). */
export function xfccValue(tls: TlsInfo): string {
  const parts: string[] = [];
  if (tls.peerSubject) parts.push(`Subject=${quote(tls.peerSubject)}`);
  for (const uri of tls.peerUriSans) parts.push(`URI=${quote(uri)}`);
  return parts.join(";");
}

function quote(v: string): string {
  return /[,;="]/.test(v) ? `"${v.replace(/"/g, '\\"')}"` : v;
}
