/** Test helpers: feed an HTTP/1 parser chunk by chunk and record what it reports as plain data. */

import { Http1Parser } from "../../../src/protocol/http1/parser.ts";
import {
  Http1ParseError,
  type ParserLimits,
  type RequestHead,
  type ResponseHead,
} from "../../../src/protocol/http1/types.ts";

export type Ev =
  | { type: "head"; head: Record<string, unknown> }
  | { type: "body"; data: string }
  | { type: "trailers"; raw: string[] }
  | { type: "complete" }
  | { type: "error"; code: string; status: number }
  | { type: "tunnel"; data: string }
  | { type: "finish" };

export const enc = (s: string): Uint8Array => {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
};

export const dec = (b: Uint8Array): string => {
  let s = "";
  for (const c of b) s += String.fromCharCode(c);
  return s;
};

function plainHead(h: RequestHead | ResponseHead): Record<string, unknown> {
  return { ...h, headers: h.headers.raw.slice() };
}

export interface CollectOptions {
  limits?: Partial<ParserLimits>;
  /** Response parsers: the request methods, one per final response (default GET). */
  methods?: string[];
  /** Call finish() after the last chunk. */
  finish?: boolean;
}

/** Runs `chunks` through a fresh parser; body events are merged so splits do not show. */
export function collect(
  kind: "request" | "response",
  chunks: Uint8Array[],
  opts: CollectOptions = {},
): Ev[] {
  const evs: Ev[] = [];
  const push = (e: Ev) => {
    const last = evs[evs.length - 1];
    if (e.type === "body" && last?.type === "body") last.data += e.data;
    else if (e.type === "tunnel" && last?.type === "tunnel") last.data += e.data;
    else evs.push(e);
  };
  let methodIndex = 0;
  let lastStatus = 0;
  const handler = {
    onHead(h: RequestHead | ResponseHead) {
      if ("status" in h) lastStatus = h.status;
      push({ type: "head", head: plainHead(h) });
    },
    onBody(c: Uint8Array) {
      push({ type: "body", data: dec(c) });
    },
    onTrailers(t: { raw: string[] }) {
      push({ type: "trailers", raw: t.raw.slice() });
    },
    onMessageComplete() {
      push({ type: "complete" });
      if (kind === "response" && lastStatus >= 200) {
        parser.expectResponseTo(opts.methods?.[++methodIndex] ?? "GET");
      }
    },
  };
  const parser: Http1Parser<RequestHead | ResponseHead> = kind === "request"
    ? Http1Parser.request(handler, opts.limits)
    : Http1Parser.response(handler, opts.limits);
  if (kind === "response") parser.expectResponseTo(opts.methods?.[0] ?? "GET");
  try {
    for (const chunk of chunks) {
      if (parser.upgraded) {
        push({ type: "tunnel", data: dec(chunk) });
        continue;
      }
      const n = parser.execute(chunk);
      if (n < chunk.length) {
        if (!parser.upgraded) throw new Error(`consumed ${n} of ${chunk.length} without pause`);
        push({ type: "tunnel", data: dec(chunk.subarray(n)) });
      }
    }
    if (opts.finish) {
      parser.finish();
      push({ type: "finish" });
    }
  } catch (e) {
    if (!(e instanceof Http1ParseError)) throw e;
    push({ type: "error", code: e.code, status: e.status });
  }
  return evs;
}

/** Deterministic PRNG (mulberry32). */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `bytes` cut at the given offsets. */
export function cut(bytes: Uint8Array, at: number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...at, bytes.length]) {
    out.push(bytes.slice(prev, p));
    prev = p;
  }
  return out;
}

/**
 * Every way of feeding `bytes` the tests compare: whole, each two-way split, byte by byte, and
 * `randomRuns` random multi-way splits.
 */
export function* feedings(bytes: Uint8Array, randomRuns = 50): Generator<[string, Uint8Array[]]> {
  yield ["whole", [bytes]];
  for (let i = 1; i < bytes.length; i++) yield [`split at ${i}`, cut(bytes, [i])];
  yield ["byte by byte", cut(bytes, Array.from({ length: bytes.length - 1 }, (_, i) => i + 1))];
  const rnd = seeded(bytes.length);
  for (let r = 0; r < randomRuns; r++) {
    const points = new Set<number>();
    const n = 1 + Math.floor(rnd() * 8);
    for (let k = 0; k < n; k++) points.add(1 + Math.floor(rnd() * (bytes.length - 1)));
    yield [`random ${r}`, cut(bytes, [...points].sort((a, b) => a - b))];
  }
}
