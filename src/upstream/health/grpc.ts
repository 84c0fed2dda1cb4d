/**
 * gRPC health check (`grpc.health.v1.Health/Check`) over cleartext HTTP/2 with `node:http2`.
 * One connection per check. Healthy when the answer is HTTP 200, `grpc-status: 0` and a
 * HealthCheckResponse whose `status` is SERVING.
 *
 * ```proto
 * message HealthCheckRequest { string service = 1; }
 * message HealthCheckResponse {
 *   enum ServingStatus { UNKNOWN = 0; SERVING = 1; NOT_SERVING = 2; SERVICE_UNKNOWN = 3; }
 *   ServingStatus status = 1;
 * }
 * ```
 */

import http2 from "node:http2";
import { options as tlsOptions } from "../../network/tls/server.ts";
import net from "node:net";
import { Buffer } from "node:buffer";
import type { HealthCheckConfig } from "../../config/model.ts";
import { formatAddress } from "../../network/address.ts";
import type { Host } from "../types.ts";
import { type CheckResult, HEALTHY, unhealthy } from "./types.ts";

export const GRPC_HEALTH_PATH = "/grpc.health.v1.Health/Check";

/** HealthCheckResponse.ServingStatus names, by value. */
export const SERVING_STATUS = ["UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"] as const;
export const SERVING = 1;

/** gRPC status code names, by value. */
const GRPC_CODES = [
  "OK",
  "CANCELLED",
  "UNKNOWN",
  "INVALID_ARGUMENT",
  "DEADLINE_EXCEEDED",
  "NOT_FOUND",
  "ALREADY_EXISTS",
  "PERMISSION_DENIED",
  "RESOURCE_EXHAUSTED",
  "FAILED_PRECONDITION",
  "ABORTED",
  "OUT_OF_RANGE",
  "UNIMPLEMENTED",
  "INTERNAL",
  "UNAVAILABLE",
  "DATA_LOSS",
  "UNAUTHENTICATED",
];

/** The largest response message read. */
const MAX_RESPONSE_BYTES = 64 * 1024;

const encoder = new TextEncoder();

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

/** The protobuf HealthCheckRequest {service} (empty when `service` is ""). */
export function encodeHealthCheckRequest(service: string): Uint8Array {
  if (service === "") return new Uint8Array(0);
  const s = encoder.encode(service);
  const head = [0x0a, ...varint(s.byteLength)]; // field 1, wire type 2 (length-delimited)
  const out = new Uint8Array(head.length + s.byteLength);
  out.set(head);
  out.set(s, head.length);
  return out;
}

/** Wraps a message in gRPC's length-prefixed framing (uncompressed). */
export function grpcFrame(message: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + message.byteLength);
  new DataView(out.buffer).setUint32(1, message.byteLength);
  out.set(message, 5);
  return out;
}

/** Reads a varint at `pos`; returns [value, next position]. Throws on truncation. */
function readVarint(b: Uint8Array, pos: number): [number, number] {
  let value = 0;
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    const byte = b[pos++];
    if (byte === undefined) throw new Error("truncated varint");
    value += (byte & 0x7f) * mul;
    if ((byte & 0x80) === 0) return [value, pos];
    mul *= 128;
  }
  throw new Error("varint too long");
}

/**
 * Decodes a protobuf HealthCheckResponse, returning its `status` (0 = UNKNOWN when absent).
 * Unknown fields are skipped. Throws on malformed input.
 */
export function decodeHealthCheckResponse(b: Uint8Array): number {
  let status = 0;
  let pos = 0;
  while (pos < b.byteLength) {
    const [key, p] = readVarint(b, pos);
    pos = p;
    const field = Math.floor(key / 8);
    const wire = key & 7;
    switch (wire) {
      case 0: {
        const [v, q] = readVarint(b, pos);
        pos = q;
        if (field === 1) status = v;
        break;
      }
      case 1:
        pos += 8;
        break;
      case 2: {
        const [len, q] = readVarint(b, pos);
        pos = q + len;
        break;
      }
      case 5:
        pos += 4;
        break;
      default:
        throw new Error(`unsupported wire type ${wire}`);
    }
    if (pos > b.byteLength) throw new Error("truncated field");
  }
  return status;
}

/** Unwraps the first gRPC message of a response body. */
export function grpcMessage(body: Uint8Array): Uint8Array {
  if (body.byteLength < 5) throw new Error("short gRPC message");
  if (body[0] !== 0) throw new Error("compressed gRPC message");
  const len = new DataView(body.buffer, body.byteOffset, body.byteLength).getUint32(1);
  if (body.byteLength < 5 + len) throw new Error("truncated gRPC message");
  return body.subarray(5, 5 + len);
}

function grpcCodeName(code: number): string {
  return GRPC_CODES[code] ?? String(code);
}

function sessionFailure(e: unknown): CheckResult {
  // A stream canceled because its session failed carries the socket error as `cause`.
  for (let err = e, depth = 0; err && depth < 4; depth++) {
    const code = (err as { code?: unknown }).code;
    if (code === "ECONNREFUSED") return unhealthy("connect refused", true);
    if (code === "ECONNRESET" || code === "EPIPE") return unhealthy("connection reset", true);
    err = (err as { cause?: unknown }).cause;
  }
  const msg = e instanceof Error ? e.message : String(e);
  return unhealthy(`network error: ${msg}`, true);
}

function header(v: string | string[] | number | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v === undefined ? undefined : String(v);
}

export function grpcCheck(
  host: Host,
  cfg: HealthCheckConfig,
  signal: AbortSignal,
): Promise<CheckResult> {
  return new Promise<CheckResult>((resolve) => {
    if (signal.aborted) {
      resolve(unhealthy("timeout", true));
      return;
    }
    let session: http2.ClientHttp2Session | undefined;
    let done = false;
    const finish = (r: CheckResult) => {
      if (done) return;
      done = true;
      signal.removeEventListener("abort", onAbort);
      try {
        session?.destroy();
      } catch {
        // gone already
      }
      resolve(r);
    };
    const onAbort = () => finish(unhealthy("timeout", true));
    signal.addEventListener("abort", onAbort, { once: true });

    const addr = host.address;
    const authority = cfg.host || (addr.kind === "unix" ? "localhost" : formatAddress(addr));
    const tls = host.cluster.config.tls;
    try {
      session = addr.kind === "unix"
        ? http2.connect(`http://${authority}`, { createConnection: () => net.connect(addr.path) })
        : tls
        // A TLS cluster's hosts speak gRPC over TLS: same SNI, CA and client certificate.
        ? http2.connect(`https://${formatAddress(addr)}`, {
          ...tlsOptions(tls),
          ...(tls.serverName ? { servername: tls.serverName } : {}),
          rejectUnauthorized: !tls.insecureSkip,
        })
        : http2.connect(`http://${formatAddress(addr)}`);
    } catch (e) {
      finish(sessionFailure(e));
      return;
    }
    session.on("error", (e) => finish(sessionFailure(e)));
    session.on("close", () => finish(unhealthy("connection closed", true)));

    let status = 0;
    let grpcStatus: string | undefined;
    const chunks: Uint8Array[] = [];
    let size = 0;
    const evaluate = (): CheckResult => {
      if (status !== 200) return unhealthy(`status ${status}`, false);
      if (grpcStatus === undefined) return unhealthy("grpc status missing", false);
      const code = Number(grpcStatus);
      if (code !== 0) return unhealthy(`grpc ${grpcCodeName(code)}`, false);
      let serving: number;
      try {
        serving = decodeHealthCheckResponse(grpcMessage(Buffer.concat(chunks)));
      } catch (e) {
        return unhealthy(`bad response: ${(e as Error).message}`, false);
      }
      return serving === SERVING
        ? HEALTHY
        : unhealthy(`grpc ${SERVING_STATUS[serving] ?? `status ${serving}`}`, false);
    };

    let req: http2.ClientHttp2Stream;
    try {
      req = session.request({
        ":method": "POST",
        ":path": GRPC_HEALTH_PATH,
        ":authority": authority,
        "content-type": "application/grpc",
        "te": "trailers",
        "user-agent": "mosn-health-check",
      });
    } catch (e) {
      finish(sessionFailure(e));
      return;
    }
    req.on("response", (h) => {
      status = Number(header(h[":status"]) ?? 0);
      grpcStatus = header(h["grpc-status"]) ?? grpcStatus; // trailers-only answer
    });
    req.on("data", (chunk: Uint8Array) => {
      size += chunk.byteLength;
      if (size > MAX_RESPONSE_BYTES) finish(unhealthy("bad response: too large", false));
      else chunks.push(chunk);
    });
    req.on("trailers", (t) => {
      grpcStatus = header(t["grpc-status"]) ?? grpcStatus;
    });
    req.on("end", () => finish(evaluate()));
    req.on("close", () => {
      if (status === 0) finish(unhealthy("stream reset", true));
      else finish(evaluate());
    });
    req.on("error", (e) => finish(sessionFailure(e)));
    req.end(grpcFrame(encodeHealthCheckRequest(cfg.serviceName)));
  });
}
