/** Connection-level (hop-by-hop) headers that a proxy must not forward (RFC 9110 §7.6.1). */

import type { HeaderMap } from "../../protocol/header_map.ts";

const HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
]);

/**
 * Removes hop-by-hop headers, including any named in `Connection`, in one pass over the
 * headers. Keeps `te: trailers` (gRPC relies on it) and drops other `TE` values.
 */
export function stripHopByHop(h: HeaderMap): void {
  const raw = h.raw;
  let named: string[] | undefined;
  let hit = false;
  for (let i = 0; i < raw.length; i += 2) {
    const n = raw[i]!;
    const len = n.length;
    // Every hop-by-hop name is 2, 7, 10, 16 or 17 characters long: skip the rest unlowered.
    if (len !== 2 && len !== 7 && len !== 10 && len !== 16 && len !== 17) continue;
    const l = n.toLowerCase();
    if (l === "connection") {
      for (const token of raw[i + 1]!.split(",")) {
        const t = token.trim().toLowerCase();
        if (t && t !== "close" && t !== "keep-alive" && !HOP.has(t)) (named ??= []).push(t);
      }
    }
    if (HOP.has(l) || (l === "te" && !raw[i + 1]!.toLowerCase().includes("trailers"))) hit = true;
  }
  if (hit) {
    for (const name of HOP) h.delete(name);
    const te = h.get("te");
    if (te !== undefined && !te.toLowerCase().includes("trailers")) h.delete("te");
    else if (te !== undefined) h.set("te", "trailers");
  }
  if (named) { for (const name of named) h.delete(name); }
}
