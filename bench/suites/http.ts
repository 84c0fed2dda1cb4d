/**
 * HTTP proxy suite: wrk → origin directly, through HAProxy `mode http` (reference config,
 * nbthread 1, keep-alive to the backend), through nginx as reverse proxy (reference config,
 * worker_processes 1, upstream keep-alive) and through mosn.ts with the `proxy` network filter
 * (HTTP/1.1, one route to the origin cluster). Goals (from the issue): on small responses mosn.ts
 * reaches ≥ 1.0× HAProxy's requests/s with p99 ≤ 1.5× HAProxy's; on 100 KiB responses it reaches
 * ≥ 1.0× nginx's requests/s.
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
import { mosnProxyConfig } from "../lib/mosn_config.ts";
import { PORTS, startHaproxy, startMosn, startNginxProxy, writeJson } from "../lib/servers.ts";
import { fmtMs, fmtNum, fmtRatio } from "../lib/stats.ts";
import type { Suite, SuiteContext, SuiteReport } from "../lib/suite.ts";

const MOSN_PORT = 29086;
const MOSN_ADMIN_PORT = 29096;

/** Goals from the issue. */
export const GOALS = { smallRpsVsHaproxy: 1.0, smallP99VsHaproxy: 1.5, largeRpsVsNginx: 1.0 };

const ROWS: Row[] = [
  { key: "direct", label: "direct (wrk → nginx)", port: PORTS.origin },
  {
    key: "haproxy",
    label: "HAProxy 2.6 mode http",
    port: PORTS.haproxyHttp,
    start: (ctx) => startHaproxy(ctx.procs, ctx.dir, ctx.proxyCpu, PORTS.haproxyHttp),
  },
  {
    key: "nginx",
    label: "nginx reverse proxy",
    port: PORTS.nginxProxy,
    start: (ctx) => startNginxProxy(ctx.procs, ctx.dir, ctx.proxyCpu),
  },
  {
    key: "mosn",
    label: "mosn.ts proxy (HTTP/1.1)",
    port: MOSN_PORT,
    start: (ctx) => {
      const file = `${ctx.dir}/mosn-http.json`;
      writeJson(
        file,
        mosnProxyConfig({
          listener: "h",
          port: MOSN_PORT,
          downstream: "Http1",
          originPort: PORTS.origin,
          adminPort: MOSN_ADMIN_PORT,
        }),
      );
      return startMosn(ctx.procs, file, ctx.proxyCpu, MOSN_ADMIN_PORT);
    },
  },
];

/** `ok` as a verdict, "not measured" when the deciding ratio is missing. */
function judge(ratio: number, goal: number, atLeast: boolean): string {
  if (!Number.isFinite(ratio)) return verdict(undefined);
  return verdict(atLeast ? ratio >= goal : ratio <= goal, ratio, goal);
}

function goals(s: RowSummary[]): string {
  const m = s.find((r) => r.row.key === "mosn");
  const h = s.find((r) => r.row.key === "haproxy");
  const n = s.find((r) => r.row.key === "nginx");
  if (!m || (!h && !n)) {
    return "Goals not evaluated: the run did not include mosn.ts and HAProxy or nginx.";
  }
  const { smallRpsVsHaproxy: rpsGoal, smallP99VsHaproxy: p99Goal, largeRpsVsNginx: bigGoal } =
    GOALS;
  const mh = vs(m, "haproxy");
  const mn = vs(m, "nginx");
  const intro = `Goals (from the issue): on small responses (/hello) mosn.ts reaches at least ` +
    `${rpsGoal.toFixed(1)}× HAProxy's requests/s with a p99 latency no worse than ${p99Goal}× ` +
    `HAProxy's; on 100 KiB responses (/100k.bin) it reaches at least ${bigGoal.toFixed(1)}× ` +
    `nginx's requests/s.`;
  const lines = [intro, ""];
  if (h) {
    lines.push(
      `- /hello throughput ≥ ${rpsGoal.toFixed(1)}× HAProxy: ` +
        `${judge(mh.small, rpsGoal, true)} — ${fmtRatio(mh.small)}.`,
      `- /hello p99 ≤ ${p99Goal}× HAProxy: ${judge(mh.p99Small, p99Goal, false)} — ` +
        `${fmtRatio(mh.p99Small)} (${fmtMs(m.p99Small)} vs ${fmtMs(h.p99Small)}).`,
    );
  } else lines.push("- /hello against HAProxy: not measured (HAProxy row not run).");
  if (n) {
    lines.push(
      `- /100k.bin throughput ≥ ${bigGoal.toFixed(1)}× nginx: ` +
        `${judge(mn.large, bigGoal, true)} — ${fmtRatio(mn.large)}.`,
    );
  } else lines.push("- /100k.bin against nginx: not measured (nginx row not run).");
  const met = [
    h ? Number.isFinite(mh.small) && mh.small >= rpsGoal : undefined,
    h ? Number.isFinite(mh.p99Small) && mh.p99Small <= p99Goal : undefined,
    n ? Number.isFinite(mn.large) && mn.large >= bigGoal : undefined,
  ];
  const measured = met.filter((x) => x !== undefined);
  const count = measured.filter((x) => x).length;
  lines.push(
    "",
    `In short: ${count} of ${measured.length} goal(s) met` +
      (measured.length < 3 ? ` (${3 - measured.length} not measured)` : "") + ".",
  );
  const other: string[] = [];
  if (h) {
    other.push(
      `/100k.bin vs HAProxy ${fmtRatio(mh.large)} (p99 ${fmtRatio(mh.p99Large)})`,
    );
  }
  if (n) other.push(`/hello vs nginx ${fmtRatio(mn.small)} (p99 ${fmtRatio(mn.p99Small)})`);
  if (other.length > 0) lines.push(`Outside the goals: mosn.ts ${other.join("; ")}.`);
  const idle = [h, n].filter((x): x is RowSummary => x !== undefined)
    .map((x) => `${x.row.key === "haproxy" ? "HAProxy" : "nginx"} ${fmtNum(x.kibPerIdleConn)}`);
  lines.push(
    `Memory per idle proxied keep-alive connection: mosn.ts ${fmtNum(m.kibPerIdleConn)} KiB ` +
      `(${idle.join(", ")} KiB; no goal set for this suite).`,
  );
  const noisy = s.filter((x) => x.otherCoresMax > 0.1).map((x) => x.row.label);
  if (noisy.length > 0) {
    lines.push(
      `Caution: other work used more than 0.1 cores during some loads of ${noisy.join(", ")} ` +
        `(see "other work" above); those figures, and verdicts that depend on them, are less ` +
        `reliable.`,
    );
  }
  return lines.join("\n");
}

export const httpSuite: Suite = {
  name: "http",
  heading: "HTTP proxy (proxy vs HAProxy mode http and nginx)",
  tools: { wrk: "wrk", haproxy: "haproxy", nginx: "nginx-light", taskset: "util-linux" },
  ports: [
    PORTS.origin,
    PORTS.originH2c,
    PORTS.haproxyHttp,
    PORTS.haproxyTcp,
    PORTS.haproxyH2,
    PORTS.haproxyH2H1,
    PORTS.nginxProxy,
    MOSN_PORT,
    MOSN_ADMIN_PORT,
  ],
  async run(ctx: SuiteContext): Promise<SuiteReport> {
    const [rows, results] = await runRounds(ctx, ROWS);
    const s = summarise(rows, results);
    const table = mainTable(s, { direct: "direct", haproxy: "HAProxy", nginx: "nginx" });
    const details = detailTable(s);
    const summary = goals(s);
    const section = [
      `HTTP/1.1 keep-alive through an L7 proxy: wrk → proxy → nginx origin, the proxy parsing ` +
      `every request and response and keeping its own connections to the origin. "small" is ` +
      `\`/hello\` (5-byte body), "100k" is \`/100k.bin\` (100 KiB); rps and p99 from \`wrk -t1 ` +
      `-c50 -d${ctx.opts.durationSec}s --latency\`; CPU per request is the proxy's user and ` +
      `kernel time on /hello; RSS fresh is the proxy's resident memory before any traffic; KiB ` +
      `per idle conn is the RSS growth with ${ctx.opts.idleConns} idle keep-alive connections, ` +
      `divided by ${ctx.opts.idleConns}. nginx's CPU and RSS are those of its master and its one ` +
      `worker together. mosn.ts runs \`src/main.ts start\` as \`./deno task start\` does, with a ` +
      `generated config (one \`proxy\` listener with \`downstream_protocol: Http1\`, one route ` +
      `\`prefix: /\` to a SIMPLE cluster holding the origin, logging at ERROR). Medians over ` +
      `${ctx.opts.rounds} round(s).`,
      "",
      table,
      "",
      DETAILS_CAPTION,
      "",
      details,
      "",
      summary,
    ].join("\n");
    return {
      console: `${table}\n\n${details}\n\n${summary}`,
      section,
      raw: { summary: rawSummary(s), results },
    };
  },
};
