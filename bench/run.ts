/**
 * Benchmark runner: `./deno task bench [--suite tcp|http|bolt|all] [--rounds N] [--duration 10s]
 * [--quick]`.
 *
 * Starts an nginx origin (the bolt suite starts its own bolt backend instead), runs the chosen
 * suite (fresh proxy processes per row and round, load on cpu0, proxy on cpu1), prints a Markdown
 * table and rewrites the suite's section of BENCHMARKS.md; `--suite all` runs tcp, http, then
 * bolt, each with its own origin. Every process it starts is killed at the end, also on errors
 * and on Ctrl-C.
 *
 * Flags:
 *   --suite <name>     suite to run (default tcp; available: tcp, http, bolt, h2, h2tls, tracing,
 *                      all = tcp, http, bolt and h2)
 *   --rounds <n>       rounds, medians reported (default 3)
 *   --duration <t>     wrk (bolt: generator) duration per load, e.g. 10s (default 10s)
 *   --warmup <t>       warm-up per row before the measured loads (default 3s)
 *   --idle-conns <n>   idle connections for the memory figure (default 1000)
 *   --rows a,b         only these rows (tcp, bolt: direct,haproxy,mosn;
 *                      http: direct,haproxy,nginx,mosn; h2, h2tls: direct,haproxy,nginx,mosn,
 *                      mosn_h1)
 *   --quick            smoke run: 1 round, 3 s loads, 1 s warm-up; BENCHMARKS.md left alone
 *   --write/--no-write update BENCHMARKS.md or not (default: write unless --quick)
 *   --dir <path>       scratch folder (default a new temp folder)
 *   --keep             keep the scratch folder (logs, configs, results JSON)
 */

import { parseArgs } from "node:util";
import {
  assertPortsFree,
  canRaisePriority,
  descendants,
  pinSelf,
  Procs,
  requireTools,
  runQuiet,
} from "./lib/proc.ts";
import { initClockTicks, machineInfo } from "./lib/procstat.ts";
import type { MachineInfo } from "./lib/procstat.ts";
import { updateBenchmarksFile } from "./lib/report.ts";
import { prepareScratch, REPO_ROOT, startOrigin } from "./lib/servers.ts";
import type { Suite, SuiteOptions } from "./lib/suite.ts";
import { boltSuite } from "./suites/bolt.ts";
import { h2Suite } from "./suites/h2.ts";
import { h2TlsSuite } from "./suites/h2_tls.ts";
import { httpSuite } from "./suites/http.ts";
import { tcpSuite } from "./suites/tcp.ts";
import { tracingSuite } from "./suites/tracing.ts";

const SUITES: Record<string, Suite> = {
  tcp: tcpSuite,
  http: httpSuite,
  bolt: boltSuite,
  tracing: tracingSuite,
  h2: h2Suite,
  h2tls: h2TlsSuite,
};
/** `--suite all` runs these, in this order. */
const ALL = ["tcp", "http", "bolt", "h2"];
const LOAD_CPU = "0";
const PROXY_CPU = "1";

function log(msg: string): void {
  console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}`);
}

/** "10s" / "10" → 10, "500ms" → 0.5, "1m" → 60. */
function parseSeconds(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!m) throw new Error(`${flag}: expected a duration like 10s, got ${JSON.stringify(text)}`);
  const n = Number(m[1]);
  const s = m[2] === "ms" ? n / 1000 : m[2] === "m" ? n * 60 : n;
  if (flag === "--duration" && (s < 1 || !Number.isInteger(s))) {
    throw new Error(`${flag}: wrk needs whole seconds ≥ 1, got ${text}`);
  }
  return s;
}

function positiveInt(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag}: expected a positive integer`);
  return n;
}

/** The flags that shape the results, for the report (drops --dir, --keep, --write...). */
function resultFlags(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--dir") i++;
    else if (a.startsWith("--dir=") || ["--keep", "--write", "--no-write"].includes(a)) continue;
    else out.push(a);
  }
  return out;
}

async function versions(): Promise<Record<string, string>> {
  const first = async (cmd: string, args: string[], re: RegExp): Promise<string> => {
    try {
      const r = await runQuiet(cmd, args);
      const m = re.exec(r.stdout + r.stderr);
      return m ? m[1]!.trim() : "?";
    } catch {
      return "?";
    }
  };
  return {
    deno: Deno.version.deno,
    haproxy: await first("haproxy", ["-v"], /HAProxy version (\S+)/),
    nginx: await first("nginx", ["-v"], /nginx\/(\S+)/),
    wrk: await first("wrk", ["-v"], /wrk (\S+)/),
  };
}

function runFacts(
  machine: MachineInfo,
  v: Record<string, string>,
  command: string,
  opts: SuiteOptions,
  nice: boolean,
  loadTool = "wrk",
): string {
  const date = new Date().toISOString().replace(/\.\d+Z$/, "Z").replace("T", " ");
  return [
    `- Date: ${date}`,
    `- Machine: ${machine.nproc} CPUs (${machine.cpuModel}), ${machine.memTotal} RAM, ` +
    `Linux ${machine.kernel}`,
    `- Software: Deno ${v.deno}, HAProxy ${v.haproxy}` +
    (loadTool === "wrk" ? `, nginx ${v.nginx}, wrk ${v.wrk}` : ""),
    `- Command: \`${command}\``,
    `- Rounds: ${opts.rounds}; ${loadTool} ${opts.durationSec} s per load after a ` +
    `${opts.warmupSec} s warm-up; ` +
    (loadTool === "wrk" ? `${opts.idleConns} idle connections; ` : "") +
    `load on cpu${LOAD_CPU}, proxy on cpu${PROXY_CPU}` +
    (nice ? ", nice -10" : ", default priority (nice -10 not permitted)"),
  ].join("\n");
}

interface RunContext {
  procs: Procs;
  dir: string;
  opts: SuiteOptions;
  machine: MachineInfo;
  versions: Record<string, string>;
  command: string;
  nice: boolean;
  write: boolean;
}

/** Runs one suite with its own origin, prints its report and rewrites its BENCHMARKS.md section. */
async function runSuite(suite: Suite, rc: RunContext): Promise<void> {
  const { procs, dir, opts } = rc;
  log(
    `suite ${suite.name}: ${opts.rounds} round(s), ${opts.durationSec} s per load; scratch ${dir}`,
  );
  const origin = suite.origin === false ? undefined : await startOrigin(procs, dir, LOAD_CPU);
  let report;
  try {
    report = await suite.run({
      procs,
      dir,
      opts,
      loadCpu: LOAD_CPU,
      proxyCpu: PROXY_CPU,
      originPids: origin ? [origin.pid, ...descendants(origin.pid)] : [],
      log,
    });
  } finally {
    if (origin) await procs.kill(origin);
  }
  const facts = runFacts(rc.machine, rc.versions, rc.command, opts, rc.nice, suite.loadTool);
  Deno.writeTextFileSync(
    `${dir}/results-${suite.name}.json`,
    JSON.stringify(
      {
        machine: rc.machine,
        versions: rc.versions,
        command: rc.command,
        opts,
        ...report.raw as object,
      },
      null,
      2,
    ),
  );
  console.log(`\n## ${suite.heading}\n\n${facts}\n\n${report.console}\n`);
  if (rc.write) {
    const file = `${REPO_ROOT}/BENCHMARKS.md`;
    updateBenchmarksFile(file, suite.name, suite.heading, `${facts}\n\n${report.section}`);
    const fmt = await runQuiet(`${REPO_ROOT}/deno`, ["fmt", "-q", file], 60_000);
    if (fmt.code !== 0) log(`warning: deno fmt BENCHMARKS.md failed: ${fmt.stderr}`);
    log(`updated ${file} (section "${suite.heading}")`);
  } else {
    log("BENCHMARKS.md not updated (--quick or --no-write; pass --write to update it)");
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      suite: { type: "string", default: "tcp" },
      rounds: { type: "string" },
      duration: { type: "string" },
      warmup: { type: "string" },
      "idle-conns": { type: "string", default: "1000" },
      rows: { type: "string", default: "" },
      quick: { type: "boolean", default: false },
      write: { type: "boolean" },
      "no-write": { type: "boolean", default: false },
      dir: { type: "string" },
      keep: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    const doc = Deno.readTextFileSync(new URL(import.meta.url)).split("*/")[0]!;
    console.log(doc.replace(/^\/\*\*\n?/, "").replace(/^ \* ?/gm, ""));
    return 0;
  }
  const names = values.suite === "all" ? ALL : [values.suite];
  if (names.some((n) => !SUITES[n])) {
    throw new Error(
      `unknown suite ${values.suite}; available: ${[...Object.keys(SUITES), "all"].join(", ")}`,
    );
  }
  const suites: Suite[] = names.map((n) => SUITES[n]!);
  const quick = values.quick;
  const opts: SuiteOptions = {
    rounds: values.rounds ? positiveInt(values.rounds, "--rounds") : quick ? 1 : 3,
    durationSec: values.duration ? parseSeconds(values.duration, "--duration") : quick ? 3 : 10,
    warmupSec: values.warmup ? parseSeconds(values.warmup, "--warmup") : quick ? 1 : 3,
    idleConns: positiveInt(values["idle-conns"], "--idle-conns"),
    rows: values.rows.split(",").map((s) => s.trim()).filter(Boolean),
    quick,
  };
  const write = values["no-write"] ? false : values.write ?? !quick;
  const command = ["./deno task bench", ...resultFlags(Deno.args)].join(" ");

  if (Deno.build.os !== "linux") throw new Error("the benchmarks need Linux (/proc, taskset)");
  for (const suite of suites) requireTools(suite.tools);
  await assertPortsFree([...new Set(suites.flatMap((x) => x.ports))]);
  const machine = machineInfo();
  if (machine.nproc < 2) log("warning: fewer than 2 CPUs; load and proxy will share a core");
  await initClockTicks();
  const nice = await canRaisePriority();
  if (!nice) log("note: nice -n -10 not permitted; running at default priority");
  // this process opens the idle connections: keep it on the load generator's core
  if (!(await pinSelf(LOAD_CPU))) log("warning: could not pin the runner to cpu0");

  const dir = values.dir ?? (await Deno.makeTempDir({ prefix: "mosn-bench-" }));
  Deno.mkdirSync(dir, { recursive: true });
  prepareScratch(dir);
  const procs = new Procs(`${dir}/logs`, nice);
  let failed = false;
  const onSignal = () => {
    log("interrupted: stopping every process started");
    procs.killAllSync();
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  globalThis.addEventListener("unload", () => procs.killAllSync());
  try {
    const v = await versions();
    for (const [i, suite] of suites.entries()) {
      // the previous suite's processes are gone, but check: the ports must be ours alone
      if (i > 0) await assertPortsFree(suite.ports);
      await runSuite(suite, { procs, dir, opts, machine, versions: v, command, nice, write });
      if (values.keep || values.dir) log(`raw results: ${dir}/results-${suite.name}.json`);
    }
    return 0;
  } catch (e) {
    failed = true;
    throw e;
  } finally {
    await procs.killAll();
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
    if (values.keep || failed) log(`scratch folder kept: ${dir}`);
    else if (!values.dir) Deno.removeSync(dir, { recursive: true });
  }
}

if (import.meta.main) {
  try {
    Deno.exit(await main());
  } catch (e) {
    log(`error: ${(e as Error).message}`);
    Deno.exit(1);
  }
}
