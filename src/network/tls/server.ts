/**
 * Server-side TLS for a listener's filter chain on node:tls (Deno-native TLS has no SNI
 * callback, no client-certificate verification and no peer certificate; see
 * docs/design/tls.md): certificate choice by SNI among the chain's contexts, client
 * certificate checks (MOSN's verify_client / require_client_cert), a handshake timeout, and
 * the inspector's "TLS or plain text" decision on the first byte.
 */

import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import tls from "node:tls";
import type { TlsContextConfig } from "../../config/model.ts";
import type { RawConn, TlsInfo } from "../raw_conn.ts";
import { NodeSocketConn, socketAddr } from "./node_socket_conn.ts";
import { tlsInfoOf, verifyErrorOf } from "./tls_info.ts";

/** Why a handshake failed (stats names follow Envoy's ssl.* counters). */
export type TlsFailure =
  | "fail_verify_no_cert" // a client certificate was required and none came
  | "fail_verify_error" // the client certificate did not verify against ca_cert
  | "fail_handshake_timeout"
  | "connection_error"; // protocol error, alert from the peer, reset during the handshake

export interface TlsAcceptHandlers {
  /** The handshake finished and the peer passed the checks. */
  secure(conn: RawConn, info: TlsInfo): void;
  /** Inspector: the first byte was not a TLS handshake; serve the socket as plain text. */
  plain(conn: RawConn): void;
  /** The connection is gone; `detail` is the reason text for the log. */
  failed(reason: TlsFailure, detail: string): void;
}

/** First byte of a TLS record carrying a handshake (ClientHello). */
const TLS_HANDSHAKE = 0x16;

interface Ctx {
  readonly cfg: TlsContextConfig;
  readonly secure: tls.SecureContext;
}

export class TlsServer {
  readonly #contexts: Ctx[];
  /** Exact DNS name → context; "*.example.com" certificates are kept by their suffix. */
  readonly #byName = new Map<string, Ctx>();
  readonly #byWildcard = new Map<string, Ctx>();
  readonly #requestCert: boolean;
  readonly #alpn: string[] | undefined;
  readonly #timeoutMs: number;

  /**
   * Throws when node:tls refuses a context (bad ciphers, …): the listener cannot start.
   * `defaultAlpn` is offered when the contexts set no `alpn` (what the filter chain serves,
   * e.g. ["h2", "http/1.1"] for an HTTP/2 proxy).
   */
  constructor(
    contexts: readonly TlsContextConfig[],
    handshakeTimeoutMs: number,
    defaultAlpn: readonly string[] = [],
  ) {
    this.#contexts = contexts.map((cfg) => ({
      cfg,
      secure: tls.createSecureContext(options(cfg)),
    }));
    for (const c of this.#contexts) {
      for (const n of c.cfg.dnsNames) {
        const map = n.startsWith("*.") ? this.#byWildcard : this.#byName;
        const key = n.startsWith("*.") ? n.slice(1) : n;
        if (!map.has(key)) map.set(key, c); // the first context naming it wins
      }
    }
    this.#requestCert = contexts.some((c) => c.verifyClient || c.requireClientCert);
    // ALPN is negotiated before SNI selection completes, so one list serves the chain: the
    // first context's (MOSN configures it per context, usually identically).
    const configured = contexts[0]?.alpn ?? [];
    const alpn = configured.length > 0 ? configured : defaultAlpn;
    this.#alpn = alpn.length > 0 ? [...alpn] : undefined;
    this.#timeoutMs = handshakeTimeoutMs;
  }

  /** The ALPN protocols offered ([] = none). */
  get alpn(): readonly string[] {
    return this.#alpn ?? [];
  }

  /** The context for an SNI name: exact, then the longest wildcard suffix, then the first. */
  contextFor(servername: string): Ctx {
    const name = servername.toLowerCase();
    const exact = this.#byName.get(name);
    if (exact) return exact;
    for (let i = name.indexOf("."); i >= 0; i = name.indexOf(".", i + 1)) {
      const w = this.#byWildcard.get(name.slice(i));
      if (w) return w;
    }
    return this.#contexts[0]!;
  }

  /**
   * Takes an accepted socket (paused, allowHalfOpen) or another duplex with its `addrs`. With
   * `inspect`, peeks the first bytes: a TLS handshake record gets TLS, anything else is handed
   * over as plain text.
   */
  accept(
    sock: Socket | Duplex,
    inspect: boolean,
    h: TlsAcceptHandlers,
    addrs: { local: Deno.Addr; remote: Deno.Addr } = {
      local: socketAddr((sock as Socket).localAddress, (sock as Socket).localPort),
      remote: socketAddr((sock as Socket).remoteAddress, (sock as Socket).remotePort),
    },
  ): void {
    // Errors of the raw socket surface on the TLSSocket (or as 'close'); without a listener
    // here a stray one would be an uncaught exception.
    sock.on("error", noop);
    let expired = false;
    let timer: ReturnType<typeof setTimeout> | undefined = setTimeout(() => {
      timer = undefined;
      expired = true;
      sock.destroy();
      h.failed("fail_handshake_timeout", `no TLS handshake within ${this.#timeoutMs} ms`);
    }, this.#timeoutMs);
    const stopTimer = () => {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    };
    if (!inspect) {
      this.#handshake(sock, addrs, h, stopTimer, () => expired);
      return;
    }
    // A connection closed before its first byte (a TCP health probe) is neither TLS nor plain
    // text: not counted as a handshake failure.
    const onEarlyClose = () => stopTimer();
    sock.once("close", onEarlyClose);
    sock.once("data", (first: Uint8Array) => {
      sock.pause();
      sock.unshift(first);
      sock.off("close", onEarlyClose);
      if (first[0] === TLS_HANDSHAKE) {
        this.#handshake(sock, addrs, h, stopTimer, () => expired);
      } else {
        stopTimer();
        h.plain(new NodeSocketConn(sock, addrs));
        sock.resume();
      }
    });
    sock.resume();
  }

  #handshake(
    sock: Socket | Duplex,
    addrs: { local: Deno.Addr; remote: Deno.Addr },
    h: TlsAcceptHandlers,
    stopTimer: () => void,
    timedOut: () => boolean,
  ): void {
    let chosen = this.#contexts[0]!;
    let sni = "";
    const t = new tls.TLSSocket(sock, {
      isServer: true,
      secureContext: chosen.secure,
      requestCert: this.#requestCert,
      // Checked below per chosen context, so that failures are counted with their reason.
      rejectUnauthorized: false,
      ...(this.#alpn ? { ALPNProtocols: this.#alpn } : {}),
      // One context: no SNI callback (it costs ~25 µs per handshake); the name is read after.
      ...(this.#contexts.length > 1
        ? {
          SNICallback: (
            servername: string,
            cb: (e: Error | null, c?: tls.SecureContext) => void,
          ) => {
            sni = servername;
            chosen = this.contextFor(servername);
            cb(null, chosen.secure);
          },
        }
        : {}),
    });
    let done = false;
    const fail = (reason: TlsFailure, detail: string) => {
      if (done) return;
      done = true;
      stopTimer();
      t.destroy();
      if (!timedOut()) h.failed(reason, detail);
    };
    const onError = (e: Error) => {
      const code = (e as { code?: string }).code;
      if (code === "ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE") {
        fail("fail_verify_no_cert", "the client sent no certificate");
      } else fail("connection_error", e.message || String(code ?? e));
    };
    const onClose = () => fail("connection_error", "closed during the handshake");
    t.on("error", onError);
    t.once("close", onClose);
    t.once("secure", () => {
      if (done) return;
      if (sni === "") sni = servernameOf(t);
      const info = tlsInfoOf(t, sni);
      const cfg = chosen.cfg;
      if ((cfg.verifyClient || cfg.requireClientCert) && !info.peerCertificatePresent) {
        return fail("fail_verify_no_cert", "the client sent no certificate");
      }
      if (cfg.verifyClient && info.peerCertificatePresent) {
        const err = verifyErrorOf(t);
        if (err) return fail("fail_verify_error", `client certificate rejected: ${err}`);
      }
      done = true;
      stopTimer();
      t.off("error", onError);
      t.off("close", onClose);
      h.secure(new NodeSocketConn(t, addrs), info);
    });
  }
}

function noop(): void {}

/** The SNI name the client sent ("" when none). */
function servernameOf(t: tls.TLSSocket): string {
  const n = (t as unknown as { servername?: unknown }).servername;
  return typeof n === "string" ? n : "";
}

/** node:tls options for one context. */
export function options(c: TlsContextConfig): tls.SecureContextOptions {
  return {
    ...(c.certChain ? { cert: c.certChain, key: c.privateKey } : {}),
    ...(c.caCert ? { ca: c.caCert } : {}),
    ...(c.cipherSuites.length > 0 ? { ciphers: c.cipherSuites.join(":") } : {}),
    ...(c.ecdhCurves.length > 0 ? { ecdhCurve: c.ecdhCurves.join(":") } : {}),
    ...(c.minVersion ? { minVersion: c.minVersion } : {}),
    ...(c.maxVersion ? { maxVersion: c.maxVersion } : {}),
  };
}
