/** The contract between `bench/run.ts` and a suite in `bench/suites/`. */

import type { Procs } from "./proc.ts";

export interface SuiteOptions {
  rounds: number;
  /** wrk duration per measured load, seconds. */
  durationSec: number;
  /** wrk warm-up before the measured loads, seconds. */
  warmupSec: number;
  /** Idle keep-alive connections for the memory measurement. */
  idleConns: number;
  /** Only these row keys (empty = all). */
  rows: string[];
  quick: boolean;
}

export interface SuiteContext {
  procs: Procs;
  /** Scratch folder: rendered configs, logs, www. */
  dir: string;
  opts: SuiteOptions;
  /** CPU list for the load generator and origin. */
  loadCpu: string;
  /** CPU list for the proxy under test. */
  proxyCpu: string;
  /** Pids of the origin (nginx master and workers), for the machine-noise figure. */
  originPids: number[];
  /** Progress output. */
  log(msg: string): void;
}

/** What a suite hands back. */
export interface SuiteReport {
  /** Markdown printed to the console. */
  console: string;
  /**
   * Body of the suite's section in BENCHMARKS.md, without its `## ` heading and without the
   * run facts (date, machine, command), which run.ts puts first.
   */
  section: string;
  /** Everything measured, saved as JSON next to the logs. */
  raw: unknown;
}

export interface Suite {
  /** `--suite` name. */
  name: string;
  /** The `## ` heading of its BENCHMARKS.md section. */
  heading: string;
  /** Tools it needs: command → Debian package. */
  tools: Record<string, string>;
  /** 127.0.0.1 ports it binds (checked free before starting). */
  ports: number[];
  /**
   * Whether run.ts starts the nginx origin for it (default true). A suite with its own backend
   * (bolt) sets false, starts and kills the backend itself and gets an empty `originPids`.
   */
  origin?: boolean;
  /** The load tool named in the run facts (default "wrk"). */
  loadTool?: string;
  run(ctx: SuiteContext): Promise<SuiteReport>;
}

/** The rows `--rows` names (all of them when it names none); throws when it matches none. */
export function selectRows<R extends { key: string }>(ctx: SuiteContext, all: R[]): R[] {
  const rows = ctx.opts.rows.length > 0 ? all.filter((r) => ctx.opts.rows.includes(r.key)) : all;
  if (rows.length === 0) {
    throw new Error(
      `no rows match ${ctx.opts.rows.join(",")} (available: ${all.map((r) => r.key).join(",")})`,
    );
  }
  return rows;
}

/**
 * `measure` on every row, `--rounds` times, the rows interleaved within each round (so that a
 * slow spell on the machine hits every row alike).
 */
export async function inRounds<R, T>(
  ctx: SuiteContext,
  rows: readonly R[],
  measure: (row: R, round: number) => Promise<T>,
): Promise<T[]> {
  const results: T[] = [];
  for (let round = 1; round <= ctx.opts.rounds; round++) {
    ctx.log(`round ${round}/${ctx.opts.rounds}`);
    for (const row of rows) results.push(await measure(row, round));
  }
  return results;
}
