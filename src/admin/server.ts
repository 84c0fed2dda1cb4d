/**
 * The admin HTTP server: MOSN's `/api/v1/*` and Envoy-style endpoints over `Deno.serve`,
 * reading the running server through an {@link AdminSource}. A failing handler answers 500
 * JSON and is logged; it never takes the process down.
 */

import type { Route } from "./routes.ts";
import { dispatch, ROUTES } from "./routes.ts";
import type { AdminContext } from "./http.ts";
import { jsonError } from "./http.ts";
import type { AdminSource } from "./types.ts";

export interface AdminServer {
  /** The host name bound. */
  readonly hostname: string;
  /** The port actually bound (the real one when 0 was asked). */
  readonly port: number;
  /** Stops accepting, lets in-flight requests finish; safe to call more than once. */
  close(): Promise<void>;
}

export interface AdminOptions {
  /** Milliseconds since the epoch, for uptime; default `Date.now`. */
  readonly now?: () => number;
  /** Replaces the route table (tests add failing routes through this). */
  readonly routes?: readonly Route[];
  /** SO_REUSEPORT, so that a new process can take the admin port over on upgrade. */
  readonly reusePort?: boolean;
}

function internalError(source: AdminSource, where: string, err: unknown): Response {
  const message = err instanceof Error ? err.message : String(err);
  try {
    source.logger.error("admin: handler failed", { path: where, error: err });
  } catch {
    // a broken logger must not turn a 500 into a crash
  }
  return jsonError(500, `internal error: ${message}`);
}

/**
 * Starts the admin API on `address` (port 0 picks a free port). Throws if it cannot bind.
 *
 * @example
 * ```ts
 * const admin = startAdmin(source, { hostname: "127.0.0.1", port: 34901 });
 * // curl http://127.0.0.1:34901/api/v1/stats
 * await admin.close();
 * ```
 */
export function startAdmin(
  source: AdminSource,
  address: { hostname: string; port: number },
  options: AdminOptions = {},
): AdminServer {
  const now = options.now ?? Date.now;
  const routes = options.routes ?? ROUTES;
  const handler = async (request: Request): Promise<Response> => {
    let url: URL | undefined;
    try {
      url = new URL(request.url);
      const ctx: AdminContext = { source, request, url, now, routes };
      return await dispatch(routes, ctx);
    } catch (err) {
      return internalError(source, url?.pathname ?? request.url, err);
    }
  };
  const server = Deno.serve({
    hostname: address.hostname,
    port: address.port,
    reusePort: options.reusePort ?? false,
    onListen() {},
    onError: (err) => internalError(source, "(serve)", err),
  }, handler);
  let closing: Promise<void> | undefined;
  return {
    hostname: server.addr.hostname,
    port: server.addr.port,
    close(): Promise<void> {
      closing ??= server.shutdown();
      return closing;
    },
  };
}
