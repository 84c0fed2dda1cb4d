/** Request context, handler type and response helpers shared by the admin handlers. */

import type { AdminSource, ErrorResponse } from "./types.ts";
import type { ConsoleRuntime } from "./console/runtime.ts";

/** What a handler gets: the source it reads, the request, and the route table (for `/`). */
export interface AdminContext {
  readonly source: AdminSource;
  readonly request: Request;
  readonly url: URL;
  /** Milliseconds since the epoch; injected so tests can drive uptime. */
  readonly now: () => number;
  readonly routes: readonly RouteInfo[];
  /** Sampler, event hub and static files of the console; absent in bare test servers. */
  readonly console?: ConsoleRuntime;
}

export type Handler = (ctx: AdminContext) => Response | Promise<Response>;

/** A route as the index page and the 405 `Allow` header see it. */
export interface RouteInfo {
  readonly method: "GET" | "POST";
  readonly path: string;
  readonly description: string;
}

const TEXT = "text/plain; charset=utf-8";

/** Pretty-printed JSON (admin answers are read by people with curl as much as by code). */
export function json(body: unknown, status = 200, headers?: HeadersInit): Response {
  const h = new Headers(headers);
  h.set("content-type", "application/json; charset=utf-8");
  return new Response(JSON.stringify(body, null, 2) + "\n", { status, headers: h });
}

export function text(body: string, status = 200, contentType = TEXT): Response {
  return new Response(body, { status, headers: { "content-type": contentType } });
}

/** `{"error": message}` with `status`. */
export function jsonError(status: number, message: string, headers?: HeadersInit): Response {
  const body: ErrorResponse = { error: message };
  return json(body, status, headers);
}

/** True when `?format=json` was asked. */
export function wantsJson(url: URL): boolean {
  return url.searchParams.get("format") === "json";
}

/** Whole seconds between `start` and `now` (never negative). */
export function uptimeSeconds(start: Date, now: number): number {
  return Math.max(0, Math.floor((now - start.getTime()) / 1000));
}

/** Thrown by {@link readBody} when the body is longer than allowed. */
export class BodyTooLargeError extends Error {
  constructor(limit: number) {
    super(`request body larger than ${limit} bytes`);
    this.name = "BodyTooLargeError";
  }
}

/** Reads the request body as UTF-8 text, refusing more than `limit` bytes. */
export async function readBody(request: Request, limit: number): Promise<string> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > limit) throw new BodyTooLargeError(limit);
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) throw new BodyTooLargeError(limit);
      chunks.push(value);
    }
  } finally {
    if (size > limit) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
  const all = new Uint8Array(size);
  let off = 0;
  for (const c of chunks) {
    all.set(c, off);
    off += c.byteLength;
  }
  return new TextDecoder().decode(all);
}
