/**
 * HTTP/2 over TLS suite: `h2load -t1 -c16 -m10` over TLS (ALPN h2, TLS 1.3, ECDSA P-256
 * certificate from tests/fixtures/tls) against an nginx TLS h2 server (no proxy), HAProxy
 * (`bind … ssl crt … alpn h2,http/1.1`, h2c to the origin), nginx (`listen … ssl http2`, HTTP/1.1
 * keep-alive to the origin) and mosn.ts (a TLS listener with `downstream_protocol: Http2`, ALPN by
 * default; h2c and HTTP/1.1 upstreams); then full TLS handshakes per second (two `openssl s_time
 * -new` clients) on each. Load and origin on cpu0, the server under test on cpu1, a fresh process
 * per row and round, no session resumption anywhere.
 * Goals (from the issue): ≥ 0.7× HAProxy's h2 rps and handshake rate, p99 ≤ 2× HAProxy's.
 */

import { descendants, portOpen, runQuiet, waitFor } from "../lib/proc.ts";
import type { Spawned } from "../lib/proc.ts";
import { mosnProxyConfig } from "../lib/mosn_config.ts";
import { type H2Load, h2load, handshakeRate, type Handshakes } from "../lib/h2load.ts";
import { PORTS, REPO_ROOT, startMosn, startNginx, writeJson } from "../lib/servers.ts";
import { fmtMs, fmtNum, fmtRatio, fmtRps, mdTable, median } from "../lib/stats.ts";
import { inRounds, selectRows } from "../lib/suite.ts";
import type { Suite, SuiteContext, SuiteReport } from "../lib/suite.ts";

const DIRECT_PORT = 29450;
const HAPROXY_PORT = 29451;
const NGINX_PORT = 29452;
const MOSN_PORT = 29453;
const MOSN_H1_PORT = 29454;
const MOSN_ADMIN_PORT = 29459;
const FIXTURES = `${REPO_ROOT}/tests/fixtures/tls`;
const HANDSHAKE_SECONDS = 5;

export const GOALS = { rpsVsHaproxy: 0.7, p99VsHaproxy: 2.0, handshakesVsHaproxy: 0.7 } as const;

interface Row {
  key: string;
  label: string;
  port: number;
  start(ctx: SuiteContext): Promise<Spawned>;
}

interface Result {
  row: string;
  round: number;
  load: H2Load;
  hs: Handshakes;
}

const NGINX_COMMON = `daemon off;
master_process on;
worker_processes 1;
worker_rlimit_nofile 20000;
events { worker_connections 8192; use epoll; multi_accept on; }`;

function nginxTls(dir: string, name: string, port: number, body: string): string {
  return `${NGINX_COMMON}
pid ${dir}/logs/${name}.pid;
error_log ${dir}/logs/${name}.err warn;
http {
  access_log off;
  tcp_nodelay on;
  keepalive_timeout 600s; keepalive_requests 10000000;
  http2_max_concurrent_streams 256;
  ssl_session_cache off; ssl_session_tickets off;
  ${body}
  server {
    listen 127.0.0.1:${port} ssl http2 backlog=4096;
    ssl_certificate ${FIXTURES}/a.pem; ssl_certificate_key ${FIXTURES}/a.key;
    location = /hello { default_type text/plain; return 200 "hello"; }
    location / { LOCATION }
  }
}
`;
}

function haproxyTls(dir: string): string {
  return `global
  nbthread 1
  noreuseport
  maxconn 8000
  tune.bufsize 16384
  tune.ssl.cachesize 0
  log stderr format raw local0 err
defaults
  mode http
  timeout connect 5s
  timeout client 600s
  timeout server 600s
  timeout http-keep-alive 600s
  maxconn 8000
frontend fe_h2tls
  bind 127.0.0.1:${HAPROXY_PORT} ssl crt ${dir}/haproxy.pem alpn h2,http/1.1 no-tls-tickets
  default_backend be_h2
backend be_h2
  http-reuse always
  server s1 127.0.0.1:${PORTS.originH2c} proto h2
`;
}

function startNginxRow(ctx: SuiteContext, name: string, port: number, conf: string) {
  Deno.writeTextFileSync(`${ctx.dir}/${name}.conf`, conf);
  return startNginx(ctx.procs, ctx.dir, ctx.proxyCpu, name, port);
}

async function startMosnRow(ctx: SuiteContext, port: number, up: "Http1" | "Http2") {
  const file = `${ctx.dir}/mosn-h2tls-${up}.json`;
  writeJson(
    file,
    mosnProxyConfig({
      listener: "h2tls",
      port,
      downstream: "Http2",
      upstream: up,
      originPort: up === "Http2" ? PORTS.originH2c : PORTS.origin,
      adminPort: MOSN_ADMIN_PORT,
      // No `alpn`: an Http2 proxy offers h2 and http/1.1 by default.
      tlsContext: {
        status: true,
        cert_chain: `${FIXTURES}/a.pem`,
        private_key: `${FIXTURES}/a.key`,
      },
    }),
  );
  return await startMosn(ctx.procs, file, ctx.proxyCpu, MOSN_ADMIN_PORT);
}

const ROWS: Row[] = [
  {
    key: "direct",
    label: "nginx TLS h2 server (no proxy)",
    port: DIRECT_PORT,
    start: (ctx) =>
      startNginxRow(
        ctx,
        "nginx-h2tls-direct",
        DIRECT_PORT,
        nginxTls(ctx.dir, "nginx-h2tls-direct", DIRECT_PORT, `root ${ctx.dir}/www;`)
          .replace("LOCATION", ""),
      ),
  },
  {
    key: "haproxy",
    label: "HAProxy 2.6 h2 (TLS) → h2c",
    port: HAPROXY_PORT,
    start: async (ctx) => {
      const pemFile = `${ctx.dir}/haproxy.pem`;
      Deno.writeTextFileSync(
        pemFile,
        Deno.readTextFileSync(`${FIXTURES}/a.pem`) + Deno.readTextFileSync(`${FIXTURES}/a.key`),
      );
      Deno.writeTextFileSync(`${ctx.dir}/haproxy-h2tls.cfg`, haproxyTls(ctx.dir));
      const p = ctx.procs.spawn("haproxy-h2tls", "haproxy", [
        "-db",
        "-f",
        `${ctx.dir}/haproxy-h2tls.cfg`,
      ], { cpu: ctx.proxyCpu });
      await waitFor(`HAProxy on :${HAPROXY_PORT}`, () => portOpen(HAPROXY_PORT), p, 10_000);
      return p;
    },
  },
  {
    key: "nginx",
    label: "nginx h2 (TLS) → HTTP/1.1",
    port: NGINX_PORT,
    start: (ctx) =>
      startNginxRow(
        ctx,
        "nginx-h2tls-proxy",
        NGINX_PORT,
        nginxTls(
          ctx.dir,
          "nginx-h2tls-proxy",
          NGINX_PORT,
          `upstream be { server 127.0.0.1:${PORTS.origin}; keepalive 256; ` +
            `keepalive_requests 10000000; }`,
        ).replace(
          "LOCATION",
          `proxy_pass http://be; proxy_http_version 1.1; proxy_set_header Connection "";`,
        ),
      ),
  },
  {
    key: "mosn",
    label: "mosn.ts h2 (TLS) → h2c",
    port: MOSN_PORT,
    start: (ctx) => startMosnRow(ctx, MOSN_PORT, "Http2"),
  },
  {
    key: "mosn_h1",
    label: "mosn.ts h2 (TLS) → HTTP/1.1",
    port: MOSN_H1_PORT,
    start: (ctx) => startMosnRow(ctx, MOSN_H1_PORT, "Http1"),
  },
];

async function measure(ctx: SuiteContext, row: Row, round: number): Promise<Result> {
  ctx.log(`  ${row.label}: starting`);
  const proxy = await row.start(ctx);
  try {
    const url = `https://127.0.0.1:${row.port}/hello`;
    const check = await runQuiet("curl", ["-sSk", "--http2", "-w", " %{http_version}", url]);
    if (check.stdout !== "hello 2") {
      throw new Error(`${row.label} does not serve /hello over h2 (TLS): ${check.stdout}`);
    }
    const pids = [proxy.pid, ...descendants(proxy.pid)];
    const log = `${ctx.dir}/logs/h2load-${row.port}.tsv`;
    if (ctx.opts.warmupSec > 0) await h2load(ctx.loadCpu, url, ctx.opts.warmupSec, [], log);
    const load = await h2load(ctx.loadCpu, url, ctx.opts.durationSec, pids, log);
    const hs = await handshakeRate(ctx.loadCpu, row.port, HANDSHAKE_SECONDS, pids);
    ctx.log(
      `  ${row.label}: ${fmtRps(load.rps)} rps, p99 ${fmtMs(load.p99Ms)}, ` +
        `${fmtNum(load.userUsPerReq)}/${fmtNum(load.kernelUsPerReq)} µs per request; ` +
        `${fmtNum(hs.perSec, 0)} handshakes/s, ${fmtNum(hs.cpuUs, 0)} µs per handshake`,
    );
    return { row: row.key, round, load, hs };
  } finally {
    await ctx.procs.kill(proxy);
  }
}

interface Summary {
  row: Row;
  rps: number;
  p99: number;
  user: number;
  kernel: number;
  hs: number;
  hsUs: number;
  failed: number;
}

function summarise(rows: Row[], results: Result[]): Summary[] {
  return rows.map((row) => {
    const rs = results.filter((r) => r.row === row.key);
    const med = (f: (r: Result) => number) => median(rs.map(f));
    return {
      row,
      rps: med((r) => r.load.rps),
      p99: med((r) => r.load.p99Ms),
      user: med((r) => r.load.userUsPerReq),
      kernel: med((r) => r.load.kernelUsPerReq),
      hs: med((r) => r.hs.perSec),
      hsUs: med((r) => r.hs.cpuUs),
      failed: rs.reduce((n, r) => n + r.load.failed, 0),
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
      "p99",
      "µs user/kernel per req",
      "handshakes/s",
      "vs HAProxy",
      "µs CPU per handshake",
      "failed",
    ],
    s.map((x) => [
      x.row.label,
      fmtRps(x.rps),
      ratio(x.rps, h?.rps),
      fmtMs(x.p99),
      `${fmtNum(x.user)} / ${fmtNum(x.kernel)}`,
      fmtNum(x.hs, 0),
      ratio(x.hs, h?.hs),
      fmtNum(x.hsUs, 0),
      String(x.failed),
    ]),
    ["l", "r", "r", "r", "r", "r", "r", "r", "r"],
  );
}

function goals(s: Summary[]): string {
  const m = s.find((x) => x.row.key === "mosn");
  const h = s.find((x) => x.row.key === "haproxy");
  if (!m || !h) return "Goals not evaluated: the run did not include mosn.ts and HAProxy.";
  const r = m.rps / h.rps;
  const p = m.p99 / h.p99;
  const hs = m.hs / h.hs;
  const perCore = (h.user + h.kernel) / (m.user + m.kernel);
  const hsPerCore = h.hsUs / m.hsUs;
  const met = (ok: boolean) => ok ? "met" : "not met";
  return [
    `Goals (from the issue): mosn.ts h2 (TLS) → h2c reaches at least ${GOALS.rpsVsHaproxy}× ` +
    `HAProxy's requests/s and ${GOALS.handshakesVsHaproxy}× its TLS handshake rate, with a p99 ` +
    `no worse than ${GOALS.p99VsHaproxy}× HAProxy's. On a shared machine the per-core figures ` +
    `(HAProxy's CPU per operation over mosn.ts's) are the steadier judge.`,
    "",
    `- requests/s: ${met(r >= GOALS.rpsVsHaproxy)} — ${fmtRatio(r)} ` +
    `(per core: ${fmtRatio(perCore)}).`,
    `- p99: ${met(p <= GOALS.p99VsHaproxy)} — ${fmtRatio(p)} ` +
    `(${fmtMs(m.p99)} vs ${fmtMs(h.p99)}).`,
    `- handshakes/s: ${met(hs >= GOALS.handshakesVsHaproxy)} — ${fmtRatio(hs)} ` +
    `(per core: ${fmtRatio(hsPerCore)}).`,
  ].join("\n");
}

export const h2TlsSuite: Suite = {
  name: "h2tls",
  heading: "HTTP/2 over TLS (proxy vs HAProxy and nginx; TLS handshakes)",
  tools: {
    h2load: "nghttp2-client",
    curl: "curl",
    haproxy: "haproxy",
    nginx: "nginx-light",
    openssl: "openssl",
  },
  loadTool: "h2load",
  ports: [
    PORTS.origin,
    PORTS.originH2c,
    DIRECT_PORT,
    HAPROXY_PORT,
    NGINX_PORT,
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
      `HTTP/2 over TLS 1.3 (ALPN h2, ECDSA P-256, no session resumption) through an L7 proxy: ` +
      `\`h2load -t1 -c16 -m10 -D ${ctx.opts.durationSec}\` on \`/hello\` (5-byte body) → proxy ` +
      `→ nginx origin; p99 from h2load's per-request log; CPU per request is the proxy's. ` +
      `HAProxy and mosn.ts (first row) speak h2c to the origin's h2c port; nginx (it cannot ` +
      `proxy to h2) and mosn.ts's second row HTTP/1.1 keep-alive. Handshakes: two ` +
      `\`openssl s_time -new -time ${HANDSHAKE_SECONDS}\` clients at once (a full handshake per ` +
      `connection, no request), summed, with the proxy's CPU per handshake. The first row is an ` +
      `nginx TLS h2 server answering itself (no proxy hop). Medians over ${ctx.opts.rounds} ` +
      `round(s).`,
      "",
      t,
      "",
      g,
    ].join("\n");
    return { console: `${t}\n\n${g}`, section, raw: { results } };
  },
};
