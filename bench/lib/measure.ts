/**
 * The measurement shared by the proxy suites: per row and round a fresh proxy process, its RSS
 * when fresh, the memory per idle keep-alive connection, a warm-up, `wrk` on `/hello` and on
 * `/100k.bin` with the proxy's CPU per request, "other work" on the machine during each load, and
 * the medians over rounds (ratios taken within a round first).
 *
 * A proxy may be several processes (nginx: master + worker): CPU and RSS are summed over the
 * process and its descendants, listed once the proxy serves.
 */

import { measureIdleMemory } from "./idle.ts";
import type { IdleMemory } from "./idle.ts";
import { descendants } from "./proc.ts";
import type { Spawned } from "./proc.ts";
import { cpuDelta, readMachineCpu, readRssKiB, readSelfAndReapedCpu, sumCpu } from "./procstat.ts";
import { verifyServes } from "./servers.ts";
import { fmtMiB, fmtMs, fmtNum, fmtRatio, fmtRps, mdTable, median, range } from "./stats.ts";
import { inRounds, selectRows } from "./suite.ts";
import type { SuiteContext } from "./suite.ts";
import { runWrk, wrkErrors } from "./wrk.ts";
import type { WrkResult } from "./wrk.ts";

/** One row of a suite: a way to reach the origin. */
export interface Row {
  key: string;
  label: string;
  port: number;
  /** Starts the proxy; undefined for the direct row. */
  start?: (ctx: SuiteContext) => Promise<Spawned>;
}

/** One wrk load against one row, with the proxy's CPU over the run. */
export interface LoadResult {
  wrk: WrkResult;
  /** Proxy CPU per completed request, µs (NaN for direct). */
  userUsPerReq: number;
  kernelUsPerReq: number;
  /** Proxy CPU over the run as a share of one core (1 = one full core). */
  cpuShare: number;
  /**
   * CPU used by processes outside the benchmark during the run, in cores (machine-wide
   * user+system minus runner, wrk, origin and proxy): other work disturbing the measurement.
   */
  otherCores: number;
  /** Hypervisor steal during the run, in cores. */
  stealCores: number;
}

export interface RowRound {
  row: string;
  round: number;
  /** Number of processes of the proxy (nginx: master + workers). */
  procs?: number;
  rssFreshKiB: number;
  idle?: IdleMemory;
  /** Idle connections whose one request fetched /100k.bin (measured after the loads). */
  idleLarge?: IdleMemory;
  small: LoadResult;
  large: LoadResult;
}

/** RSS of `pids` summed, KiB. */
export function sumRssKiB(pids: readonly number[]): number {
  let t = 0;
  for (const pid of pids) t += readRssKiB(pid);
  return t;
}

async function load(
  ctx: SuiteContext,
  row: Row,
  proxy: Spawned | undefined,
  proxyPids: readonly number[],
  path: string,
  durationSec: number,
): Promise<LoadResult> {
  const ours = [...ctx.originPids, ...proxyPids];
  const m0 = readMachineCpu();
  const self0 = readSelfAndReapedCpu();
  const ours0 = sumCpu(ours);
  const before = proxy ? sumCpu(proxyPids) : undefined;
  const t0 = performance.now();
  const wrk = await runWrk(ctx.procs, {
    url: `http://127.0.0.1:${row.port}${path}`,
    durationSec,
    cpu: ctx.loadCpu,
    name: `wrk-${row.key}`,
  });
  const wallUs = (performance.now() - t0) * 1000;
  if (proxy?.exited()) throw new Error(`${proxy.name} exited during wrk; see ${proxy.logFile}`);
  const after = proxy ? sumCpu(proxyPids) : undefined;
  const ours1 = sumCpu(ours);
  const self1 = readSelfAndReapedCpu();
  const m1 = readMachineCpu();
  const selfUs = self1.userUs + self1.kernelUs - self0.userUs - self0.kernelUs;
  const oursUs = ours1.userUs + ours1.kernelUs - ours0.userUs - ours0.kernelUs;
  const otherUs = m1.processUs - m0.processUs - selfUs - oursUs;
  // tick granularity can make this slightly negative on a quiet machine
  const otherCores = otherUs / wallUs;
  const stealCores = (m1.stealUs - m0.stealUs) / wallUs;
  const errors = wrkErrors(wrk);
  if (errors > 0) {
    ctx.log(`    warning: ${row.key} ${path}: wrk errors ${JSON.stringify(wrk.errors)}`);
  }
  if (otherCores > 0.1 || stealCores > 0.1) {
    ctx.log(
      `    note: other work on the machine during this run: ${fmtNum(otherCores, 2)} cores` +
        `, steal ${fmtNum(stealCores, 2)} cores`,
    );
  }
  if (!before || !after) {
    return { wrk, userUsPerReq: NaN, kernelUsPerReq: NaN, cpuShare: NaN, otherCores, stealCores };
  }
  const d = cpuDelta(before, after);
  const n = Math.max(1, wrk.requests);
  return {
    wrk,
    userUsPerReq: d.userUs / n,
    kernelUsPerReq: d.kernelUs / n,
    cpuShare: (d.userUs + d.kernelUs) / wallUs,
    otherCores,
    stealCores,
  };
}

function cpuNote(r: LoadResult): string {
  return `, ${fmtNum(r.userUsPerReq)}/${fmtNum(r.kernelUsPerReq)} µs user/kernel per req, ` +
    `${fmtNum(r.cpuShare * 100, 0)}% CPU`;
}

/**
 * Quiet time between the loads and the second idle-memory measurement: two of mosn.ts's idle-trim
 * periods (5 s each), so that its post-load GC has run before the baseline is read.
 */
export const QUIET_BEFORE_IDLE_LARGE_MS = 11_000;

/** One row in one round: a fresh proxy, memory, warm-up, the two loads, memory again. */
export async function measureRow(ctx: SuiteContext, row: Row, round: number): Promise<RowRound> {
  const { opts } = ctx;
  let proxy: Spawned | undefined;
  try {
    if (row.start) {
      ctx.log(`  ${row.label}: starting`);
      proxy = await row.start(ctx);
    }
    await verifyServes(row.port, row.label);
    let pids: number[] = [];
    let rssFreshKiB = NaN;
    let idle: IdleMemory | undefined;
    if (proxy) {
      await new Promise((r) => setTimeout(r, 500));
      // after the first requests: nginx's workers exist by now
      pids = [proxy.pid, ...descendants(proxy.pid)];
      rssFreshKiB = sumRssKiB(pids);
      idle = await measureIdleMemory(pids, row.port, opts.idleConns);
      ctx.log(
        `  ${row.label}: RSS fresh ${fmtMiB(idle.rssBeforeKiB)}, with ${idle.opened} idle ` +
          `conns ${fmtMiB(idle.rssIdleKiB)} → ${fmtNum(idle.kibPerConn)} KiB/conn` +
          (idle.failed > 0 ? ` (${idle.failed} failed: ${idle.firstError})` : ""),
      );
    }
    if (opts.warmupSec > 0) {
      await runWrk(ctx.procs, {
        url: `http://127.0.0.1:${row.port}/hello`,
        durationSec: opts.warmupSec,
        cpu: ctx.loadCpu,
        name: `warmup-${row.key}`,
      });
    }
    const small = await load(ctx, row, proxy, pids, "/hello", opts.durationSec);
    ctx.log(
      `  ${row.label}: /hello ${fmtRps(small.wrk.rps)} rps, p99 ${fmtMs(small.wrk.p99Ms)}` +
        (proxy ? cpuNote(small) : ""),
    );
    const large = await load(ctx, row, proxy, pids, "/100k.bin", opts.durationSec);
    ctx.log(
      `  ${row.label}: /100k.bin ${fmtRps(large.wrk.rps)} rps, p99 ${fmtMs(large.wrk.p99Ms)}` +
        (proxy ? cpuNote(large) : ""),
    );
    let idleLarge: IdleMemory | undefined;
    if (proxy) {
      // after the loads, so that it cannot disturb them: does a connection that carried a large
      // response keep large buffers while idle? The baseline is taken once the proxy has been
      // quiet for a while: mosn.ts gives heap back 5–10 s after traffic stops, and a baseline
      // taken before that made the figure negative.
      await new Promise((r) => setTimeout(r, QUIET_BEFORE_IDLE_LARGE_MS));
      idleLarge = await measureIdleMemory(pids, row.port, opts.idleConns, "/100k.bin");
      ctx.log(
        `  ${row.label}: ${idleLarge.opened} idle conns after one /100k.bin each → ` +
          `${fmtNum(idleLarge.kibPerConn)} KiB/conn` +
          (idleLarge.failed > 0 ? ` (${idleLarge.failed} failed: ${idleLarge.firstError})` : ""),
      );
    }
    return {
      row: row.key,
      round,
      procs: proxy ? pids.length : undefined,
      rssFreshKiB,
      idle,
      idleLarge,
      small,
      large,
    };
  } finally {
    if (proxy) await ctx.procs.kill(proxy);
  }
}

/** Every row once per round, in the same order each round. */
export async function runRounds(ctx: SuiteContext, all: Row[]): Promise<[Row[], RowRound[]]> {
  const rows = selectRows(ctx, all);
  return [rows, await inRounds(ctx, rows, (row, round) => measureRow(ctx, row, round))];
}

/** A row's figures divided by another row's, median over rounds of the per-round ratios. */
export interface Ratios {
  small: number;
  large: number;
  p99Small: number;
  p99Large: number;
}

const NO_RATIOS: Ratios = { small: NaN, large: NaN, p99Small: NaN, p99Large: NaN };

/** Medians over rounds for one row, with ratios taken within each round first. */
export interface RowSummary {
  row: Row;
  rounds: number;
  rpsSmall: number;
  p99Small: number;
  rpsLarge: number;
  p99Large: number;
  /** Ratios against every other row measured, by row key. */
  vs: Record<string, Ratios>;
  userSmall: number;
  kernelSmall: number;
  userLarge: number;
  kernelLarge: number;
  cpuShareSmall: number;
  cpuShareLarge: number;
  rssFreshKiB: number;
  kibPerIdleConn: number;
  kibPerIdleConnLarge: number;
  idleFailed: number;
  wrkErrors: number;
  rpsSmallRange: [number, number];
  /** Largest "other work" figure of any load of this row, in cores. */
  otherCoresMax: number;
}

/** Ratios of `s` against row `key` (NaN when that row was not run). */
export function vs(s: RowSummary, key: string): Ratios {
  return s.vs[key] ?? NO_RATIOS;
}

export function summarise(rows: Row[], results: RowRound[]): RowSummary[] {
  const byRound = new Map<number, Map<string, RowRound>>();
  for (const r of results) {
    if (!byRound.has(r.round)) byRound.set(r.round, new Map());
    byRound.get(r.round)!.set(r.row, r);
  }
  const ratio = (r: RowRound, other: string, f: (x: RowRound) => number): number => {
    const o = byRound.get(r.round)?.get(other);
    return o ? f(r) / f(o) : NaN;
  };
  return rows.map((row) => {
    const rs = results.filter((r) => r.row === row.key);
    const m = (f: (x: RowRound) => number) => median(rs.map(f));
    const ratios: Record<string, Ratios> = {};
    for (const other of rows) {
      ratios[other.key] = {
        small: m((r) => ratio(r, other.key, (x) => x.small.wrk.rps)),
        large: m((r) => ratio(r, other.key, (x) => x.large.wrk.rps)),
        p99Small: m((r) => ratio(r, other.key, (x) => x.small.wrk.p99Ms)),
        p99Large: m((r) => ratio(r, other.key, (x) => x.large.wrk.p99Ms)),
      };
    }
    return {
      row,
      rounds: rs.length,
      rpsSmall: m((r) => r.small.wrk.rps),
      p99Small: m((r) => r.small.wrk.p99Ms),
      rpsLarge: m((r) => r.large.wrk.rps),
      p99Large: m((r) => r.large.wrk.p99Ms),
      vs: ratios,
      userSmall: m((r) => r.small.userUsPerReq),
      kernelSmall: m((r) => r.small.kernelUsPerReq),
      userLarge: m((r) => r.large.userUsPerReq),
      kernelLarge: m((r) => r.large.kernelUsPerReq),
      cpuShareSmall: m((r) => r.small.cpuShare),
      cpuShareLarge: m((r) => r.large.cpuShare),
      rssFreshKiB: m((r) => r.rssFreshKiB),
      kibPerIdleConn: m((r) => r.idle?.kibPerConn ?? NaN),
      kibPerIdleConnLarge: m((r) => r.idleLarge?.kibPerConn ?? NaN),
      idleFailed: rs.reduce((a, r) => a + (r.idle?.failed ?? 0) + (r.idleLarge?.failed ?? 0), 0),
      wrkErrors: rs.reduce((a, r) => a + wrkErrors(r.small.wrk) + wrkErrors(r.large.wrk), 0),
      rpsSmallRange: range(rs.map((r) => r.small.wrk.rps)),
      otherCoresMax: range(rs.flatMap((r) => [r.small.otherCores, r.large.otherCores]))[1],
    };
  });
}

/** The summary as JSON (row objects replaced by their keys). */
export function rawSummary(s: RowSummary[]): unknown[] {
  return s.map((x) => ({ ...x, row: x.row.key }));
}

/**
 * The main table: rps and p99 on both loads, ratios against each row in `against`
 * (key → column label), CPU per request on /hello, RSS fresh and KiB per idle connection.
 */
export function mainTable(s: RowSummary[], against: Record<string, string>): string {
  const keys = Object.keys(against);
  return mdTable(
    [
      "row",
      "rps small",
      "p99 small",
      "rps 100k",
      "p99 100k",
      ...keys.flatMap((k) => [`small vs ${against[k]}`, `100k vs ${against[k]}`]),
      "user µs/req",
      "kernel µs/req",
      "RSS fresh",
      "KiB per idle conn",
    ],
    s.map((r) => [
      r.row.label,
      fmtRps(r.rpsSmall),
      fmtMs(r.p99Small),
      fmtRps(r.rpsLarge),
      fmtMs(r.p99Large),
      ...keys.flatMap((k) => [fmtRatio(vs(r, k).small), fmtRatio(vs(r, k).large)]),
      fmtNum(r.userSmall),
      fmtNum(r.kernelSmall),
      fmtMiB(r.rssFreshKiB),
      fmtNum(r.kibPerIdleConn),
    ]),
  );
}

/** The sentence above {@link detailTable} in a report. */
export const DETAILS_CAPTION = "Details (medians; proxy CPU is the share of one core used during " +
  "the wrk run; KiB per idle conn after 100k is the same memory measurement with connections " +
  "that each fetched /100k.bin, taken after the loads and " +
  `${QUIET_BEFORE_IDLE_LARGE_MS / 1000} s without traffic; other work is CPU used by processes ` +
  "outside the benchmark during a run, the largest over rounds and loads — above ~0.1 cores the " +
  "machine was not quiet):";

/** The details table: CPU on 100k, CPU shares, idle memory after 100k, spread, errors, noise. */
export function detailTable(s: RowSummary[]): string {
  return mdTable(
    [
      "row",
      "user µs/req 100k",
      "kernel µs/req 100k",
      "proxy CPU small",
      "proxy CPU 100k",
      "KiB per idle conn after 100k",
      "rps small min–max",
      "wrk errors",
      "idle conns failed",
      "other work, max",
    ],
    s.map((r) => [
      r.row.label,
      fmtNum(r.userLarge),
      fmtNum(r.kernelLarge),
      Number.isFinite(r.cpuShareSmall) ? `${(r.cpuShareSmall * 100).toFixed(0)}%` : "—",
      Number.isFinite(r.cpuShareLarge) ? `${(r.cpuShareLarge * 100).toFixed(0)}%` : "—",
      fmtNum(r.kibPerIdleConnLarge),
      `${fmtRps(r.rpsSmallRange[0])}–${fmtRps(r.rpsSmallRange[1])}`,
      String(r.wrkErrors),
      r.row.start ? String(r.idleFailed) : "—",
      `${fmtNum(Math.max(0, r.otherCoresMax), 2)} cores`,
    ]),
  );
}

/** Differences under this fraction are noise on the reference machine (METHOD.md). */
export const NOISE = 0.15;

/** "**met**" / "**not met**", flagged when the deciding ratio is within the noise of the goal. */
export function verdict(ok: boolean | undefined, deciding?: number, goal = 1): string {
  if (ok === undefined) return "not measured";
  const close = deciding !== undefined && Number.isFinite(deciding) &&
    Math.abs(deciding / goal - 1) < NOISE;
  return (ok ? "**met**" : "**not met**") +
    (close ? ` (within the ~${NOISE * 100}% noise of this machine)` : "");
}
