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
