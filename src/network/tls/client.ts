/**
 * Client-side TLS to an upstream host on node:tls: SNI (`server_name`), verification against
 * `ca_cert` (or the system roots), a client certificate for mTLS, `insecure_skip`, ALPN.
 * node:tls rather than Deno.connectTls because the latter cannot skip verification per
 * connection nor send an SNI name different from the address dialled.
 */

import tls from "node:tls";
import { ConnectError } from "../../common/errors.ts";
import type { Address, TlsContextConfig } from "../../config/model.ts";
import { formatAddress } from "../address.ts";
import type { RawConn, TlsInfo } from "../raw_conn.ts";
import { NodeSocketConn, socketAddr } from "./node_socket_conn.ts";
import { options } from "./server.ts";
import { tlsInfoOf } from "./tls_info.ts";

/** A failed upstream TLS handshake: a connect failure whose reason names the TLS problem. */
export class TlsConnectError extends ConnectError {
  /**
   * "fail_verify_error" (the server's certificate was refused), "fail_alpn" (the server did
   * not choose the protocol the pool speaks) or "connection_error".
   */
  readonly tlsReason: "fail_verify_error" | "fail_alpn" | "connection_error";
  constructor(address: string, reason: TlsConnectError["tlsReason"], cause: unknown) {
    super(address, false, cause);
    this.tlsReason = reason;
    this.message = `TLS handshake with ${address} failed: ${(cause as Error)?.message ?? cause}`;
    this.name = "TlsConnectError";
  }
}

/** Codes node:tls gives when the server's certificate does not verify. */
const VERIFY_CODES = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "CERT_UNTRUSTED",
]);

export interface DialTlsOptions {
  signal?: AbortSignal;
  /** ALPN protocols to offer when the tls_context configures none. */
  alpn?: readonly string[];
}

/**
 * Connects and completes a TLS handshake within `timeoutMs` (0 = no limit). Rejects with
 * ConnectError (connect refused or timed out) or TlsConnectError (handshake failed).
 */
export function dialTls(
  addr: Address,
  timeoutMs: number,
  cfg: TlsContextConfig,
  opts: DialTlsOptions = {},
): Promise<{ conn: RawConn; info: TlsInfo }> {
  const signal = opts.signal;
  const alpn = cfg.alpn.length > 0 ? cfg.alpn : opts.alpn ?? [];
  const text = formatAddress(addr);
  return new Promise((resolve, reject) => {
    const servername = cfg.serverName;
    // allowHalfOpen (a half-close from the upstream is forwarded, not answered with ours) is a
    // TLSSocket option that node's typings leave out of ConnectionOptions.
    const opts: tls.ConnectionOptions & { allowHalfOpen: boolean } = {
      ...(addr.kind === "unix" ? { path: addr.path } : { host: addr.host, port: addr.port }),
      ...options(cfg),
      ...(servername ? { servername } : {}),
      rejectUnauthorized: !cfg.insecureSkip,
      ...(alpn.length > 0 ? { ALPNProtocols: [...alpn] } : {}),
      allowHalfOpen: true,
    };
    const t = tls.connect(opts);
    let settled = false;
    let connected = false;
    t.once("connect", () => (connected = true));
    const timer = timeoutMs > 0
      ? setTimeout(() => fail(new ConnectError(text, true, new Error("timed out"))), timeoutMs)
      : undefined;
    const onAbort = () => fail(new ConnectError(text, true, new Error("aborted")));
    signal?.addEventListener("abort", onAbort, { once: true });
    function fail(e: Error): void {
      if (settled) return;
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      t.destroy();
      reject(e);
    }
    const onError = (e: Error) => {
      const code = (e as { code?: string }).code ?? "";
      if (VERIFY_CODES.has(code)) fail(new TlsConnectError(text, "fail_verify_error", e));
      else if (code === "ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL") {
        // The server supports none of the ALPN protocols offered.
        fail(new TlsConnectError(text, "fail_alpn", e));
      } else if (connected) fail(new TlsConnectError(text, "connection_error", e));
      else fail(new ConnectError(text, false, e));
    };
    const onClose = () => fail(new TlsConnectError(text, "connection_error", "closed"));
    t.on("error", onError);
    t.once("close", onClose);
    t.once("secureConnect", () => {
      if (settled) return;
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      t.off("error", onError);
      t.off("close", onClose);
      const conn = new NodeSocketConn(t, {
        local: socketAddr(t.localAddress, t.localPort),
        remote: addr.kind === "unix"
          ? { transport: "unix", path: addr.path }
          : { transport: "tcp", hostname: addr.host, port: addr.port },
      });
      resolve({ conn, info: tlsInfoOf(t, servername) });
    });
  });
}
