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
import { checkAccess } from "./auth.ts";
import { ConsoleRuntime, type ConsoleRuntimeOptions } from "./console/runtime.ts";

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
  /** Console sampling interval and assets directory; `false` turns the console runtime off. */
  readonly console?: ConsoleRuntimeOptions | false;
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

/** How long close() waits for open responses (a stalled event-stream reader never lets go). */
const CLOSE_GRACE_MS = 2000;

/**
 * Shuts the server down, waiting at most `ms` for in-flight responses. A response whose reader
 * stopped reading blocks its write forever; after the grace period the server is unref'd so that
 * it cannot keep the process alive, and close() resolves.
 */
async function closeWithin(server: Deno.HttpServer, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((r) => (timer = setTimeout(() => r("late"), ms)));
  const done = await Promise.race([server.shutdown().then(() => "done" as const), late]);
  clearTimeout(timer);
  if (done === "late") server.unref();
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
  const consoleRt = options.console === false
    ? undefined
    : new ConsoleRuntime(source, { now, ...options.console });
  const policy = {
    bindHost: address.hostname,
    token: () => {
      try {
        return source.config().admin.token;
      } catch {
        // a broken config source must not open the API: without a token only loopback is served
        return undefined;
      }
    },
  };
  const handler = async (request: Request): Promise<Response> => {
    let url: URL | undefined;
    try {
      url = new URL(request.url);
      const refused = checkAccess(policy, request, url);
      if (refused) return refused;
      if (consoleRt && url.pathname.startsWith("/assets/") && request.method !== "POST") {
        const asset = await consoleRt.assets.serve(request, url.pathname);
        if (asset) return asset;
      }
      const ctx: AdminContext = {
        source,
        request,
        url,
        now,
        routes,
        ...(consoleRt ? { console: consoleRt } : {}),
      };
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
  consoleRt?.start();
  let closing: Promise<void> | undefined;
  return {
    hostname: server.addr.hostname,
    port: server.addr.port,
    close(): Promise<void> {
      // Event streams never end on their own: end them so that shutdown can finish.
      consoleRt?.stop();
      closing ??= closeWithin(server, CLOSE_GRACE_MS);
      return closing;
    },
  };
}
