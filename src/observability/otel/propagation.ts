/**
 * Trace-context carriers on a request's header map (HTTP headers, bolt header map, dubbo
 * attachments — all a `HeaderMap` by the time the proxy sees them):
 *
 * - `tracecontext`: W3C `traceparent: 00-<trace-id>-<span-id>-<flags>` and `tracestate`.
 * - `b3`: Zipkin single header `b3: <trace-id>-<span-id>-<sampled>`; `b3multi`: the
 *   `X-B3-TraceId` / `X-B3-SpanId` / `X-B3-Sampled` headers. Either is read by both names.
 * - `jaeger`: `uber-trace-id: <trace-id>:<span-id>:<parent-id>:<flags>`.
 * - `sofa`: SOFA tracer keys — `rpc_trace_context.sofaTraceId` / `rpc_trace_context.sofaRpcId`
 *   in bolt's header map, `SOFA-TraceId` / `SOFA-RpcId` on HTTP. SOFA ids are not W3C ids: the
 *   trace id is left-padded to 32 hex digits and the rpc id hashed into a parent span id.
 *   Injection keeps SOFA keys already present (the proxy is transparent in SOFA's model) and
 *   adds them when absent.
 *
 * Parsing is by hand (no regular expressions, no Context objects): it runs for every request
 * when tracing is on, sampled or not.
 */

import type { HeaderMap } from "../../protocol/header_map.ts";
import type { TraceContext } from "./types.ts";

export const PROPAGATOR_NAMES = ["tracecontext", "b3", "b3multi", "jaeger", "sofa"] as const;
export type PropagatorName = typeof PROPAGATOR_NAMES[number];

export interface Propagator {
  readonly name: PropagatorName;
  extract(h: HeaderMap): TraceContext | undefined;
  inject(h: HeaderMap, ctx: TraceContext): void;
}

const INVALID_TRACE = "00000000000000000000000000000000";
const INVALID_SPAN = "0000000000000000";

function isHex(s: string, len: number): boolean {
  if (s.length !== len) return false;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}

/** A 16- or 32-digit hex trace id as 32 digits (B3 and Jaeger allow 64-bit ids). */
function traceId32(s: string): string | undefined {
  const l = s.toLowerCase();
  if (l.length === 0 || l.length > 32 || !isHex(l, l.length)) return undefined;
  const p = l.padStart(32, "0");
  return p === INVALID_TRACE ? undefined : p;
}

function spanId16(s: string): string | undefined {
  const l = s.toLowerCase();
  const p = l.length > 0 && l.length < 16 && isHex(l, l.length) ? l.padStart(16, "0") : l;
  return isHex(p, 16) && p !== INVALID_SPAN ? p : undefined;
}

const traceContext: Propagator = {
  name: "tracecontext",
  extract(h) {
    const tp = h.get("traceparent");
    // 00-<32>-<16>-<2>: 55 characters; later versions may append fields after a dash.
    if (tp === undefined || tp.length < 55) return undefined;
    if (tp[2] !== "-" || tp[35] !== "-" || tp[52] !== "-") return undefined;
    const version = tp.slice(0, 2);
    if (!isHex(version, 2) || version === "ff" || (version === "00" && tp.length !== 55)) {
      return undefined;
    }
    const traceId = tp.slice(3, 35);
    const spanId = tp.slice(36, 52);
    const flags = tp.slice(53, 55);
    if (!isHex(traceId, 32) || traceId === INVALID_TRACE) return undefined;
    if (!isHex(spanId, 16) || spanId === INVALID_SPAN || !isHex(flags, 2)) return undefined;
    const sampled = (parseInt(flags, 16) & 1) === 1;
    return { traceId, spanId, sampled, traceState: h.get("tracestate") ?? "" };
  },
  inject(h, ctx) {
    h.set("traceparent", `00-${ctx.traceId}-${ctx.spanId}-${ctx.sampled ? "01" : "00"}`);
    if (ctx.traceState !== "") h.set("tracestate", ctx.traceState);
  },
};

function b3Sampled(v: string | undefined): boolean | undefined {
  if (v === undefined) return undefined;
  if (v === "1" || v === "true" || v === "d") return true;
  if (v === "0" || v === "false") return false;
  return undefined;
}

function extractB3(h: HeaderMap): TraceContext | undefined {
  const single = h.get("b3");
  if (single !== undefined) {
    const parts = single.split("-");
    if (parts.length >= 2) {
      const traceId = traceId32(parts[0]!);
      const spanId = spanId16(parts[1]!);
      if (traceId && spanId) {
        return { traceId, spanId, sampled: b3Sampled(parts[2]), traceState: "" };
      }
    }
  }
  const t = h.get("x-b3-traceid");
  const s = h.get("x-b3-spanid");
  if (t === undefined || s === undefined) return undefined;
  const traceId = traceId32(t);
  const spanId = spanId16(s);
  if (!traceId || !spanId) return undefined;
  const sampled = h.get("x-b3-flags") === "1" ? true : b3Sampled(h.get("x-b3-sampled"));
  return { traceId, spanId, sampled, traceState: "" };
}

const b3Single: Propagator = {
  name: "b3",
  extract: extractB3,
  inject(h, ctx) {
    h.set("b3", `${ctx.traceId}-${ctx.spanId}-${ctx.sampled ? "1" : "0"}`);
  },
};

const b3Multi: Propagator = {
  name: "b3multi",
  extract: extractB3,
  inject(h, ctx) {
    h.set("x-b3-traceid", ctx.traceId);
    h.set("x-b3-spanid", ctx.spanId);
    h.set("x-b3-sampled", ctx.sampled ? "1" : "0");
  },
};

const jaeger: Propagator = {
  name: "jaeger",
  extract(h) {
    let v = h.get("uber-trace-id");
    if (v === undefined) return undefined;
    if (v.includes("%3A") || v.includes("%3a")) {
      try {
        v = decodeURIComponent(v);
      } catch {
        return undefined; // a malformed escape from a peer: no context, never an error
      }
    }
    const parts = v.split(":");
    if (parts.length !== 4) return undefined;
    const traceId = traceId32(parts[0]!);
    const spanId = spanId16(parts[1]!);
    const flags = parseInt(parts[3]!, 16);
    if (!traceId || !spanId || Number.isNaN(flags)) return undefined;
    return { traceId, spanId, sampled: (flags & 1) === 1, traceState: "" };
  },
  inject(h, ctx) {
    h.set("uber-trace-id", `${ctx.traceId}:${ctx.spanId}:0:${ctx.sampled ? "1" : "0"}`);
  },
};

/** SOFA tracer keys: bolt header map names, then the HTTP header names. */
export const SOFA_TRACE_ID_KEYS = ["rpc_trace_context.sofaTraceId", "SOFA-TraceId"] as const;
export const SOFA_RPC_ID_KEYS = ["rpc_trace_context.sofaRpcId", "SOFA-RpcId"] as const;

/** FNV-1a over the text, as 16 hex digits (two 32-bit rounds with different seeds). */
function hash64(s: string): string {
  let a = 0x811c9dc5, b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193) >>> 0;
    b = Math.imul(b ^ c, 0x01000193) >>> 0;
  }
  const out = a.toString(16).padStart(8, "0") + b.toString(16).padStart(8, "0");
  return out === INVALID_SPAN ? "0000000000000001" : out;
}

const sofa: Propagator = {
  name: "sofa",
  extract(h) {
    let raw: string | undefined;
    let bolt = true;
    for (const k of SOFA_TRACE_ID_KEYS) {
      raw = h.get(k);
      if (raw !== undefined) break;
      bolt = false;
    }
    if (!raw) return undefined;
    let hex = "";
    for (const c of raw.toLowerCase()) {
      if ((c >= "0" && c <= "9") || (c >= "a" && c <= "f")) hex += c;
    }
    const traceId = hex.length === 0 ? undefined : traceId32(hex.slice(-32));
    if (!traceId) return undefined;
    const rpcId = h.get(bolt ? SOFA_RPC_ID_KEYS[0] : SOFA_RPC_ID_KEYS[1]) ?? "0";
    return { traceId, spanId: hash64(`${raw}/${rpcId}`), sampled: undefined, traceState: "" };
  },
  inject(h, ctx) {
    // Bolt frames carry the rpc_trace_context keys; HTTP the SOFA-* headers. Which one a
    // request is cannot be told from the map alone, so the key already present decides and
    // the bolt names are the default (SOFA over HTTP is rare).
    const http = h.has(SOFA_TRACE_ID_KEYS[1]);
    const idKey = http ? SOFA_TRACE_ID_KEYS[1] : SOFA_TRACE_ID_KEYS[0];
    const rpcKey = http ? SOFA_RPC_ID_KEYS[1] : SOFA_RPC_ID_KEYS[0];
    if (!h.has(idKey)) h.set(idKey, ctx.traceId);
    if (!h.has(rpcKey)) h.set(rpcKey, "0");
  },
};

const BY_NAME: Readonly<Record<PropagatorName, Propagator>> = {
  tracecontext: traceContext,
  b3: b3Single,
  b3multi: b3Multi,
  jaeger,
  sofa,
};

export function propagator(name: PropagatorName): Propagator {
  return BY_NAME[name];
}

/** Extracts with the first propagator that finds a valid context. */
export function extractContext(
  props: readonly Propagator[],
  h: HeaderMap,
): TraceContext | undefined {
  for (let i = 0; i < props.length; i++) {
    const c = props[i]!.extract(h);
    if (c) return c;
  }
  return undefined;
}

export function injectContext(
  props: readonly Propagator[],
  h: HeaderMap,
  ctx: TraceContext,
): void {
  for (let i = 0; i < props.length; i++) props[i]!.inject(h, ctx);
}
