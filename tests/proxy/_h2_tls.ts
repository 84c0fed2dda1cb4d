/** Helpers of the HTTP/2 over TLS proxy tests: a TLS listener doc and a node:http2 TLS client. */

import http2 from "node:http2";
import type { TLSSocket } from "node:tls";
import { httpDoc, simpleRouter } from "../_support/http.ts";
import { concat } from "../_support/net.ts";
import { curl, type CurlResult, pem, pki, serverTls } from "../_support/tls.ts";

/** A TLS listener (certificate a.example.com) whose proxy speaks `proxy` to cluster "o". */
export function tlsDoc(
  cluster: { hosts: { address: string }[]; [k: string]: unknown },
  proxy: Record<string, unknown>,
  chain: Record<string, unknown> = { tls_context: serverTls("a") },
  extra: { accessLogs?: unknown[] } = {},
): Record<string, unknown> {
  const doc = httpDoc({
    clusters: [{ name: "o", ...cluster }],
    routers: [simpleRouter([{ match: { prefix: "/" }, route: { cluster_name: "o" } }])],
    proxy,
    ...extra,
  });
  // deno-lint-ignore no-explicit-any
  Object.assign((doc as any).servers[0].listeners[0].filter_chains[0], chain);
  return doc;
}

/** Cluster "o" with one host at `address` reached over TLS: SNI b.example.com, the test CA. */
export function tlsUpstream(
  address: string,
): { hosts: { address: string }[]; tls_context: unknown } {
  return {
    hosts: [{ address }],
    tls_context: { status: true, server_name: "b.example.com", ca_cert: pki("ca.pem") },
  };
}

export interface H2Reply {
  status: number;
  headers: http2.IncomingHttpHeaders;
  body: string;
  trailers: http2.IncomingHttpHeaders;
  alpn: string;
}

/** One request with node:http2 over TLS (trusting the test CA), optional request trailers. */
export function h2Request(
  port: number,
  path: string,
  body: string,
  reqTrailers?: Record<string, string>,
): Promise<H2Reply> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`https://127.0.0.1:${port}`, { ca: pem("ca.pem") });
    session.on("error", reject);
    const req = session.request(
      { ":method": "POST", ":path": path, "te": "trailers" },
      { waitForTrailers: reqTrailers !== undefined },
    );
    if (reqTrailers) req.on("wantTrailers", () => req.sendTrailers(reqTrailers));
    let headers: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    const chunks: Uint8Array[] = [];
    req.on("response", (h) => (headers = h));
    req.on("trailers", (t) => (trailers = t));
    req.on("data", (c: Uint8Array) => chunks.push(c));
    req.on("error", reject);
    req.on("end", () => {
      const alpn = String((session.socket as TLSSocket).alpnProtocol);
      session.close();
      resolve({
        status: Number(headers[":status"]),
        headers,
        body: new TextDecoder().decode(concat(chunks)),
        trailers,
        alpn,
      });
    });
    req.end(body);
  });
}

/**
 * curl over TLS offering h2 (trusting the test CA), `extra` arguments added; stdout is what
 * `writeOut` prints after the body (by default the HTTP version, " 2" for h2).
 */
export function curlH2(
  url: string,
  extra: string[] = [],
  writeOut = " %{http_version}",
): Promise<CurlResult> {
  return curl(["--http2", "--cacert", pki("ca.pem"), ...extra, "-w", writeOut, url]);
}
