/**
 * HTTP/2 suite: `h2load -t1 -c16 -m10` (h2c prior knowledge) → the nginx origin's h2c port
 * directly, through HAProxy (reference config: h2 front, h2 back, nbthread 1), through nginx
 * (h2c front, HTTP/1.1 keep-alive back: nginx cannot proxy to an h2 upstream) and through mosn.ts
 * (`proxy` with `downstream_protocol: Http2`, upstream h2c; and a second row with an HTTP/1.1
 * upstream). Load and origin on cpu0, the proxy on cpu1; a fresh proxy per row and round.
 * Goal (from the issue): mosn.ts h2→h2 reaches ≥ 0.7× HAProxy's requests/s with p99 ≤ 2×.
 */

import { descendants, runQuiet } from "../lib/proc.ts";
import type { Spawned } from "../lib/proc.ts";
import { mosnProxyConfig } from "../lib/mosn_config.ts";
import { type H2Load, h2load } from "../lib/h2load.ts";
import { PORTS, startHaproxy, startMosn, startNginx, writeJson } from "../lib/servers.ts";
import { fmtMs, fmtNum, fmtRatio, fmtRps, mdTable, median } from "../lib/stats.ts";
import { inRounds, selectRows } from "../lib/suite.ts";
import type { Suite, SuiteContext, SuiteReport } from "../lib/suite.ts";

const NGINX_H2_PORT = 29084;
const MOSN_PORT = 29088;
const MOSN_H1_PORT = 29089;
const MOSN_ADMIN_PORT = 29098;

export const GOALS = { rpsVsHaproxy: 0.7, p99VsHaproxy: 2.0 } as const;

interface H2Row {
  key: string;
  label: string;
  port: number;
  start?: (ctx: SuiteContext) => Promise<Spawned>;
}

interface Result {
  row: string;
  round: number;
  small: H2Load;
  large: H2Load;
}

/** nginx 1.22: h2c front, HTTP/1.1 keep-alive to the origin (as the reference reverse proxy). */
function nginxH2Config(dir: string): string {
  return `daemon off;
master_process on;
worker_processes 1;
worker_rlimit_nofile 20000;
pid ${dir}/logs/nginx-h2.pid;
error_log ${dir}/logs/nginx-h2.err warn;
events { worker_connections 8192; use epoll; multi_accept on; }
http {
  access_log off;
  tcp_nodelay on;
  keepalive_timeout 600s; keepalive_requests 10000000;
  http2_max_concurrent_streams 256;
  upstream be { server 127.0.0.1:${PORTS.origin}; keepalive 256; keepalive_requests 10000000; }
  server {
    listen 127.0.0.1:${NGINX_H2_PORT} http2 backlog=4096;
    location / {
      proxy_pass http://be;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffers 16 16k; proxy_buffer_size 16k;
    }
  }
}
`;
}

async function startMosnRow(ctx: SuiteContext, port: number, up: "Http1" | "Http2") {
  const file = `${ctx.dir}/mosn-h2-${up}.json`;
  writeJson(
    file,
    mosnProxyConfig({
      listener: "h2",
      port,
      downstream: "Http2",
      upstream: up,
      originPort: up === "Http2" ? PORTS.originH2c : PORTS.origin,
      adminPort: MOSN_ADMIN_PORT,
    }),
  );
  return await startMosn(ctx.procs, file, ctx.proxyCpu, MOSN_ADMIN_PORT);
}

const ROWS: H2Row[] = [
  { key: "direct", label: "direct (h2load → nginx h2c)", port: PORTS.originH2c },
  {
    key: "haproxy",
    label: "HAProxy 2.6 h2 → h2",
    port: PORTS.haproxyH2,
    start: (ctx) => startHaproxy(ctx.procs, ctx.dir, ctx.proxyCpu, PORTS.haproxyH2),
  },
  {
    key: "nginx",
    label: "nginx h2c → HTTP/1.1",
    port: NGINX_H2_PORT,
    start: (ctx) => {
      Deno.writeTextFileSync(`${ctx.dir}/nginx-h2.conf`, nginxH2Config(ctx.dir));
      return startNginx(ctx.procs, ctx.dir, ctx.proxyCpu, "nginx-h2", NGINX_H2_PORT, "nginx h2c");
    },
  },
  {
    key: "mosn",
    label: "mosn.ts h2c → h2c",
    port: MOSN_PORT,
    start: (ctx) => startMosnRow(ctx, MOSN_PORT, "Http2"),
  },
  {
    key: "mosn_h1",
    label: "mosn.ts h2c → HTTP/1.1",
    port: MOSN_H1_PORT,
    start: (ctx) => startMosnRow(ctx, MOSN_H1_PORT, "Http1"),
  },
];

async function measure(ctx: SuiteContext, row: H2Row, round: number): Promise<Result> {
  let proxy: Spawned | undefined;
  try {
    if (row.start) {
      ctx.log(`  ${row.label}: starting`);
      proxy = await row.start(ctx);
    }
    const check = await runQuiet("curl", [
      "-sS",
      "--http2-prior-knowledge",
      `http://127.0.0.1:${row.port}/hello`,
    ]);
    if (check.stdout !== "hello") throw new Error(`${row.label} does not serve /hello over h2c`);
    const pids = proxy ? [proxy.pid, ...descendants(proxy.pid)] : [];
    const url = (path: string) => `http://127.0.0.1:${row.port}${path}`;
    const log = `${ctx.dir}/logs/h2load-${row.port}.tsv`;
    const { loadCpu, opts } = ctx;
    if (opts.warmupSec > 0) await h2load(loadCpu, url("/hello"), opts.warmupSec, [], log);
    const small = await h2load(loadCpu, url("/hello"), opts.durationSec, pids, log);
    ctx.log(
      `  ${row.label}: /hello ${fmtRps(small.rps)} rps, p99 ${fmtMs(small.p99Ms)}` +
        (proxy ? `, ${fmtNum(small.userUsPerReq)}/${fmtNum(small.kernelUsPerReq)} µs` : ""),
    );
    const large = await h2load(loadCpu, url("/100k.bin"), opts.durationSec, pids, log);
    ctx.log(`  ${row.label}: /100k.bin ${fmtRps(large.rps)} rps, p99 ${fmtMs(large.p99Ms)}`);
    return { row: row.key, round, small, large };
  } finally {
    if (proxy) await ctx.procs.kill(proxy);
  }
}

interface Summary {
  row: H2Row;
  small: number;
  p99Small: number;
  large: number;
  p99Large: number;
  user: number;
  kernel: number;
  failed: number;
}

function summarise(rows: H2Row[], results: Result[]): Summary[] {
  return rows.map((row) => {
    const rs = results.filter((r) => r.row === row.key);
    const med = (f: (r: Result) => number) => median(rs.map(f));
    return {
      row,
      small: med((r) => r.small.rps),
      p99Small: med((r) => r.small.p99Ms),
      large: med((r) => r.large.rps),
      p99Large: med((r) => r.large.p99Ms),
      user: med((r) => r.small.userUsPerReq),
      kernel: med((r) => r.small.kernelUsPerReq),
      failed: rs.reduce((n, r) => n + r.small.failed + r.large.failed, 0),
    };
  });
}

function table(s: Summary[]): string {
  const h = s.find((x) => x.row.key === "haproxy");
  const ratio = (a: number, b: number | undefined) => b ? fmtRatio(a / b) : "—";
  return mdTable(
    [
      "",
      "rps /hello",
      "vs HAProxy",
      "p99 /hello",
      "rps 100k",
      "vs HAProxy",
      "p99 100k",
      "µs user/kernel per req",
      "failed",
    ],
    s.map((x) => [
      x.row.label,
      fmtRps(x.small),
      ratio(x.small, h?.small),
      fmtMs(x.p99Small),
      fmtRps(x.large),
      ratio(x.large, h?.large),
      fmtMs(x.p99Large),
      Number.isFinite(x.user) ? `${fmtNum(x.user)} / ${fmtNum(x.kernel)}` : "—",
      String(x.failed),
    ]),
    ["l", "r", "r", "r", "r", "r", "r", "r", "r"],
  );
}

function goals(s: Summary[]): string {
  const m = s.find((x) => x.row.key === "mosn");
  const h = s.find((x) => x.row.key === "haproxy");
  if (!m || !h) return "Goals not evaluated: the run did not include mosn.ts and HAProxy.";
  const r = m.small / h.small;
  const p = m.p99Small / h.p99Small;
  return [
    `Goals (from the issue): mosn.ts h2c → h2c reaches at least ${GOALS.rpsVsHaproxy}× ` +
    `HAProxy's h2 requests/s with a p99 no worse than ${GOALS.p99VsHaproxy}× HAProxy's.`,
    "",
    `- /hello throughput: ${r >= GOALS.rpsVsHaproxy ? "met" : "not met"} — ${fmtRatio(r)}.`,
    `- /hello p99: ${p <= GOALS.p99VsHaproxy ? "met" : "not met"} — ${fmtRatio(p)} ` +
    `(${fmtMs(m.p99Small)} vs ${fmtMs(h.p99Small)}).`,
  ].join("\n");
}

export const h2Suite: Suite = {
  name: "h2",
  heading: "HTTP/2 proxy (h2c; proxy vs HAProxy h2 and nginx)",
  tools: { h2load: "nghttp2-client", curl: "curl", haproxy: "haproxy", nginx: "nginx-light" },
  loadTool: "h2load",
  ports: [
    PORTS.origin,
    PORTS.originH2c,
    PORTS.haproxyHttp,
    PORTS.haproxyTcp,
    PORTS.haproxyH2,
    PORTS.haproxyH2H1,
    NGINX_H2_PORT,
    MOSN_PORT,
    MOSN_H1_PORT,
    MOSN_ADMIN_PORT,
  ],
  async run(ctx: SuiteContext): Promise<SuiteReport> {
    const rows = selectRows(ctx, ROWS);
    const results = await inRounds(ctx, rows, (row, round) => measure(ctx, row, round));
    const s = summarise(rows, results);
    const t = table(s);
    const g = goals(s);
    const section = [
      `HTTP/2 cleartext (prior knowledge) through an L7 proxy: \`h2load -t1 -c16 -m10 ` +
      `-D ${ctx.opts.durationSec}\` (16 connections, 10 streams each) → proxy → nginx origin. ` +
      `"/hello" is a 5-byte body, "100k" \`/100k.bin\`; p99 from h2load's per-request log; CPU ` +
      `per request is the proxy's on /hello. HAProxy and mosn.ts (first row) speak h2c to the ` +
      `origin's h2c port over one multiplexed connection; nginx (it cannot proxy to h2) and ` +
      `mosn.ts's second row speak HTTP/1.1 keep-alive to the origin. Medians over ` +
      `${ctx.opts.rounds} round(s).`,
      "",
      t,
      "",
      g,
    ].join("\n");
    return { console: `${t}\n\n${g}`, section, raw: { results } };
  },
};
