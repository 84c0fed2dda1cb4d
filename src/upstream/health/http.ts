/**
 * HTTP/1.1 health check: one `Connection: close` request per check; the host is healthy when the
 * final status falls in one of `expectedStatuses` ([start, end) ranges).
 *
 * ```
 * GET /healthz HTTP/1.1
 * Host: <host || address>
 * User-Agent: mosn-health-check
 * Connection: close
 * ```
 */

import type { HealthCheckConfig } from "../../config/model.ts";
import { Http1Parser } from "../../protocol/http1/parser.ts";
import { Http1ParseError } from "../../protocol/http1/types.ts";
import type { Host } from "../types.ts";
import { BadResponseError, ClosedError, failureOf, withConnection, writeAll } from "./_net.ts";
import type { RawConn } from "../../network/raw_conn.ts";
import { type CheckResult, HEALTHY, unhealthy } from "./types.ts";

/** The check speaks HTTP/1.1: over TLS it says so by ALPN (an h2-first server then agrees). */
const HTTP1_ALPN = ["http/1.1"] as const;

/** Body bytes read past the head before the answer is judged on its status alone. */
const MAX_BODY_READ = 64 * 1024;

const encoder = new TextEncoder();

/** The request bytes of one check. */
export function httpCheckRequest(host: Host, cfg: HealthCheckConfig): Uint8Array {
  const authority = cfg.host || (host.address.kind === "unix" ? "localhost" : host.addressText);
  return encoder.encode(
    `${cfg.method} ${cfg.path} HTTP/1.1\r\nHost: ${authority}\r\n` +
      `User-Agent: mosn-health-check\r\nConnection: close\r\n\r\n`,
  );
}

/** True when `status` lies in one of the [start, end) ranges. */
export function statusExpected(
  status: number,
  ranges: readonly (readonly [number, number])[],
): boolean {
  return ranges.some(([start, end]) => status >= start && status < end);
}

/** Sends the request and reads the final response's status (the body is read, up to a cap). */
async function exchange(conn: RawConn, request: Uint8Array, method: string): Promise<number> {
  await writeAll(conn, request);
  let status = 0;
  let complete = false;
  const parser = Http1Parser.response({
    onHead(head) {
      if (head.status >= 200) status = head.status;
    },
    onBody() {},
    onTrailers() {},
    onMessageComplete() {
      if (status === 0) return; // an interim (1xx) response; the final one follows
      complete = true;
      parser.pause();
    },
  });
  parser.expectResponseTo(method);
  const buf = new Uint8Array(16 * 1024);
  let bodyBytes = 0;
  while (!complete) {
    const n = await conn.read(buf);
    if (n === null) {
      if (status !== 0) return status; // the head arrived; a cut body does not matter here
      throw new ClosedError();
    }
    parser.execute(buf.subarray(0, n));
    if (status !== 0 && (bodyBytes += n) > MAX_BODY_READ) break;
  }
  return status;
}

export async function httpCheck(
  host: Host,
  cfg: HealthCheckConfig,
  signal: AbortSignal,
): Promise<CheckResult> {
  try {
    const request = httpCheckRequest(host, cfg);
    const status = await withConnection(
      host.address,
      signal,
      (conn) => exchange(conn, request, cfg.method),
      host.cluster.config.tls,
      HTTP1_ALPN,
    );
    return statusExpected(status, cfg.expectedStatuses)
      ? HEALTHY
      : unhealthy(`status ${status}`, false);
  } catch (e) {
    if (e instanceof Http1ParseError && !signal.aborted) {
      return failureOf(new BadResponseError(`bad response: ${e.message}`), signal);
    }
    return failureOf(e, signal);
  }
}
