import assert from "node:assert/strict";
import http2 from "node:http2";
import { startInProcess, startProcess } from "../_support/mosn.ts";
import { httpDoc, origin, simpleRouter } from "../_support/http.ts";
import { h2Origin, run } from "../_support/h2.ts";
import { freePort } from "../_support/net.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("graceful stop: an HTTP/2 client gets GOAWAY and its in-flight stream completes", async () => {
  const held: http2.ServerHttp2Stream[] = [];
  const up = await h2Origin((stream) => held.push(stream));
  const mosn = startInProcess(httpDoc({
    clusters: [{ name: "c", hosts: [{ address: up.address }] }],
    routers: [simpleRouter([{ match: { prefix: "/" }, route: { cluster_name: "c" } }])],
    proxy: { downstream_protocol: "Http2", upstream_protocol: "Http2" },
  }));
  const client = http2.connect(`http://127.0.0.1:${mosn.listenerPort("http")}`);
  client.on("error", () => {});
  const goaway = new Promise<number>((r) => client.on("goaway", (code) => r(code)));
  const closed = new Promise<void>((r) => client.on("close", () => r()));
  let stopping: Promise<void> | undefined;
  try {
    const req = client.request({ ":path": "/slow" });
    const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
      let status = 0;
      let body = "";
      req.on("response", (h) => (status = Number(h[":status"])));
      req.setEncoding("utf8");
      req.on("data", (d: string) => (body += d));
      req.on("end", () => resolve({ status, body }));
      req.on("error", reject);
    });
    for (let i = 0; i < 400 && held.length === 0; i++) await sleep(25);
    assert.equal(held.length, 1, "the request is in flight at the origin");

    stopping = mosn.stop("graceful");
    assert.equal(await goaway, 0, "GOAWAY NO_ERROR");
    // The stream opened before the GOAWAY still completes.
    held[0]!.respond({ ":status": 200 });
    held[0]!.end("finished after goaway");
    assert.deepEqual(await response, { status: 200, body: "finished after goaway" });
    await closed; // the proxy closes the connection once its last stream is done
    await stopping;
  } finally {
    client.destroy();
    await (stopping ?? mosn.stop("fast"));
    await up.close();
  }
});

/** Requests per nghttp run: one connection, all of them sent at once (concurrent streams). */
const PER_RUN = 10;

interface NghttpLoad {
  runs: number;
  ok: number;
  /** Runs that did not get PER_RUN answers with status 200, with what nghttp said. */
  failures: string[];
}

/**
 * Clients that each run `nghttp -m 10` (a fresh connection, ten concurrent streams) back to back
 * until `until`: connections start and end all through the upgrade, and a stream nghttp sent is
 * either answered 200 or reported ("Some requests were not processed", a missing row).
 */
async function nghttpLoad(url: string, clients: number, until: number): Promise<NghttpLoad> {
  const r: NghttpLoad = { runs: 0, ok: 0, failures: [] };
  const row = /^\s*\d+\s+\+\S+\s+\+\S+\s+\S+\s+(\d{3})\s/gm;
  await Promise.all(Array.from({ length: clients }, async () => {
    while (Date.now() < until) {
      const out = await run("nghttp", ["-n", "-s", "-t", "10s", "-m", String(PER_RUN), url]);
      r.runs++;
      const codes = [...out.stdout.matchAll(row)].map((m) => m[1]);
      const good = codes.filter((c) => c === "200").length;
      r.ok += good;
      if (good !== PER_RUN || out.stderr.trim() !== "") {
        r.failures.push(`${good}/${PER_RUN} ok, codes ${codes.join(",")}: ${out.stderr.trim()}`);
      }
    }
  }));
  return r;
}

interface LongLived {
  goaway: boolean;
  issued: number;
  ok: number;
  errors: string[];
}

/**
 * One HTTP/2 connection kept busy with four concurrent streams until the server's GOAWAY (or
 * `until`): every request issued on it must be answered 200, including those sent while the
 * GOAWAY was on its way.
 */
async function longLivedH2(url: string, until: number): Promise<LongLived> {
  const client = http2.connect(url);
  client.on("error", () => {});
  const r: LongLived = { goaway: false, issued: 0, ok: 0, errors: [] };
  client.on("goaway", () => (r.goaway = true));
  const worker = async () => {
    while (!r.goaway && !client.closed && !client.destroyed && Date.now() < until) {
      let req: http2.ClientHttp2Stream;
      try {
        req = client.request({ ":path": "/long-lived" });
      } catch {
        break; // the session is going away: nothing was sent
      }
      r.issued++;
      const status = await new Promise<string>((resolve) => {
        let code = "";
        req.on("response", (h) => (code = String(h[":status"])));
        req.on("data", () => {});
        req.on("end", () => resolve(code));
        req.on("error", (e: Error) => resolve(e.message));
      });
      if (status === "200") r.ok++;
      else r.errors.push(status);
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  client.close();
  return r;
}

Deno.test("upgrade: HTTP/2 clients through a smooth upgrade: GOAWAY on the old connection, every stream answered 200", async () => {
  const web = origin(() => new Response("web"));
  const stateDir = await Deno.makeTempDir();
  const env = { MOSN_STATE_DIR: stateDir };
  const port = freePort();
  const doc = httpDoc({
    clusters: [{ name: "c", hosts: [{ address: web.address }] }],
    routers: [simpleRouter([{ match: { prefix: "/" }, route: { cluster_name: "c" } }])],
    listener: { address: `127.0.0.1:${port}` },
    proxy: { downstream_protocol: "Http2", upstream_protocol: "Http1" },
  });
  // deno-lint-ignore no-explicit-any
  (doc as any).servers[0].default_log_level = "INFO";
  const old = await startProcess(doc, env);
  let next: Awaited<ReturnType<typeof startProcess>> | undefined;
  try {
    // 8 s of load from 3 clients; the upgrade starts 2 s in.
    const load = nghttpLoad(`http://127.0.0.1:${port}/`, 3, Date.now() + 8000);
    // And one connection open across the handover, busy when the old process drains it.
    const long = longLivedH2(`http://127.0.0.1:${port}`, Date.now() + 8000);
    await sleep(2000);
    next = await startProcess(doc, env, { adminPort: old.adminPort, args: ["--upgrade"] });
    const code = await Promise.race([old.exited, sleep(10_000).then(() => "timeout")]);
    assert.equal(code, 0, `the old process exits by itself:\n${old.stderr()}`);
    const r = await load;
    const summary = `nghttp: ${r.runs} connections, ${r.ok} streams answered 200, ` +
      `${r.failures.length} runs with failures`;
    console.log(summary);
    assert.deepEqual(r.failures, [], summary);
    const l = await long;
    console.log(`long-lived connection: ${JSON.stringify(l)}`);
    assert.ok(l.goaway, "the connection open across the upgrade got GOAWAY");
    assert.deepEqual(l.errors, [], "every stream it sent was answered");
    assert.equal(l.ok, l.issued);
    assert.ok(l.issued > 10);
    assert.ok(r.runs > 10, summary);
    // The new process took over the HTTP/2 clients.
    const stats = await (await fetch(`http://127.0.0.1:${old.adminPort}/api/v1/stats`)).json();
    const served = Number(stats.downstream["listener.http.proxy.global"]?.request_total ?? 0);
    assert.ok(served > 0, `the new process served HTTP/2 requests: ${JSON.stringify(stats)}`);
    assert.match(old.stderr(), /upgrade: listeners handed over/);
  } finally {
    old.kill("SIGKILL");
    next?.kill("SIGKILL");
    await old.exited;
    await next?.exited;
    await web.close();
    await Deno.remove(stateDir, { recursive: true });
  }
});
