/**
 * Admin access control. The admin API binds 127.0.0.1 by default; on any other bind address
 * every API call needs `Authorization: Bearer <admin.token>` (and with no token configured such
 * an admin answers 403 to everything but `/ready` and the console's static files). On loopback the
 * token is optional; when configured it is required there too.
 *
 * Mutations (POST) are cross-site request forgery targets: a browser page on another origin can
 * POST to 127.0.0.1. They pass with a valid bearer token (browsers never attach one on their
 * own), or, without a token, only when the browser says the request is same-origin
 * (`Sec-Fetch-Site`, `Origin`); clients that send neither header (curl, scripts) are not browsers.
 * Without a token, a loopback admin also refuses a `Host` that is not a loopback name, so that a
 * DNS-rebinding page cannot read it.
 */

import { jsonError } from "./http.ts";

/** Paths served to anyone: the readiness probe and the console's static files. */
export function isPublicPath(path: string): boolean {
  return path === "/ready" || path === "/" || path === "/index.html" ||
    path.startsWith("/assets/");
}

/** True for 127.0.0.0/8, ::1, `localhost` (and IPv4-mapped loopback). */
export function isLoopbackHost(host: string): boolean {
  const h = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  const lower = h.toLowerCase();
  if (lower === "localhost" || lower === "::1" || lower === "0:0:0:0:0:0:0:1") return true;
  const v4 = lower.startsWith("::ffff:") ? lower.slice(7) : lower;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

/** The host part of a `Host` header value ("127.0.0.1:34901" → "127.0.0.1", "[::1]:1" → "::1"). */
function hostOf(hostHeader: string): string {
  if (hostHeader.startsWith("[")) {
    const end = hostHeader.indexOf("]");
    return end > 0 ? hostHeader.slice(1, end) : hostHeader;
  }
  const colon = hostHeader.lastIndexOf(":");
  return colon >= 0 ? hostHeader.slice(0, colon) : hostHeader;
}

/** Compares in time independent of where the strings first differ. */
function sameSecret(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a), y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < x.length; i++) diff |= x[i]! ^ (y[i % (y.length || 1)] ?? 0);
  return diff === 0;
}

export interface AccessPolicy {
  /** The address the admin listens on (decides whether a token is mandatory). */
  readonly bindHost: string;
  /** The configured token, read per request so a reload can rotate it. */
  readonly token: () => string | undefined;
}

/** The bearer token presented, or undefined. */
function presentedToken(request: Request): string | undefined {
  const h = request.headers.get("authorization");
  if (!h) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m ? m[1] : undefined;
}

/** Why a browser request looks cross-site, or undefined when it does not. */
function crossSite(request: Request, url: URL): string | undefined {
  const site = request.headers.get("sec-fetch-site");
  if (site !== null && site !== "same-origin" && site !== "none") {
    return `Sec-Fetch-Site: ${site}`;
  }
  const origin = request.headers.get("origin");
  if (origin !== null) {
    let o: URL | undefined;
    try {
      o = new URL(origin);
    } catch {
      return `Origin ${origin}`;
    }
    const host = request.headers.get("host") ?? url.host;
    if (o.host !== host) return `Origin ${origin}`;
  }
  return undefined;
}

/**
 * Undefined when the request may proceed, else the 401/403 answer. Every refusal says what to
 * do about it.
 */
export function checkAccess(
  policy: AccessPolicy,
  request: Request,
  url: URL,
): Response | undefined {
  const path = url.pathname;
  if (isPublicPath(path) && request.method !== "POST") return undefined;
  const token = policy.token();
  const loopback = isLoopbackHost(policy.bindHost);
  if (!token) {
    if (!loopback) {
      return jsonError(
        403,
        `the admin API listens on ${policy.bindHost}, not loopback: configure admin.token and send ` +
          `"Authorization: Bearer <token>"`,
      );
    }
    const host = request.headers.get("host");
    if (host !== null && !isLoopbackHost(hostOf(host))) {
      return jsonError(
        403,
        `Host ${host} is not a loopback name; configure admin.token to allow it`,
      );
    }
    if (request.method === "POST") {
      const why = crossSite(request, url);
      if (why) return jsonError(403, `cross-site ${request.method} refused (${why})`);
    }
    return undefined;
  }
  const given = presentedToken(request);
  if (given === undefined) {
    return jsonError(401, 'this admin API needs "Authorization: Bearer <admin.token>"', {
      "www-authenticate": 'Bearer realm="mosn.ts admin"',
    });
  }
  if (!sameSecret(given, token)) {
    return jsonError(401, "wrong bearer token", {
      "www-authenticate": 'Bearer realm="mosn.ts admin", error="invalid_token"',
    });
  }
  return undefined;
}
