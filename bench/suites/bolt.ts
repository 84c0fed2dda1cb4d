/**
 * Bolt suite: a bolt v1 load generator (`bench/lib/bolt_load.ts`: 5 connections, 50 calls in
 * flight in total, 1 KiB request and response bodies) → a bolt backend (`bench/lib/bolt_server.ts`)
 * directly, through HAProxy `mode tcp` (nbthread 1, a config written into the scratch folder) and
 * through mosn.ts's `proxy` filter with `downstream_protocol: bolt` (decodes every call, routes it
 * by its `service` header, one SIMPLE cluster). Generator and backend share cpu0, the proxy gets
 * cpu1. Goal (from the issue): mosn.ts reaches ≥ 1.0× HAProxy's calls/s with p99 ≤ 1.5× HAProxy's.
 */

import { verifyBolt } from "../lib/bolt_frames.ts";
import type { BoltLoadResult } from "../lib/bolt_load.ts";
import { NOISE, sumRssKiB, verdict } from "../lib/measure.ts";
import { descendants, portOpen, waitFor } from "../lib/proc.ts";
import type { Spawned } from "../lib/proc.ts";
import { cpuDelta, readMachineCpu, readSelfAndReapedCpu, sumCpu } from "../lib/procstat.ts";
import { BENCH_DIR, REPO_ROOT, startMosn, writeJson } from "../lib/servers.ts";
import { fmtMiB, fmtMs, fmtNum, fmtRatio, fmtRps, mdTable, median, range } from "../lib/stats.ts";
import { inRounds, selectRows } from "../lib/suite.ts";
import type { Suite, SuiteContext, SuiteReport } from "../lib/suite.ts";

const BACKEND_PORT = 29280;
const HAPROXY_PORT = 29282;
const MOSN_PORT = 29287;
const MOSN_ADMIN_PORT = 29297;
const CONNS = 5;
const INFLIGHT = 50;

/** Goal from the issue. */
export const GOALS = { cpsVsHaproxy: 1.0, p99VsHaproxy: 1.5 } as const;

/** Deno flags for the generator and the backend: loopback only, read for the golden frames. */
const TOOL_ARGS = ["run", "--allow-net=127.0.0.1", `--allow-read=${REPO_ROOT}`];

function mosnConfig(): unknown {
  return {
    servers: [{
      default_log_level: "ERROR",
      routers: [{
        router_config_name: "r",
        virtual_hosts: [{
          name: "v",
          domains: ["*"],
          routers: [{
            match: { headers: [{ name: "service", value: ".*", regex: true }] },
            route: { cluster_name: "b" },
          }],
        }],
      }],
      listeners: [{
        name: "bolt",
        address: `127.0.0.1:${MOSN_PORT}`,
        bind_port: true,
        filter_chains: [{
          filters: [{
            type: "proxy",
            config: { downstream_protocol: "bolt", router_config_name: "r" },
          }],
        }],
      }],
    }],
    cluster_manager: {
      clusters: [{
        name: "b",
        type: "SIMPLE",
        lb_type: "LB_ROUNDROBIN",
        hosts: [{ address: `127.0.0.1:${BACKEND_PORT}` }],
      }],
    },
    admin: {
      address: { socket_address: { address: "127.0.0.1", port_value: MOSN_ADMIN_PORT } },
    },
  };
}

/** HAProxy `mode tcp` in front of the bolt backend, as the reference config's tcp frontend. */
function haproxyConfig(): string {
  return [
    "# bolt suite: HAProxy 2.6 mode tcp in front of the bolt backend (written by bench/run.ts)",
    "global",
    "  nbthread 1",
    "  noreuseport",
    "  maxconn 8000",
    "  tune.bufsize 16384",
    "  log stderr format raw local0 err",
    "defaults",
    "  timeout connect 5s",
    "  timeout client 600s",
    "  timeout server 600s",
    "  maxconn 8000",
    "frontend fe_bolt",
    "  mode tcp",
    `  bind 127.0.0.1:${HAPROXY_PORT} backlog 4096`,
    "  default_backend be_bolt",
    "backend be_bolt",
    "  mode tcp",
    `  server s1 127.0.0.1:${BACKEND_PORT}`,
    "",
  ].join("\n");
}

interface BoltRow {
  key: string;
  label: string;
  port: number;
  start?: (ctx: SuiteContext) => Promise<Spawned>;
}

const ROWS: BoltRow[] = [
  { key: "direct", label: "direct (generator → backend)", port: BACKEND_PORT },
  {
    key: "haproxy",
    label: "HAProxy 2.6 mode tcp",
    port: HAPROXY_PORT,
    start: async (ctx) => {
      const file = `${ctx.dir}/haproxy-bolt.cfg`;
      Deno.writeTextFileSync(file, haproxyConfig());
      const p = ctx.procs.spawn("haproxy-bolt", "haproxy", ["-db", "-f", file], {
        cpu: ctx.proxyCpu,
      });
      await waitFor(`HAProxy on :${HAPROXY_PORT}`, () => portOpen(HAPROXY_PORT), p, 10_000);
      return p;
    },
  },
  {
    key: "mosn",
    label: "mosn.ts bolt proxy",
    port: MOSN_PORT,
    start: (ctx) => {
      const file = `${ctx.dir}/mosn-bolt.json`;
      writeJson(file, mosnConfig());
      return startMosn(ctx.procs, file, ctx.proxyCpu, MOSN_ADMIN_PORT);
    },
  },
];

async function startBackend(ctx: SuiteContext): Promise<Spawned> {
  const p = ctx.procs.spawn("bolt-backend", `${REPO_ROOT}/deno`, [
    ...TOOL_ARGS,
    `${BENCH_DIR}/lib/bolt_server.ts`,
    "--port",
    String(BACKEND_PORT),
  ], { cpu: ctx.loadCpu, cwd: REPO_ROOT, env: { NO_COLOR: "1" } });
  await waitFor(`the bolt backend on :${BACKEND_PORT}`, () => portOpen(BACKEND_PORT), p, 30_000);
  await verifyBolt(BACKEND_PORT);
  return p;
}

/** Runs the generator to completion (watchdog: duration + 30 s) and parses its JSON line. */
async function runGenerator(
  ctx: SuiteContext,
  port: number,
  durationSec: number,
  name: string,
): Promise<BoltLoadResult> {
  const p = ctx.procs.spawn(name, `${REPO_ROOT}/deno`, [
    ...TOOL_ARGS,
    `${BENCH_DIR}/lib/bolt_load.ts`,
    "--port",
    String(port),
    "--conns",
    String(CONNS),
    "--inflight",
    String(INFLIGHT),
    "--duration",
    String(durationSec),
  ], { cpu: ctx.loadCpu, cwd: REPO_ROOT, env: { NO_COLOR: "1" } });
  let timedOut = false;
  const watchdog = setTimeout(() => {
    if (!p.exited()) {
      timedOut = true;
      void ctx.procs.kill(p, 1000);
    }
  }, (durationSec + 30) * 1000);
  try {
    const status = await p.status;
    const out = Deno.readTextFileSync(p.logFile);
    if (timedOut) throw new Error(`the bolt generator did not finish in time; see ${p.logFile}`);
    if (!status.success) throw new Error(`the bolt generator exited with ${status.code}: ${out}`);
    const line = out.split("\n").reverse().find((l) => l.startsWith("{"));
    if (!line) throw new Error(`the bolt generator printed no result; see ${p.logFile}`);
    return JSON.parse(line) as BoltLoadResult;
  } finally {
    clearTimeout(watchdog);
    if (!p.exited()) await ctx.procs.kill(p, 500);
  }
}

interface BoltLoad {
  gen: BoltLoadResult;
  /** Proxy CPU per completed call, µs (NaN for direct). */
  userUsPerCall: number;
  kernelUsPerCall: number;
  /** Proxy CPU as a share of one core. */
  cpuShare: number;
  /** CPU of processes outside the benchmark during the load, in cores. */
  otherCores: number;
  stealCores: number;
}

interface BoltRowRound {
  row: string;
  round: number;
  rssFreshKiB: number;
  load: BoltLoad;
}

async function measuredLoad(
  ctx: SuiteContext,
  row: BoltRow,
  proxyPids: readonly number[],
  backendPids: readonly number[],
): Promise<BoltLoad> {
  const ours = [...backendPids, ...proxyPids];
  const m0 = readMachineCpu();
  const self0 = readSelfAndReapedCpu();
  const ours0 = sumCpu(ours);
  const before = sumCpu(proxyPids);
  const t0 = performance.now();
  const gen = await runGenerator(ctx, row.port, ctx.opts.durationSec, `bolt-load-${row.key}`);
  const wallUs = (performance.now() - t0) * 1000;
  const after = sumCpu(proxyPids);
  const ours1 = sumCpu(ours);
  const self1 = readSelfAndReapedCpu();
  const m1 = readMachineCpu();
  const selfUs = self1.userUs + self1.kernelUs - self0.userUs - self0.kernelUs;
  const oursUs = ours1.userUs + ours1.kernelUs - ours0.userUs - ours0.kernelUs;
  const otherCores = (m1.processUs - m0.processUs - selfUs - oursUs) / wallUs;
  const stealCores = (m1.stealUs - m0.stealUs) / wallUs;
  if (gen.errors > 0 || gen.unanswered > 0) {
    ctx.log(
      `    warning: ${row.key}: ${gen.errors} error(s), ${gen.unanswered} unanswered` +
        (gen.firstError ? ` (first: ${gen.firstError})` : ""),
    );
  }
  if (otherCores > 0.1 || stealCores > 0.1) {
    ctx.log(
      `    note: other work on the machine during this run: ${fmtNum(otherCores, 2)} cores` +
        `, steal ${fmtNum(stealCores, 2)} cores`,
    );
  }
  if (proxyPids.length === 0) {
    return {
      gen,
      userUsPerCall: NaN,
      kernelUsPerCall: NaN,
      cpuShare: NaN,
      otherCores,
      stealCores,
    };
  }
  // the proxy's CPU covers the generator's whole run (start-up, connect, window, drain of the
  // last < 50 calls): per call over the window's calls, as a share of the window's length
  const d = cpuDelta(before, after);
  const n = Math.max(1, gen.calls);
  return {
    gen,
    userUsPerCall: d.userUs / n,
    kernelUsPerCall: d.kernelUs / n,
    cpuShare: (d.userUs + d.kernelUs) / (gen.seconds * 1e6),
    otherCores,
    stealCores,
  };
}

async function measureRow(
  ctx: SuiteContext,
  row: BoltRow,
  round: number,
  backendPids: readonly number[],
): Promise<BoltRowRound> {
  let proxy: Spawned | undefined;
  try {
    if (row.start) {
      ctx.log(`  ${row.label}: starting`);
      proxy = await row.start(ctx);
    }
    await verifyBolt(row.port);
    let pids: number[] = [];
    let rssFreshKiB = NaN;
    if (proxy) {
      await new Promise((r) => setTimeout(r, 500));
      pids = [proxy.pid, ...descendants(proxy.pid)];
      rssFreshKiB = sumRssKiB(pids);
      ctx.log(`  ${row.label}: RSS fresh ${fmtMiB(rssFreshKiB)}`);
    }
    if (ctx.opts.warmupSec > 0) {
      await runGenerator(
        ctx,
        row.port,
        Math.max(1, Math.round(ctx.opts.warmupSec)),
        `bolt-warmup-${row.key}`,
      );
    }
    const load = await measuredLoad(ctx, row, pids, backendPids);
    if (proxy?.exited()) {
      throw new Error(`${proxy.name} exited during the load; see ${proxy.logFile}`);
    }
    ctx.log(
      `  ${row.label}: ${fmtRps(load.gen.callsPerSec)} calls/s, p50 ${fmtMs(load.gen.p50Ms)}, ` +
        `p99 ${fmtMs(load.gen.p99Ms)}` +
        (proxy
          ? `, ${fmtNum(load.userUsPerCall)}/${fmtNum(load.kernelUsPerCall)} µs user/kernel ` +
            `per call, ${fmtNum(load.cpuShare * 100, 0)}% CPU`
          : ""),
    );
    return { row: row.key, round, rssFreshKiB, load };
  } finally {
    if (proxy) await ctx.procs.kill(proxy);
  }
}

interface BoltSummary {
  row: BoltRow;
  rounds: number;
  cps: number;
  p50: number;
  p99: number;
  /** Per-round ratios against each row, medians: calls/s and p99. */
  vs: Record<string, { cps: number; p99: number }>;
  user: number;
  kernel: number;
  cpuShare: number;
  rssFreshKiB: number;
  cpsRange: [number, number];
  errors: number;
  otherCoresMax: number;
}

function summarise(rows: BoltRow[], results: BoltRowRound[]): BoltSummary[] {
  const at = (round: number, key: string) =>
    results.find((r) => r.round === round && r.row === key);
  return rows.map((row) => {
    const rs = results.filter((r) => r.row === row.key);
    const m = (f: (x: BoltRowRound) => number) => median(rs.map(f));
    const ratios: Record<string, { cps: number; p99: number }> = {};
    for (const other of rows) {
      const ratio = (f: (x: BoltRowRound) => number) =>
        m((r) => {
          const o = at(r.round, other.key);
          return o ? f(r) / f(o) : NaN;
        });
      ratios[other.key] = {
        cps: ratio((x) => x.load.gen.callsPerSec),
        p99: ratio((x) => x.load.gen.p99Ms),
      };
    }
    return {
      row,
      rounds: rs.length,
      cps: m((r) => r.load.gen.callsPerSec),
      p50: m((r) => r.load.gen.p50Ms),
      p99: m((r) => r.load.gen.p99Ms),
      vs: ratios,
      user: m((r) => r.load.userUsPerCall),
      kernel: m((r) => r.load.kernelUsPerCall),
      cpuShare: m((r) => r.load.cpuShare),
      rssFreshKiB: m((r) => r.rssFreshKiB),
      cpsRange: range(rs.map((r) => r.load.gen.callsPerSec)),
      errors: rs.reduce((a, r) => a + r.load.gen.errors + Math.max(0, r.load.gen.unanswered), 0),
      otherCoresMax: range(rs.map((r) => r.load.otherCores))[1],
    };
  });
}

function table(s: BoltSummary[]): string {
  const ratio = (r: BoltSummary, k: string, f: "cps" | "p99") => fmtRatio(r.vs[k]?.[f] ?? NaN);
  return mdTable(
    [
      "row",
      "calls/s",
      "p50",
      "p99",
      "vs direct",
      "vs HAProxy",
      "p99 vs HAProxy",
      "user µs/call",
      "kernel µs/call",
      "proxy CPU",
      "RSS fresh",
    ],
    s.map((r) => [
      r.row.label,
      fmtRps(r.cps),
      fmtMs(r.p50),
      fmtMs(r.p99),
      ratio(r, "direct", "cps"),
      ratio(r, "haproxy", "cps"),
      ratio(r, "haproxy", "p99"),
      fmtNum(r.user),
      fmtNum(r.kernel),
      Number.isFinite(r.cpuShare) ? `${(r.cpuShare * 100).toFixed(0)}%` : "—",
      fmtMiB(r.rssFreshKiB),
    ]),
  );
}

function details(s: BoltSummary[]): string {
  return mdTable(
    ["row", "calls/s min–max", "errors", "other work, max"],
    s.map((r) => [
      r.row.label,
      `${fmtRps(r.cpsRange[0])}–${fmtRps(r.cpsRange[1])}`,
      String(r.errors),
      `${fmtNum(Math.max(0, r.otherCoresMax), 2)} cores`,
    ]),
  );
}

function goals(s: BoltSummary[]): string {
  const m = s.find((r) => r.row.key === "mosn");
  const h = s.find((r) => r.row.key === "haproxy");
  if (!m || !h) return "Goal not evaluated: the run did not include both HAProxy and mosn.ts.";
  const { cpsVsHaproxy: cpsGoal, p99VsHaproxy: p99Goal } = GOALS;
  const cps = m.vs.haproxy?.cps ?? NaN;
  const p99 = m.vs.haproxy?.p99 ?? NaN;
  const cpsOk = cps >= cpsGoal;
  const p99Ok = p99 <= p99Goal;
  const overall = cpsOk && p99Ok ? "**met**" : "**not met**";
  return [
    `Goal (from the issue): the mosn.ts bolt proxy reaches at least ${cpsGoal.toFixed(1)}× ` +
    `HAProxy's calls/s with a p99 latency no worse than ${p99Goal}× HAProxy's — ${overall}.`,
    "",
    `- Calls/s ≥ ${cpsGoal.toFixed(1)}× HAProxy: ${verdict(cpsOk, cps, cpsGoal)} — ` +
    `${fmtRatio(cps)} (${fmtRps(m.cps)} vs ${fmtRps(h.cps)} calls/s).`,
    `- p99 ≤ ${p99Goal}× HAProxy: ${verdict(p99Ok, p99, p99Goal)} — ${fmtRatio(p99)} ` +
    `(${fmtMs(m.p99)} vs ${fmtMs(h.p99)}).`,
  ].join("\n");
}

export const boltSuite: Suite = {
  name: "bolt",
  heading: "Bolt proxy (mosn.ts bolt vs HAProxy mode tcp)",
  tools: { haproxy: "haproxy", taskset: "util-linux" },
  ports: [BACKEND_PORT, HAPROXY_PORT, MOSN_PORT, MOSN_ADMIN_PORT],
  origin: false,
  loadTool: "bolt generator",
  async run(ctx: SuiteContext): Promise<SuiteReport> {
    const rows = selectRows(ctx, ROWS);
    const backend = await startBackend(ctx);
    let results: BoltRowRound[];
    try {
      const backendPids = [backend.pid, ...descendants(backend.pid)];
      results = await inRounds(ctx, rows, (row, round) => measureRow(ctx, row, round, backendPids));
    } finally {
      await ctx.procs.kill(backend);
    }
    const s = summarise(rows, results);
    const main = table(s);
    const extra = details(s);
    const verdictText = goals(s);
    const section = [
      `Bolt v1 RPC through a proxy: a load generator (\`bench/lib/bolt_load.ts\`, Deno) keeps ` +
      `${INFLIGHT} calls in flight over ${CONNS} connections to a bolt backend ` +
      `(\`bench/lib/bolt_server.ts\`, Deno), each call a request with the golden ` +
      `\`sayHello\` header map and a 1 KiB body, each answer a response with the same id and a ` +
      `1 KiB body; generator and backend share cpu0, the proxy has cpu1. HAProxy runs \`mode tcp\` ` +
      `(\`nbthread 1\`, byte copy, one upstream connection per client connection); mosn.ts runs ` +
      `the \`proxy\` filter with \`downstream_protocol: bolt\`, decoding each call and routing it ` +
      `on its \`service\` header to a SIMPLE cluster. Calls/s and latency from the generator ` +
      `over ${ctx.opts.durationSec} s after a ${ctx.opts.warmupSec} s warm-up; CPU per call is ` +
      `the proxy's user and kernel time over the load divided by the calls; RSS fresh is the ` +
      `proxy's resident memory before any load. Medians over ${ctx.opts.rounds} round(s), ` +
      `ratios taken within a round. Differences under ~${NOISE * 100}% are noise.`,
      "",
      main,
      "",
      "Details (calls/s spread over rounds; errors are unknown ids, closed connections and " +
      "calls left unanswered; other work is CPU used by processes outside the benchmark during " +
      "a load, the largest over rounds — above ~0.1 cores the machine was not quiet):",
      "",
      extra,
      "",
      verdictText,
    ].join("\n");
    return {
      console: `${main}\n\n${extra}\n\n${verdictText}`,
      section,
      raw: {
        summary: s.map((x) => ({ ...x, row: x.row.key })),
        results,
        conns: CONNS,
        inflight: INFLIGHT,
      },
    };
  },
};
