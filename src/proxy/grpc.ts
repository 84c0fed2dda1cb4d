/**
 * gRPC over the HTTP proxy: what the proxy itself must know about it — the request marker
 * (content-type application/grpc), the grpc-timeout deadline, retry conditions on grpc-status,
 * and local replies in gRPC's own form (a trailers-only response with grpc-status), as Envoy
 * answers gRPC clients.
 */

import { HeaderMap } from "../protocol/header_map.ts";
import type { ResponseMessage } from "../stream/types.ts";

export function isGrpc(headers: HeaderMap): boolean {
  const ct = headers.get("content-type");
  return ct !== undefined && ct.startsWith("application/grpc");
}

const UNIT_MS: Record<string, number> = {
  H: 3_600_000,
  M: 60_000,
  S: 1000,
  m: 1,
  u: 0.001,
  n: 0.000001,
};

/** `grpc-timeout` ("100m", "5S", …: up to 8 digits and a unit) in ms; 0 when absent/invalid. */
export function grpcTimeoutMs(value: string | undefined): number {
  if (!value || value.length < 2 || value.length > 9) return 0;
  const unit = UNIT_MS[value[value.length - 1]!];
  const n = Number(value.slice(0, -1));
  if (unit === undefined || !Number.isInteger(n) || n < 0) return 0;
  // Sub-millisecond deadlines still expire: at least 1 ms.
  return n === 0 ? 0 : Math.max(1, Math.ceil(n * unit));
}

/** retry_on names → the grpc-status each stands for. */
export const GRPC_RETRY_ON: Readonly<Record<string, number>> = {
  "cancelled": 1,
  "deadline-exceeded": 4,
  "resource-exhausted": 8,
  "internal": 13,
  "unavailable": 14,
};

/** The gRPC status for a proxy-made HTTP status (Envoy's mapping; 504 timeouts: DEADLINE). */
export function grpcStatusFor(httpStatus: number, timedOut: boolean): number {
  if (timedOut) return 4;
  switch (httpStatus) {
    case 400:
      return 13;
    case 401:
      return 16;
    case 403:
      return 7;
    case 404:
      return 12;
    case 429:
    case 502:
    case 503:
    case 504:
      return 14;
    default:
      return 2;
  }
}

/** grpc-message: percent-encoded outside printable ASCII (gRPC over HTTP/2 spec). */
function encodeGrpcMessage(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let out = "";
  for (const b of bytes) {
    out += b >= 0x20 && b <= 0x7e && b !== 0x25
      ? String.fromCharCode(b)
      : `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** A trailers-only gRPC response carrying `grpcStatus` (sent with END_STREAM, no body). */
export function grpcLocalReply(
  grpcStatus: number,
  message: string,
  extra?: Record<string, string>,
): ResponseMessage {
  const h = new HeaderMap();
  if (extra) { for (const k in extra) h.add(k, extra[k]!); }
  h.set("content-type", "application/grpc");
  h.set("grpc-status", String(grpcStatus));
  if (message) h.set("grpc-message", encodeGrpcMessage(message.trim()));
  return { status: 200, reason: "", headers: h, contentLength: 0 };
}
