/**
 * Puts the downstream TLS identity on a request: into its StreamInfo (access log, metrics) and
 * into Envoy's `x-forwarded-client-cert` header, so routes can match on the client identity
 * (`headers: [{name: "x-forwarded-client-cert", value: ".*sa/client.*", regex: true}]`) and
 * the upstream learns who called. On TLS connections a client-sent XFCC is always removed
 * first (Envoy's SANITIZE_SET), so it cannot be forged.
 */

import type { TlsInfo } from "../network/raw_conn.ts";
import type { HeaderMap } from "../protocol/header_map.ts";
import type { StreamInfo } from "../stream/stream_info.ts";

export const XFCC = "x-forwarded-client-cert";

export function applyDownstreamTls(info: StreamInfo, headers: HeaderMap, tls: TlsInfo): void {
  info.downstreamTls = tls;
  info.downstreamPeerIdentity = tls.peerUriSans[0] ?? "";
  headers.delete(XFCC);
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
