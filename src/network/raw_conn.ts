/**
 * The byte transport under a Connection. Deno.TcpConn and Deno.UnixConn satisfy it as they
 * are (the fast path: no wrapper, no extra allocation per read); node:net / node:tls sockets
 * are adapted by src/network/tls/node_socket_conn.ts.
 */

export interface RawConn {
  readonly localAddr: Deno.Addr;
  readonly remoteAddr: Deno.Addr;
  /** Reads into `p`; resolves with the byte count, or null at end of stream. */
  read(p: Uint8Array): Promise<number | null>;
  /** Writes from `p`; resolves with the bytes taken (may be fewer than asked). */
  write(p: Uint8Array): Promise<number>;
  /** Half-close: no more writes; reads go on. */
  closeWrite(): Promise<void>;
  close(): void;
  setNoDelay?(noDelay?: boolean): void;
}

/** What a TLS connection negotiated and who the peer is (Connection.tls). */
export interface TlsInfo {
  /** "TLSv1.3", "TLSv1.2". */
  readonly version: string;
  readonly cipher: string;
  /** The ALPN protocol chosen ("h2", "http/1.1"), "" when none was negotiated. */
  readonly alpn: string;
  /** The SNI name the client sent ("" when none); upstream: the name we sent. */
  readonly sni: string;
  readonly peerCertificatePresent: boolean;
  /** URI SANs of the peer certificate, e.g. spiffe://cluster.local/ns/default/sa/client. */
  readonly peerUriSans: readonly string[];
  /** Peer subject in RFC 2253-ish form, "CN=client,O=…" ("" when no certificate). */
  readonly peerSubject: string;
}
