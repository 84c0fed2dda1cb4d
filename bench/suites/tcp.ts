/**
 * TCP proxy suite: wrk → origin directly, through HAProxy `mode tcp` (reference config, nbthread
 * 1) and through mosn.ts `tcp_proxy`, HTTP/1.1 keep-alive on top. Goals (from the issue): mosn.ts
 * reaches ≥ 1.0× HAProxy's requests/s with p99 ≤ 1.5× HAProxy's, and holds ≤ 24 KiB of RSS per
 * idle proxied connection.
 */

import { measureIdleMemory } from "../lib/idle.ts";
import type { IdleMemory } from "../lib/idle.ts";
import type { Spawned } from "../lib/proc.ts";
import {
  cpuDelta,
  readCpu,
  readMachineCpu,
  readRssKiB,
  readSelfAndReapedCpu,
} from "../lib/procstat.ts";
import { PORTS, startHaproxy, startMosn, verifyServes, writeJson } from "../lib/servers.ts";
import { fmtMiB, fmtMs, fmtNum, fmtRatio, fmtRps, mdTable, median, range } from "../lib/stats.ts";
import type { Suite, SuiteContext, SuiteReport } from "../lib/suite.ts";
import { runWrk, wrkErrors } from "../lib/wrk.ts";
import type { WrkResult } from "../lib/wrk.ts";

const MOSN_PORT = 29085;
const MOSN_ADMIN_PORT = 29095;

/** Goals from the issue. */
export const GOALS = { rpsVsHaproxy: 1.0, p99VsHaproxy: 1.5, kibPerIdleConn: 24 } as const;

type RowKey = "direct" | "haproxy" | "mosn";

interface Row {
  key: RowKey;
  label: string;
  port: number;
  /** Starts the proxy; undefined for the direct row. */
  start?: (ctx: SuiteContext) => Promise<Spawned>;
}

/** One wrk load against one row, with the proxy's CPU over the run. */
interface LoadResult {
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

interface RowRound {
  row: RowKey;
  round: number;
  rssFreshKiB: number;
  idle?: IdleMemory;
  /** Idle connections whose one request fetched /100k.bin (measured after the loads). */
  idleLarge?: IdleMemory;
  small: LoadResult;
  large: LoadResult;
}

function mosnConfig(dir: string): unknown {
  return {
    servers: [{
      default_log_path: `${dir}/logs/mosn.log`,
      default_log_level: "ERROR",
      listeners: [{
        name: "bench_tcp",
        address: `127.0.0.1:${MOSN_PORT}`,
        bind_port: true,
        filter_chains: [{ filters: [{ type: "tcp_proxy", config: { cluster: "backend" } }] }],
      }],
    }],
    cluster_manager: {
      clusters: [{
        name: "backend",
        type: "SIMPLE",
        lb_type: "LB_ROUNDROBIN",
        hosts: [{ address: `127.0.0.1:${PORTS.origin}` }],
      }],
    },
    admin: {
      address: { socket_address: { address: "127.0.0.1", port_value: MOSN_ADMIN_PORT } },
    },
  };
}

const ROWS: Row[] = [
  { key: "direct", label: "direct (wrk → nginx)", port: PORTS.origin },
  {
    key: "haproxy",
    label: "HAProxy 2.6 mode tcp",
    port: PORTS.haproxyTcp,
    start: (ctx) => startHaproxy(ctx.procs, ctx.dir, ctx.proxyCpu, PORTS.haproxyTcp),
  },
  {
    key: "mosn",
    label: "mosn.ts tcp_proxy",
    port: MOSN_PORT,
    start: (ctx) => {
      const file = `${ctx.dir}/mosn-tcp.json`;
      writeJson(file, mosnConfig(ctx.dir));
      return startMosn(ctx.procs, file, ctx.proxyCpu, MOSN_ADMIN_PORT);
    },
  },
];

function sumCpu(pids: number[]): number {
  let t = 0;
  for (const pid of pids) {
    try {
      const c = readCpu(pid);
      t += c.userUs + c.kernelUs;
    } catch {
      // exited
    }
  }
  return t;
}

async function load(
  ctx: SuiteContext,
  row: Row,
  proxy: Spawned | undefined,
  path: string,
  durationSec: number,
): Promise<LoadResult> {
  const ours = [...ctx.originPids, ...(proxy ? [proxy.pid] : [])];
  const m0 = readMachineCpu();
  const self0 = readSelfAndReapedCpu();
  const ours0 = sumCpu(ours);
  const before = proxy ? readCpu(proxy.pid) : undefined;
  const t0 = performance.now();
  const wrk = await runWrk(ctx.procs, {
    url: `http://127.0.0.1:${row.port}${path}`,
    durationSec,
    cpu: ctx.loadCpu,
    name: `wrk-${row.key}`,
  });
  const wallUs = (performance.now() - t0) * 1000;
  if (proxy?.exited()) throw new Error(`${proxy.name} exited during wrk; see ${proxy.logFile}`);
  const after = proxy ? readCpu(proxy.pid) : undefined;
  const ours1 = sumCpu(ours);
  const self1 = readSelfAndReapedCpu();
  const m1 = readMachineCpu();
  const selfUs = self1.userUs + self1.kernelUs - self0.userUs - self0.kernelUs;
  const otherUs = m1.processUs - m0.processUs - selfUs - (ours1 - ours0);
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

async function measureRow(ctx: SuiteContext, row: Row, round: number): Promise<RowRound> {
  const { opts } = ctx;
  let proxy: Spawned | undefined;
  try {
    if (row.start) {
      ctx.log(`  ${row.label}: starting`);
      proxy = await row.start(ctx);
    }
    await verifyServes(row.port, row.label);
    let rssFreshKiB = NaN;
    let idle: IdleMemory | undefined;
    if (proxy) {
      await new Promise((r) => setTimeout(r, 500));
      rssFreshKiB = readRssKiB(proxy.pid);
      idle = await measureIdleMemory(proxy.pid, row.port, opts.idleConns);
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
    const small = await load(ctx, row, proxy, "/hello", opts.durationSec);
    ctx.log(
      `  ${row.label}: /hello ${fmtRps(small.wrk.rps)} rps, p99 ${fmtMs(small.wrk.p99Ms)}` +
        (proxy
          ? `, ${fmtNum(small.userUsPerReq)}/${fmtNum(small.kernelUsPerReq)} µs user/kernel` +
            ` per req, ${fmtNum(small.cpuShare * 100, 0)}% CPU`
          : ""),
    );
    const large = await load(ctx, row, proxy, "/100k.bin", opts.durationSec);
    ctx.log(
      `  ${row.label}: /100k.bin ${fmtRps(large.wrk.rps)} rps, p99 ${fmtMs(large.wrk.p99Ms)}` +
        (proxy
          ? `, ${fmtNum(large.userUsPerReq)}/${fmtNum(large.kernelUsPerReq)} µs user/kernel` +
            ` per req, ${fmtNum(large.cpuShare * 100, 0)}% CPU`
          : ""),
    );
    let idleLarge: IdleMemory | undefined;
    if (proxy) {
      // after the loads, so that it cannot disturb them: does a connection that carried a large
      // response keep large buffers while idle?
      idleLarge = await measureIdleMemory(proxy.pid, row.port, opts.idleConns, "/100k.bin");
      ctx.log(
        `  ${row.label}: ${idleLarge.opened} idle conns after one /100k.bin each → ` +
          `${fmtNum(idleLarge.kibPerConn)} KiB/conn` +
          (idleLarge.failed > 0 ? ` (${idleLarge.failed} failed: ${idleLarge.firstError})` : ""),
      );
    }
    return { row: row.key, round, rssFreshKiB, idle, idleLarge, small, large };
  } finally {
    if (proxy) await ctx.procs.kill(proxy);
  }
}

/** Medians over rounds for one row, with ratios taken within each round first. */
interface RowSummary {
  row: Row;
  rounds: number;
  rpsSmall: number;
  p99Small: number;
  rpsLarge: number;
  p99Large: number;
  smallVsDirect: number;
  largeVsDirect: number;
  smallVsHaproxy: number;
  largeVsHaproxy: number;
  p99SmallVsHaproxy: number;
  p99LargeVsHaproxy: number;
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

function summarise(rows: Row[], results: RowRound[]): RowSummary[] {
  const byRound = new Map<number, Map<RowKey, RowRound>>();
  for (const r of results) {
    if (!byRound.has(r.round)) byRound.set(r.round, new Map());
    byRound.get(r.round)!.set(r.row, r);
  }
  const ratio = (r: RowRound, other: RowKey, f: (x: RowRound) => number): number => {
    const o = byRound.get(r.round)?.get(other);
    return o ? f(r) / f(o) : NaN;
  };
  return rows.map((row) => {
    const rs = results.filter((r) => r.row === row.key);
    const m = (f: (x: RowRound) => number) => median(rs.map(f));
    return {
      row,
      rounds: rs.length,
      rpsSmall: m((r) => r.small.wrk.rps),
      p99Small: m((r) => r.small.wrk.p99Ms),
      rpsLarge: m((r) => r.large.wrk.rps),
      p99Large: m((r) => r.large.wrk.p99Ms),
      smallVsDirect: m((r) => ratio(r, "direct", (x) => x.small.wrk.rps)),
      largeVsDirect: m((r) => ratio(r, "direct", (x) => x.large.wrk.rps)),
      smallVsHaproxy: m((r) => ratio(r, "haproxy", (x) => x.small.wrk.rps)),
      largeVsHaproxy: m((r) => ratio(r, "haproxy", (x) => x.large.wrk.rps)),
      p99SmallVsHaproxy: m((r) => ratio(r, "haproxy", (x) => x.small.wrk.p99Ms)),
      p99LargeVsHaproxy: m((r) => ratio(r, "haproxy", (x) => x.large.wrk.p99Ms)),
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

function mainTable(s: RowSummary[]): string {
  return mdTable(
    [
      "row",
      "rps small",
      "p99 small",
      "rps 100k",
      "p99 100k",
      "small vs direct",
      "100k vs direct",
      "small vs HAProxy",
      "100k vs HAProxy",
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
      fmtRatio(r.smallVsDirect),
      fmtRatio(r.largeVsDirect),
      fmtRatio(r.smallVsHaproxy),
      fmtRatio(r.largeVsHaproxy),
      fmtNum(r.userSmall),
      fmtNum(r.kernelSmall),
      fmtMiB(r.rssFreshKiB),
      fmtNum(r.kibPerIdleConn),
    ]),
  );
}

function detailTable(s: RowSummary[]): string {
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
const NOISE = 0.15;

/** "**met**" / "**not met**", flagged when the deciding ratio is within the noise of the goal. */
function verdict(ok: boolean | undefined, deciding?: number, goal = 1): string {
  if (ok === undefined) return "not measured";
  const close = deciding !== undefined && Number.isFinite(deciding) &&
    Math.abs(deciding / goal - 1) < NOISE;
  return (ok ? "**met**" : "**not met**") +
    (close ? ` (within the ~${NOISE * 100}% noise of this machine)` : "");
}

function goals(s: RowSummary[]): string {
  const m = s.find((r) => r.row.key === "mosn");
  const h = s.find((r) => r.row.key === "haproxy");
  if (!m || !h) return "Goals not evaluated: the run did not include both HAProxy and mosn.ts.";
  const { rpsVsHaproxy: rpsGoal, p99VsHaproxy: p99Goal, kibPerIdleConn: kibGoal } = GOALS;
  const rpsWorst = Math.min(m.smallVsHaproxy, m.largeVsHaproxy);
  const p99Worst = Math.max(m.p99SmallVsHaproxy, m.p99LargeVsHaproxy);
  const memOk = Number.isFinite(m.kibPerIdleConn) ? m.kibPerIdleConn <= kibGoal : undefined;
  const intro = `Goals (from the issue): mosn.ts \`tcp_proxy\` reaches at least ` +
    `${rpsGoal.toFixed(1)}× HAProxy's requests/s with a p99 latency no worse than ${p99Goal}× ` +
    `HAProxy's, and holds at most ${kibGoal} KiB of RSS per idle proxied connection.`;
  const rps = `- Throughput ≥ ${rpsGoal.toFixed(1)}× HAProxy: ` +
    `${verdict(rpsWorst >= rpsGoal, rpsWorst, rpsGoal)} — ` +
    `${fmtRatio(m.smallVsHaproxy)} on /hello, ${fmtRatio(m.largeVsHaproxy)} on /100k.bin.`;
  const p99 = `- p99 ≤ ${p99Goal}× HAProxy: ${verdict(p99Worst <= p99Goal, p99Worst, p99Goal)} — ` +
    `${fmtRatio(m.p99SmallVsHaproxy)} on /hello (${fmtMs(m.p99Small)} vs ` +
    `${fmtMs(h.p99Small)}), ${fmtRatio(m.p99LargeVsHaproxy)} on /100k.bin ` +
    `(${fmtMs(m.p99Large)} vs ${fmtMs(h.p99Large)}).`;
  const mem = `- ≤ ${kibGoal} KiB per idle proxied connection: ` +
    `${verdict(memOk)} — ${fmtNum(m.kibPerIdleConn)} KiB ` +
    `(HAProxy ${fmtNum(h.kibPerIdleConn)} KiB).`;
  const large = `Not part of the goal's method, but the same budget arguably applies: an idle ` +
    `connection whose last request fetched /100k.bin holds ${fmtNum(m.kibPerIdleConnLarge)} KiB ` +
    `in mosn.ts (HAProxy ${fmtNum(h.kibPerIdleConnLarge)} KiB; measured after the loads, so ` +
    `HAProxy's pools are warm, and it keeps no buffer on an idle connection).`;
  return [intro, "", rps, p99, mem, "", large].join("\n");
}

export const tcpSuite: Suite = {
  name: "tcp",
  heading: "TCP proxy (tcp_proxy vs HAProxy mode tcp)",
  tools: { wrk: "wrk", haproxy: "haproxy", nginx: "nginx-light", taskset: "util-linux" },
  ports: [
    PORTS.origin,
    PORTS.originH2c,
    PORTS.haproxyHttp,
    PORTS.haproxyTcp,
    PORTS.haproxyH2,
    PORTS.haproxyH2H1,
    MOSN_PORT,
    MOSN_ADMIN_PORT,
  ],
  async run(ctx: SuiteContext): Promise<SuiteReport> {
    const rows = ctx.opts.rows.length > 0
      ? ROWS.filter((r) => ctx.opts.rows.includes(r.key))
      : ROWS;
    if (rows.length === 0) throw new Error(`no rows match ${ctx.opts.rows.join(",")}`);
    const results: RowRound[] = [];
    for (let round = 1; round <= ctx.opts.rounds; round++) {
      ctx.log(`round ${round}/${ctx.opts.rounds}`);
      for (const row of rows) results.push(await measureRow(ctx, row, round));
    }
    const s = summarise(rows, results);
    const table = mainTable(s);
    const details = detailTable(s);
    const section = [
      `HTTP/1.1 keep-alive through an L4 proxy: wrk → proxy → nginx origin. "small" is \`/hello\` ` +
      `(5-byte body), "100k" is \`/100k.bin\` (100 KiB); rps and p99 from \`wrk -t1 -c50 ` +
      `-d${ctx.opts.durationSec}s --latency\`; CPU per request is the proxy's user and kernel time ` +
      `on /hello; RSS fresh is the proxy's resident memory before any traffic; KiB per idle conn ` +
      `is the RSS growth with ${ctx.opts.idleConns} idle keep-alive connections, divided by ` +
      `${ctx.opts.idleConns}. Medians over ${ctx.opts.rounds} round(s).`,
      "",
      table,
      "",
      "Details (medians; proxy CPU is the share of one core used during the wrk run; KiB per idle " +
      "conn after 100k is the same memory measurement with connections that each fetched " +
      "/100k.bin, taken after the loads; other work is CPU used by processes outside the " +
      "benchmark during a run, the largest over rounds and loads — above ~0.1 cores the machine " +
      "was not quiet):",
      "",
      details,
      "",
      goals(s),
    ].join("\n");
    return {
      console: `${table}\n\n${details}\n\n${goals(s)}`,
      section,
      raw: { summary: s.map((x) => ({ ...x, row: x.row.key })), results },
    };
  },
};
