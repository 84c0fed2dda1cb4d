/**
 * The console in a real Chromium against a real proxy: live connections, host health, request
 * counter, route table; a screenshot of every view goes to tests/.screenshots/console/.
 */

import assert from "node:assert/strict";
import { ensureConsole } from "../../scripts/build_console.ts";
import { httpDoc, origin } from "../_support/http.ts";
import { startInProcess } from "../_support/mosn.ts";
import { launchBrowser, SCREENSHOTS, until } from "./_browser.ts";
import http2 from "node:http2";
import { pem, pki, serverTls } from "../_support/tls.ts";

const ROUTES = [
  { match: { path: "/health" }, direct_response: { status: 200, body: "ok" } },
  {
    match: { prefix: "/api", headers: [{ name: "x-canary", value: "1" }] },
    route: { cluster_name: "web" },
  },
  { match: { prefix: "/api" }, route: { cluster_name: "web", timeout: "5s" } },
  { match: { prefix: "/" }, route: { cluster_name: "web" } },
];
const EXPECTED_MATCHES = [
  "path /health",
  "prefix /api header x-canary=1",
  "prefix /api",
  "prefix /",
];

Deno.test({
  name: "console: live connections, host health, request counter and routes in Chromium",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await ensureConsole();
    await Deno.mkdir(SCREENSHOTS, { recursive: true });
    const a = origin(() => new Response("a"));
    const b = origin(() => new Response("b"));
    const doc = httpDoc({
      routers: [{
        router_config_name: "r1",
        virtual_hosts: [{ name: "web", domains: ["*"], routers: ROUTES }],
      }],
      clusters: [{
        name: "web",
        hosts: [{ address: a.address }, { address: b.address }],
        circuit_breakers: [{ max_connections: 100, max_requests: 200 }],
        health_check: {
          protocol: "tcp",
          interval: "200ms",
          timeout: "500ms",
          healthy_threshold: 1,
          unhealthy_threshold: 1,
        },
      }],
    });
    // A second listener: HTTP/2 over mTLS, for a connection row with a protocol and an identity.
    // deno-lint-ignore no-explicit-any
    (doc as any).servers[0].listeners.push({
      name: "h2tls",
      address: "127.0.0.1:0",
      filter_chains: [{
        tls_context: serverTls("a", { ca_cert: pki("ca.pem"), verify_client: true, alpn: "h2" }),
        filters: [{
          type: "proxy",
          config: {
            downstream_protocol: "Http2",
            upstream_protocol: "Http1",
            router_config_name: "r1",
          },
        }],
      }],
    });
    const server = startInProcess(doc, { admin: true });
    await server.listening();
    const base = `http://127.0.0.1:${server.adminPort}`;
    const proxy = `http://127.0.0.1:${server.listenerPort("http")}`;
    const browser = await launchBrowser();
    let held: Deno.TcpConn | undefined;
    let h2: http2.ClientHttp2Session | undefined;
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));

      // Overview: the request counter rises with traffic.
      await page.goto(base + "/#/overview");
      const counter = page.locator("[data-testid=requests-total]");
      const before = Number(
        await until("the request counter", async () => {
          const t = await counter.textContent({ timeout: 10_000 });
          return t ?? undefined;
        }),
      );
      for (let i = 0; i < 20; i++) await (await fetch(proxy + "/api/x")).text();
      await until("the request counter to rise", async () => {
        const n = Number(await counter.textContent());
        return n >= before + 20 ? n : undefined;
      });
      await until("a non-zero rate sparkline", async () => {
        const t = await page.locator('[data-metric="Requests/s"]').textContent();
        return t && !t.startsWith("0.0") ? t : undefined;
      });
      await page.screenshot({
        path: new URL("overview.png", SCREENSHOTS).pathname,
        fullPage: true,
      });

      // Connections: a new downstream connection shows up within 2 s.
      await page.click('nav a[href="#/connections"]');
      await page.locator("[data-testid=connections]").waitFor();
      held = await Deno.connect({ hostname: "127.0.0.1", port: server.listenerPort("http") });
      const peer = `127.0.0.1:${(held.localAddr as Deno.NetAddr).port}`;
      const opened = Date.now();
      await until(
        `a row for ${peer}`,
        async () =>
          (await page.locator(`[data-testid=connections] td code:text-is("${peer}")`).count()) > 0
            ? true
            : undefined,
        2_000,
      );
      const seenAfter = Date.now() - opened;
      assert.ok(seenAfter <= 2_000, `connection listed after ${seenAfter} ms`);
      // An HTTP/2 client with a client certificate: its row names the protocol and the identity.
      h2 = http2.connect(`https://127.0.0.1:${server.listenerPort("h2tls")}`, {
        ca: pem("ca.pem"),
        cert: pem("client.pem"),
        key: pem("client.key"),
        servername: "a.example.com",
      });
      h2.on("error", () => {});
      const session = h2;
      const h2Peer = await new Promise<string>((resolve, reject) => {
        const req = session.request({ ":path": "/api/h2" });
        req.on("response", () => resolve(`127.0.0.1:${session.socket.localPort}`));
        req.on("data", () => {});
        req.on("error", reject);
      });
      const h2Row = page.locator(`[data-testid=connections] tr:has(code:text-is("${h2Peer}"))`);
      const h2Text = await until(
        `a row for the HTTP/2 client ${h2Peer}`,
        async () => (await h2Row.count()) > 0 ? await h2Row.textContent() ?? undefined : undefined,
      );
      assert.match(h2Text, /HTTP\/2/);
      assert.match(h2Text, /peer=spiffe:\/\/cluster\.local\/ns\/default\/sa\/client/);
      await page.fill("#filter-connections", "spiffe://");
      await until("the TLS filter to apply", async () => {
        const rows = await page.locator("[data-testid=connections] tbody tr").count();
        return rows === 1 ? rows : undefined;
      });
      await page.screenshot({
        path: new URL("connections-http2-tls.png", SCREENSHOTS).pathname,
        fullPage: true,
      });
      // Filtering keeps only matching rows.
      await page.fill("#filter-connections", peer);
      await until("the filter to apply", async () => {
        const rows = await page.locator("[data-testid=connections] tbody tr").count();
        return rows === 1 ? rows : undefined;
      });
      await page.screenshot({
        path: new URL("connections.png", SCREENSHOTS).pathname,
        fullPage: true,
      });

      // Routes: every configured route is listed, with hit counts.
      await page.click('nav a[href="#/routes"]');
      const table = page.locator("[data-testid=routes-r1-web]");
      await table.waitFor();
      const matches = await table.locator("tbody tr td:nth-child(2)").allTextContents();
      assert.deepEqual(matches, EXPECTED_MATCHES);
      const hits = await table.locator("tbody tr td:nth-child(4)").allTextContents();
      assert.ok(Number(hits[2]) >= 20, `hits of prefix /api: ${hits[2]}`);
      await page.screenshot({ path: new URL("routes.png", SCREENSHOTS).pathname, fullPage: true });

      // Clusters: killing an upstream host turns it unhealthy.
      await page.click('nav a[href="#/clusters"]');
      const hostRow = (addr: string) =>
        page.locator(`[data-testid=hosts-web] tr:has(code:text-is("${addr}"))`);
      await until(
        "host a healthy",
        async () =>
          (await hostRow(a.address).locator('[data-health="healthy"]').count()) > 0
            ? true
            : undefined,
      );
      await a.close();
      await until(
        "host a unhealthy",
        async () =>
          (await hostRow(a.address).locator('[data-health="unhealthy"]').count()) > 0
            ? true
            : undefined,
      );
      assert.match(await hostRow(a.address).textContent() ?? "", /active check failed/);
      assert.equal(await hostRow(b.address).locator('[data-health="healthy"]').count(), 1);
      await page.screenshot({
        path: new URL("clusters.png", SCREENSHOTS).pathname,
        fullPage: true,
      });

      // Stats, Config, Logging (a same-origin POST from the page), then the dark theme.
      await page.click('nav a[href="#/stats"]');
      await page.locator("[data-testid=stats] tbody tr").first().waitFor();
      await page.fill("#filter-stats", "request_total");
      await page.screenshot({ path: new URL("stats.png", SCREENSHOTS).pathname, fullPage: true });
      await page.click('nav a[href="#/config"]');
      await page.locator("[data-testid=config]").waitFor();
      await page.fill("#cfg-search", "cluster_name");
      await page.screenshot({ path: new URL("config.png", SCREENSHOTS).pathname, fullPage: true });
      await page.click('nav a[href="#/logging"]');
      await until("the level", async () => {
        const t = await page.locator("[data-testid=log-level]").textContent();
        return t && t !== "…" ? t : undefined;
      });
      await page.selectOption("#log-level", "WARN");
      await page.click("form button[type=submit]");
      await until(
        "the new level",
        async () =>
          (await page.locator("[data-testid=log-level]").textContent()) === "WARN"
            ? true
            : undefined,
      );
      assert.equal(server.logger.level, "WARN");
      server.logger.setLevel("ERROR");
      await page.screenshot({ path: new URL("logging.png", SCREENSHOTS).pathname, fullPage: true });
      await page.click("button.theme");
      await page.click('nav a[href="#/overview"]');
      await page.locator("[data-testid=requests-total]").waitFor();
      await page.screenshot({
        path: new URL("overview-dark.png", SCREENSHOTS).pathname,
        fullPage: true,
      });
      assert.deepEqual(errors, []);
    } finally {
      held?.close();
      h2?.destroy();
      await browser.close();
      await server.stop("fast");
      await a.close().catch(() => {});
      await b.close();
    }
  },
});

Deno.test({
  name: "console: a token-protected admin asks for the token, then works; keyboard navigation",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await ensureConsole();
    await Deno.mkdir(SCREENSHOTS, { recursive: true });
    const doc = httpDoc({
      routers: [{ router_config_name: "r1", virtual_hosts: [] }],
      clusters: [{ name: "c1", hosts: [{ address: "127.0.0.1:9" }] }],
    });
    doc.admin = {
      address: { socket_address: { address: "127.0.0.1", port_value: 0 } },
      token: "console-test-token",
    };
    const server = startInProcess(doc, { admin: true });
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage({ viewport: { width: 900, height: 700 } });
      await page.goto(`http://127.0.0.1:${server.adminPort}/`);
      const form = page.locator("form.token");
      await form.waitFor({ timeout: 10_000 });
      assert.match(await form.textContent() ?? "", /Authorization: Bearer/);
      await page.screenshot({ path: new URL("token.png", SCREENSHOTS).pathname });
      await page.fill("#token", "console-test-token");
      await page.click("form.token button[type=submit]");
      await page.locator("[data-testid=version]").waitFor({ timeout: 10_000 });
      await until(
        "the live badge",
        async () =>
          (await page.locator(".badge.ok", { hasText: "live" }).count()) > 0 ? true : undefined,
      );
      assert.equal(await form.count(), 0);

      // Keyboard only: the skip link comes first, then the header, then the views.
      await page.keyboard.press("Tab");
      const focused = () => page.locator(":focus").textContent();
      assert.equal(await focused(), "Skip to content");
      let label = "";
      for (let i = 0; i < 10 && label !== "Clusters"; i++) {
        await page.keyboard.press("Tab");
        label = await focused() ?? "";
      }
      assert.equal(label, "Clusters");
      await page.keyboard.press("Enter");
      await until(
        "the clusters view",
        async () => (await page.locator("section[data-cluster=c1]").count()) > 0 ? true : undefined,
      );
      assert.equal(new URL(page.url()).hash, "#/clusters");
    } finally {
      await browser.close();
      await server.stop("fast");
    }
  },
});
