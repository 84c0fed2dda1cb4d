/**
 * TLS metrics (type `tls`, labels `listener` or `cluster`), after Envoy's ssl.* counters:
 * handshakes, failures by reason, and plain-text connections taken by an inspector listener.
 */

import type { Counter, StatsRegistry } from "./stats.ts";

export interface TlsStats {
  readonly handshake: Counter;
  readonly handshakeFailed: Counter;
  readonly failVerifyNoCert: Counter;
  readonly failVerifyError: Counter;
  readonly failHandshakeTimeout: Counter;
  readonly connectionError: Counter;
  /** Upstream: the server chose another ALPN protocol than the pool speaks (or none for h2). */
  readonly failAlpn: Counter;
  /** Inspector listeners: connections that turned out to be plain text. */
  readonly plaintext: Counter;
  /** By failure reason name (the TlsFailure strings). */
  readonly byReason: ReadonlyMap<string, Counter>;
}

export function tlsStats(reg: StatsRegistry, labels: Record<string, string>): TlsStats {
  const s = reg.scope("tls", labels);
  const failVerifyNoCert = s.counter("fail_verify_no_cert");
  const failVerifyError = s.counter("fail_verify_error");
  const failHandshakeTimeout = s.counter("fail_handshake_timeout");
  const connectionError = s.counter("connection_error");
  const failAlpn = s.counter("fail_alpn");
  return {
    handshake: s.counter("handshake"),
    handshakeFailed: s.counter("handshake_failed"),
    failVerifyNoCert,
    failVerifyError,
    failHandshakeTimeout,
    connectionError,
    failAlpn,
    plaintext: s.counter("plaintext"),
    byReason: new Map([
      ["fail_verify_no_cert", failVerifyNoCert],
      ["fail_verify_error", failVerifyError],
      ["fail_handshake_timeout", failHandshakeTimeout],
      ["connection_error", connectionError],
      ["fail_alpn", failAlpn],
    ]),
  };
}
