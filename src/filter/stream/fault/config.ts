/**
 * Parses the `fault` stream filter config. MOSN's shape is
 * `{"delay":{"fixed_delay":"1s","percentage":100},"abort":{"status":500,"percentage":100},
 * "upstream_cluster":"c","headers":[{"name":"x","value":"y","regex":false}]}`; also accepted:
 * the flat `delay_percent`/`delay_duration`/`abort_percent`/`abort_status` keys, Envoy's
 * `abort.http_status` and Envoy's `percentage: {numerator, denominator}`.
 */

import { describe, ObjReader } from "../../../config/reader.ts";

export interface FaultHeaderMatch {
  readonly name: string;
  /** Exact value, or a regex (unanchored, like Go's MatchString) when `regex` is set. */
  readonly value: string;
  readonly regex: RegExp | undefined;
}

export interface FaultConfig {
  /** Delay in ms; 0 means no delay. */
  readonly delayMs: number;
  /** Chance of a delay, 0-1. */
  readonly delayChance: number;
  /** HTTP status of the local reply; 0 when no abort is configured. */
  readonly abortStatus: number;
  /** Chance of an abort, 0-1. */
  readonly abortChance: number;
  /** Only requests routed to this cluster get faults; "" for all. */
  readonly upstreamCluster: string;
  /** Only requests with every one of these headers get faults. */
  readonly headers: readonly FaultHeaderMatch[];
}

const DENOMINATORS: Record<string, number> = {
  hundred: 100,
  ten_thousand: 10_000,
  million: 1_000_000,
};

/** A percentage 0-100 (number) or Envoy's FractionalPercent object, as a chance 0-1. */
function chance(r: ObjReader, key: string): number {
  const v = r.raw(key);
  if (v === undefined || v === null) return 0;
  if (typeof v === "number") {
    if (Number.isFinite(v) && v >= 0 && v <= 100) return v / 100;
    r.ctx.error(r.at(key), `expected a percentage 0-100, got ${describe(v)}`);
    return 0;
  }
  const f = ObjReader.of(r.ctx, v, r.at(key));
  if (!f) return 0;
  const denom = f.oneOf("denominator", ["HUNDRED", "TEN_THOUSAND", "MILLION"], "HUNDRED");
  const d = DENOMINATORS[denom.toLowerCase()]!;
  const n = f.int("numerator", 0, 0);
  f.done();
  return Math.min(n, d) / d;
}

function abortStatus(r: ObjReader, key: string): number {
  return r.int(key, 0, 200, 599);
}

export function parseFaultConfig(r: ObjReader): FaultConfig {
  let delayMs = 0;
  let delayChance = 0;
  const delay = r.obj("delay");
  if (delay) {
    delayMs = delay.duration("fixed_delay", 0);
    delayChance = chance(delay, "percentage");
    delay.done();
  }
  if (r.has("delay_percent") || r.has("delay_duration")) {
    if (delay) {
      r.ctx.error(r.at("delay_percent"), 'give either "delay" or delay_percent/delay_duration');
    }
    delayMs = r.duration("delay_duration", 0);
    delayChance = chance(r, "delay_percent");
  }

  let status = 0;
  let abortChance = 0;
  const abort = r.obj("abort");
  if (abort) {
    status = abortStatus(abort, "status") || abortStatus(abort, "http_status");
    abortChance = chance(abort, "percentage");
    if (abortChance > 0 && !abort.has("status") && !abort.has("http_status")) {
      r.ctx.error(abort.at("status"), "is required when the abort percentage is above 0");
    }
    abort.done();
  }
  if (r.has("abort_percent") || r.has("abort_status")) {
    if (abort) {
      r.ctx.error(r.at("abort_percent"), 'give either "abort" or abort_percent/abort_status');
    }
    status = abortStatus(r, "abort_status");
    abortChance = chance(r, "abort_percent");
    if (abortChance > 0 && !r.has("abort_status")) {
      r.ctx.error(r.at("abort_status"), "is required when abort_percent is above 0");
    }
  }

  const headers: FaultHeaderMatch[] = [];
  for (const item of r.arr("headers")) {
    const h = ObjReader.of(r.ctx, item.value, item.path);
    if (!h) continue;
    const name = h.reqStr("name");
    const value = h.str("value", "");
    let regex: RegExp | undefined;
    if (h.bool("regex", false)) {
      try {
        regex = new RegExp(value);
      } catch (e) {
        r.ctx.error(h.at("value"), `invalid regex ${describe(value)}: ${(e as Error).message}`);
      }
    }
    headers.push(Object.freeze({ name, value, regex }));
    h.done();
  }

  const cfg: FaultConfig = Object.freeze({
    delayMs,
    delayChance,
    abortStatus: status,
    abortChance,
    upstreamCluster: r.str("upstream_cluster", ""),
    headers: Object.freeze(headers),
  });
  r.done();
  return cfg;
}
