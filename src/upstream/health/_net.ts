/** Socket helpers of the health checks: abortable connects, full writes, error → CheckResult. */

import type { Address, TlsContextConfig } from "../../config/model.ts";
import type { RawConn } from "../../network/raw_conn.ts";
import { dialTls } from "../../network/tls/client.ts";
import { type CheckResult, unhealthy } from "./types.ts";

/** The peer answered something a check cannot accept (not a network failure). */
export class BadResponseError extends Error {
  override readonly name = "BadResponseError";
}

/** The peer closed the connection before answering. */
export class ClosedError extends Error {
  override readonly name = "ClosedError";
  constructor() {
    super("connection closed");
  }
}

function abortError(): DOMException {
  return new DOMException("health check aborted", "AbortError");
}

/** Connects to `addr`; aborting `signal` cancels a TCP connect (a unix connect is immediate). */
export async function connectTo(addr: Address, signal: AbortSignal): Promise<Deno.Conn> {
  if (signal.aborted) throw abortError();
  if (addr.kind === "unix") {
    const conn = await Deno.connect({ transport: "unix", path: addr.path });
    if (signal.aborted) {
      conn.close();
      throw abortError();
    }
    return conn;
  }
  return await Deno.connect({ hostname: addr.host, port: addr.port, signal });
}

/**
 * Connects (over TLS when the cluster has a tls_context: an HTTP check must speak what the
 * host speaks; `alpn` is offered when the tls_context sets none), runs `fn`, and always closes
 * the connection — also as soon as `signal` aborts, so a pending read or write fails at once.
 */
export async function withConnection<T>(
  addr: Address,
  signal: AbortSignal,
  fn: (conn: RawConn) => Promise<T>,
  tls?: TlsContextConfig,
  alpn?: readonly string[],
): Promise<T> {
  if (signal.aborted) throw abortError();
  const conn: RawConn = tls
    ? (await dialTls(addr, 0, tls, { signal, ...(alpn ? { alpn } : {}) })).conn
    : await connectTo(addr, signal);
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    try {
      conn.close();
    } catch {
      // already closed
    }
  };
  signal.addEventListener("abort", close, { once: true });
  try {
    if (signal.aborted) throw abortError();
    return await fn(conn);
  } finally {
    signal.removeEventListener("abort", close);
    close();
  }
}

/** Writes all of `data` (socket writes may be partial). */
export async function writeAll(conn: RawConn, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.byteLength) off += await conn.write(data.subarray(off));
}

/**
 * Reads until `complete(bytes)` is true, at most `maxBytes`; returns what was read.
 * Throws ClosedError at EOF and BadResponseError past `maxBytes`.
 */
export async function readUntil(
  conn: RawConn,
  complete: (data: Uint8Array) => boolean,
  maxBytes: number,
): Promise<Uint8Array> {
  let data = new Uint8Array(0);
  const buf = new Uint8Array(4096);
  while (!complete(data)) {
    if (data.byteLength >= maxBytes) {
      throw new BadResponseError(`response larger than ${maxBytes} bytes`);
    }
    const n = await conn.read(buf);
    if (n === null) throw new ClosedError();
    const next = new Uint8Array(data.byteLength + n);
    next.set(data);
    next.set(buf.subarray(0, n), data.byteLength);
    data = next;
  }
  return data;
}

/** Maps what a check threw to a failed CheckResult. */
export function failureOf(e: unknown, signal: AbortSignal): CheckResult {
  if (signal.aborted) return unhealthy("timeout", true);
  if (e instanceof BadResponseError) return unhealthy(e.message, false);
  if (e instanceof ClosedError) return unhealthy("connection closed", true);
  if (e instanceof Deno.errors.ConnectionRefused) return unhealthy("connect refused", true);
  if (e instanceof Deno.errors.ConnectionReset) return unhealthy("connection reset", true);
  if (e instanceof Deno.errors.BrokenPipe) return unhealthy("connection reset", true);
  if (e instanceof Deno.errors.TimedOut) return unhealthy("timeout", true);
  if (e instanceof Deno.errors.NotFound) return unhealthy("connect failed: no such socket", true);
  const msg = e instanceof Error ? e.message : String(e);
  return unhealthy(`network error: ${msg}`, true);
}
