/**
 * TCP proxy suite: wrk → origin directly, through HAProxy `mode tcp` (reference config, nbthread
 * 1) and through mosn.ts `tcp_proxy`, HTTP/1.1 keep-alive on top. Goals (from the issue): mosn.ts
 * reaches ≥ 1.0× HAProxy's requests/s with p99 ≤ 1.5× HAProxy's, and holds ≤ 24 KiB of RSS per
 * idle proxied connection.
 */

import {
  DETAILS_CAPTION,
  detailTable,
  mainTable,
  rawSummary,
  runRounds,
  summarise,
  verdict,
  vs,
} from "../lib/measure.ts";
import type { Row, RowSummary } from "../lib/measure.ts";
import { PORTS, startHaproxy, startMosn, writeJson } from "../lib/servers.ts";
import { fmtMs, fmtNum, fmtRatio } from "../lib/stats.ts";
import type { Suite, SuiteContext, SuiteReport } from "../lib/suite.ts";

const MOSN_PORT = 29085;
const MOSN_ADMIN_PORT = 29095;

/** Goals from the issue. */
export const GOALS = { rpsVsHaproxy: 1.0, p99VsHaproxy: 1.5, kibPerIdleConn: 24 } as const;

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

function goals(s: RowSummary[]): string {
  const m = s.find((r) => r.row.key === "mosn");
  const h = s.find((r) => r.row.key === "haproxy");
  if (!m || !h) return "Goals not evaluated: the run did not include both HAProxy and mosn.ts.";
  const { rpsVsHaproxy: rpsGoal, p99VsHaproxy: p99Goal, kibPerIdleConn: kibGoal } = GOALS;
  const mh = vs(m, "haproxy");
  const rpsWorst = Math.min(mh.small, mh.large);
  const p99Worst = Math.max(mh.p99Small, mh.p99Large);
  const memOk = Number.isFinite(m.kibPerIdleConn) ? m.kibPerIdleConn <= kibGoal : undefined;
  const intro = `Goals (from the issue): mosn.ts \`tcp_proxy\` reaches at least ` +
    `${rpsGoal.toFixed(1)}× HAProxy's requests/s with a p99 latency no worse than ${p99Goal}× ` +
    `HAProxy's, and holds at most ${kibGoal} KiB of RSS per idle proxied connection.`;
  const rps = `- Throughput ≥ ${rpsGoal.toFixed(1)}× HAProxy: ` +
    `${verdict(rpsWorst >= rpsGoal, rpsWorst, rpsGoal)} — ` +
    `${fmtRatio(mh.small)} on /hello, ${fmtRatio(mh.large)} on /100k.bin.`;
  const p99 = `- p99 ≤ ${p99Goal}× HAProxy: ${verdict(p99Worst <= p99Goal, p99Worst, p99Goal)} — ` +
    `${fmtRatio(mh.p99Small)} on /hello (${fmtMs(m.p99Small)} vs ` +
    `${fmtMs(h.p99Small)}), ${fmtRatio(mh.p99Large)} on /100k.bin ` +
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
    const [rows, results] = await runRounds(ctx, ROWS);
    const s = summarise(rows, results);
    const table = mainTable(s, { direct: "direct", haproxy: "HAProxy" });
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
      DETAILS_CAPTION,
      "",
      details,
      "",
      goals(s),
    ].join("\n");
    return {
      console: `${table}\n\n${details}\n\n${goals(s)}`,
      section,
      raw: { summary: rawSummary(s), results },
    };
  },
};
