/** What the balancer learns about a request: hash key, subset criteria, original destination. */

import type { HashPolicyConfig } from "../config/router_model.ts";
import type { Connection } from "../network/connection.ts";
import { parseAddress } from "../network/address.ts";
import type { RequestMessage } from "../stream/types.ts";
import type { Cluster, LbContext } from "../upstream/types.ts";
import type { RouteView } from "./context.ts";

const EMPTY: LbContext = {};

/** Builds the context once per request; the common case (no hashing, no subsets) allocates nothing. */
export function lbContextFor(
  req: RequestMessage,
  conn: Connection,
  cluster: Cluster,
  route: RouteView,
): LbContext {
  const hashKey = route.hashPolicy.length > 0 ? hashKeyOf(route.hashPolicy, req, conn) : undefined;
  const metadataMatch = route.metadataMatchFor(cluster.name);
  let originalDestination = undefined;
  if (cluster.config.type === "ORIGINAL_DST") {
    const od = cluster.config.originalDst;
    const text = od.useHeader ? req.headers.get(od.headerName) : undefined;
    const fromHeader = text ? parseAddress(text) : undefined;
    originalDestination = fromHeader && typeof fromHeader !== "string"
      ? fromHeader
      : conn.originalDestination ??
        { kind: "tcp" as const, host: conn.localHost, port: conn.localPort };
  }
  if (hashKey === undefined && !metadataMatch && !originalDestination) return EMPTY;
  return {
    ...(hashKey !== undefined ? { hashKey } : {}),
    ...(metadataMatch ? { metadataMatch } : {}),
    ...(originalDestination ? { originalDestination } : {}),
  };
}

/** Envoy: the first policy that yields a value is used (later ones are fallbacks). */
function hashKeyOf(
  policies: readonly HashPolicyConfig[],
  req: RequestMessage,
  conn: Connection,
): string | undefined {
  for (const p of policies) {
    if (p.kind === "header") {
      const v = req.headers.get(p.key);
      if (v !== undefined) return v;
    } else if (p.kind === "cookie") {
      const v = cookie(req.headers.get("cookie"), p.name);
      if (v !== undefined) return v;
    } else if (p.kind === "source_ip") {
      if (conn.remoteHost) return conn.remoteHost;
    }
  }
  return undefined;
}

function cookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
