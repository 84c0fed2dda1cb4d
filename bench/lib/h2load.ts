/**
 * h2load and openssl s_time runs with the proxy's CPU per operation: the measuring half of the
 * HTTP/2 suites (bench/suites/h2.ts over h2c, bench/suites/h2_tls.ts over TLS).
 */

import { runQuiet } from "./proc.ts";
import { cpuDelta, sumCpu } from "./procstat.ts";

export interface H2Load {
  rps: number;
  p99Ms: number;
  requests: number;
  failed: number;
  userUsPerReq: number;
  kernelUsPerReq: number;
}

/** p99 of the per-request durations h2load logged (third column, µs), in ms. */
export function p99FromLog(file: string): number {
  const d: number[] = [];
  for (const line of Deno.readTextFileSync(file).split("\n")) {
    const us = Number(line.split("\t")[2]);
    if (Number.isFinite(us) && line) d.push(us);
  }
  if (d.length === 0) return NaN;
  d.sort((a, b) => a - b);
  return d[Math.min(d.length - 1, Math.floor(d.length * 0.99))]! / 1000;
}

/**
 * `h2load -t1 -c16 -m10 -D seconds url` on `cpu` (an http URL speaks h2c by prior knowledge, an
 * https URL negotiates h2 by ALPN); CPU per request is that of `pids` (the proxy) over the run.
 */
export async function h2load(
  cpu: string,
  url: string,
  seconds: number,
  pids: readonly number[],
  logFile: string,
): Promise<H2Load> {
  const before = sumCpu(pids);
  const r = await runQuiet("taskset", [
    "-c",
    cpu,
    "h2load",
    "-t1",
    "-c16",
    "-m10",
    "-D",
    String(seconds),
    `--log-file=${logFile}`,
    url,
  ], (seconds + 20) * 1000);
  const after = sumCpu(pids);
  const rps = Number(/finished in [\d.]+s, ([\d.]+) req\/s/.exec(r.stdout)?.[1] ?? NaN);
  const m = /requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed/
    .exec(r.stdout);
  const requests = Number(m?.[3] ?? 0);
  const d = cpuDelta(before, after);
  const n = Math.max(1, requests);
  const load = {
    rps,
    p99Ms: p99FromLog(logFile),
    requests,
    failed: Number(m?.[4] ?? 0),
    userUsPerReq: pids.length > 0 ? d.userUs / n : NaN,
    kernelUsPerReq: pids.length > 0 ? d.kernelUs / n : NaN,
  };
  await Deno.remove(logFile).catch(() => {});
  return load;
}

export interface Handshakes {
  perSec: number;
  /** Proxy CPU (user + kernel) per handshake, µs. */
  cpuUs: number;
}

/**
 * Full TLS handshakes per second: two `openssl s_time -new` clients (no session reuse, no
 * request) for `seconds` on `cpu`, summed; CPU per handshake is that of `pids`.
 */
export async function handshakeRate(
  cpu: string,
  port: number,
  seconds: number,
  pids: readonly number[],
): Promise<Handshakes> {
  const before = sumCpu(pids);
  const one = () =>
    runQuiet("taskset", [
      "-c",
      cpu,
      "openssl",
      "s_time",
      "-connect",
      `127.0.0.1:${port}`,
      "-new",
      "-time",
      String(seconds),
    ], (seconds + 20) * 1000);
  const outs = await Promise.all([one(), one()]);
  const after = sumCpu(pids);
  let n = 0;
  for (const o of outs) {
    n += Number(/^(\d+) connections in [\d.]+ real seconds/m.exec(o.stdout)?.[1] ?? 0);
  }
  const d = cpuDelta(before, after);
  return { perSec: n / seconds, cpuUs: n > 0 ? (d.userUs + d.kernelUs) / n : NaN };
}
