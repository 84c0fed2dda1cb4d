/** HTTP/2 test helpers: real peers (curl, nghttp) as clients and an h2c origin on node:http2. */

import http2 from "node:http2";
import type { AddressInfo } from "node:net";

export interface CmdResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion and captures its output. */
export async function run(cmd: string, args: string[]): Promise<CmdResult> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  const d = new TextDecoder();
  return { code: out.code, stdout: d.decode(out.stdout), stderr: d.decode(out.stderr) };
}

export interface H2Origin {
  readonly port: number;
  readonly address: string;
  /** Requests seen, with their pseudo-headers and headers. */
  readonly seen: http2.IncomingHttpHeaders[];
  /** Connections (sessions) accepted so far. */
  sessionsOpened(): number;
  close(): Promise<void>;
}

/**
 * An h2c (prior knowledge) origin on node:http2, or h2 over TLS with `tls` (certificate, key,
 * ALPN list…); `handler` answers each stream.
 */
export async function h2Origin(
  handler: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void,
  settings: http2.Settings = {},
  tls?: http2.SecureServerOptions,
): Promise<H2Origin> {
  const server = tls
    ? http2.createSecureServer({ ...tls, settings })
    : http2.createServer({ settings });
  const seen: http2.IncomingHttpHeaders[] = [];
  const sessions = new Set<http2.ServerHttp2Session>();
  let opened = 0;
  server.on("session", (s) => {
    opened++;
    sessions.add(s);
    s.on("close", () => sessions.delete(s));
  });
  server.on("stream", (stream, headers) => {
    seen.push(headers);
    stream.on("error", () => {});
    handler(stream as http2.ServerHttp2Stream, headers);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    address: `127.0.0.1:${port}`,
    seen,
    sessionsOpened: () => opened,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sessions) s.destroy();
        server.close(() => r());
      }),
  };
}
