/** Responses the proxy makes itself (no route, no healthy host, timeout, filter replies). */

import { HeaderMap } from "../protocol/header_map.ts";
import type { ResponseMessage } from "../stream/types.ts";

const encoder = new TextEncoder();

export interface LocalReply {
  resp: ResponseMessage;
  body: Uint8Array;
}

export function localReply(
  status: number,
  body = "",
  headers?: Record<string, string>,
): LocalReply {
  const bytes = encoder.encode(body);
  const h = new HeaderMap();
  if (headers) { for (const k in headers) h.add(k, headers[k]!); }
  if (bytes.byteLength > 0 && !h.has("content-type")) {
    h.add("content-type", "text/plain; charset=utf-8");
  }
  h.set("content-length", String(bytes.byteLength));
  return { resp: { status, reason: "", headers: h, contentLength: bytes.byteLength }, body: bytes };
}
