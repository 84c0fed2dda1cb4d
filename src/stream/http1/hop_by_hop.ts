/** Connection-level (hop-by-hop) headers that a proxy must not forward (RFC 9110 §7.6.1). */

import type { HeaderMap } from "../../protocol/header_map.ts";

const ALWAYS = [
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
  "te",
];

/**
 * Removes hop-by-hop headers, including any named in `Connection`. Keeps `te: trailers`, which
 * gRPC relies on. Returns quickly when none is present (the common case).
 */
export function stripHopByHop(h: HeaderMap): void {
  const raw = h.raw;
  let found = false;
  for (let i = 0; i < raw.length; i += 2) {
    const n = raw[i]!;
    // Cheap prefilter on length and first letter before lower-casing.
    const c = n.charCodeAt(0) | 0x20;
    if ((c === 0x63 || c === 0x6b || c === 0x70 || c === 0x74 || c === 0x75) && n.length <= 17) {
      found = true;
      break;
    }
  }
  if (!found) return;
  const conn = h.get("connection");
  if (conn) {
    for (const token of conn.split(",")) {
      const t = token.trim().toLowerCase();
      if (t && t !== "close" && t !== "keep-alive") h.delete(t);
    }
  }
  const te = h.get("te");
  for (const name of ALWAYS) h.delete(name);
  if (te !== undefined && te.toLowerCase().includes("trailers")) h.add("te", "trailers");
}
