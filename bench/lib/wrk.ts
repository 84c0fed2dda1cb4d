/** Runs `wrk` and parses its text report (`--latency` output). */

import type { Procs } from "./proc.ts";

/** What one wrk run measured. Latencies in milliseconds. */
export interface WrkResult {
  requests: number;
  seconds: number;
  rps: number;
  /** Bytes read per second. */
  transferPerSec: number;
  latencyAvgMs: number;
  latencyMaxMs: number;
  p50Ms: number;
  p75Ms: number;
  p90Ms: number;
  p99Ms: number;
  errors: { connect: number; read: number; write: number; timeout: number; non2xx: number };
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const UNIT_BYTES: Record<string, number> = {
  B: 1,
  KB: 1024,
  MB: 1024 ** 2,
  GB: 1024 ** 3,
  TB: 1024 ** 4,
};

/** "1.23ms" → 1.23, "870.00us" → 0.87, "2.01s" → 2010. */
export function parseDurationMs(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim());
  if (!m) throw new Error(`wrk: cannot parse duration ${JSON.stringify(text)}`);
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

/** "14.20MB" → bytes. */
export function parseBytes(text: string): number {
  const m = /^([\d.]+)([KMGT]?B)$/.exec(text.trim());
  if (!m) throw new Error(`wrk: cannot parse size ${JSON.stringify(text)}`);
  return Number(m[1]) * UNIT_BYTES[m[2]!]!;
}

/** Parses wrk's report. Throws when the essential lines are missing. */
export function parseWrk(out: string): WrkResult {
  const num = (re: RegExp): number | undefined => {
    const m = re.exec(out);
    return m ? Number(m[1]) : undefined;
  };
  const pct = (p: number): number => {
    const m = new RegExp(`^\\s*${p}%\\s+([\\d.]+(?:us|ms|s|m|h))\\s*$`, "m").exec(out);
    if (!m) throw new Error(`wrk: no ${p}% latency line (was --latency given?)\n${out}`);
    return parseDurationMs(m[1]!);
  };
  const total = /^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h)/m.exec(out);
  if (!total) throw new Error(`wrk: no "requests in" line\n${out}`);
  const rps = num(/^Requests\/sec:\s+([\d.]+)/m);
  if (rps === undefined) throw new Error(`wrk: no Requests/sec line\n${out}`);
  const lat = /^\s*Latency\s+([\d.]+\w+)\s+([\d.]+\w+)\s+([\d.]+\w+)/m.exec(out);
  const transfer = /^Transfer\/sec:\s+([\d.]+[KMGT]?B)/m.exec(out);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return {
    requests: Number(total[1]),
    seconds: parseDurationMs(`${total[2]}${total[3]}`) / 1000,
    rps,
    transferPerSec: transfer ? parseBytes(transfer[1]!) : 0,
    latencyAvgMs: lat ? parseDurationMs(lat[1]!) : NaN,
    latencyMaxMs: lat ? parseDurationMs(lat[3]!) : NaN,
    p50Ms: pct(50),
    p75Ms: pct(75),
    p90Ms: pct(90),
    p99Ms: pct(99),
    errors: {
      connect: sock ? Number(sock[1]) : 0,
      read: sock ? Number(sock[2]) : 0,
      write: sock ? Number(sock[3]) : 0,
      timeout: sock ? Number(sock[4]) : 0,
      non2xx: num(/Non-2xx or 3xx responses:\s+(\d+)/) ?? 0,
    },
  };
}

/** Total of all error counters. */
export function wrkErrors(r: WrkResult): number {
  const e = r.errors;
  return e.connect + e.read + e.write + e.timeout + e.non2xx;
}

export interface WrkOptions {
  url: string;
  threads?: number;
  connections?: number;
  durationSec: number;
  /** CPU list for taskset. */
  cpu?: string;
  name?: string;
}

/**
 * Runs wrk to completion and parses the report. wrk ends by itself after `durationSec`; a
 * watchdog kills it if it is still running 20 s later.
 */
export async function runWrk(procs: Procs, o: WrkOptions): Promise<WrkResult> {
  const u = new URL(o.url);
  if (u.hostname !== "127.0.0.1") throw new Error(`refusing non-loopback target ${o.url}`);
  const name = o.name ?? "wrk";
  const args = [
    `-t${o.threads ?? 1}`,
    `-c${o.connections ?? 50}`,
    `-d${o.durationSec}s`,
    "--latency",
    o.url,
  ];
  const p = procs.spawn(name, "wrk", args, { cpu: o.cpu, logFile: procs.logPath(name) });
  let timedOut = false;
  const watchdog = setTimeout(() => {
    if (!p.exited()) {
      timedOut = true;
      void procs.kill(p, 1000);
    }
  }, (o.durationSec + 20) * 1000);
  try {
    const status = await p.status;
    if (timedOut) throw new Error(`wrk did not finish in time (${o.url})`);
    const out = Deno.readTextFileSync(p.logFile);
    if (!status.success) throw new Error(`wrk exited with ${status.code}: ${out}`);
    return parseWrk(out);
  } finally {
    clearTimeout(watchdog);
    if (!p.exited()) await procs.kill(p, 500);
  }
}
