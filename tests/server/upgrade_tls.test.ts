import assert from "node:assert/strict";
import http2 from "node:http2";
import { startProcess } from "../_support/mosn.ts";
import { origin, simpleRouter } from "../_support/http.ts";
import { freePort } from "../_support/net.ts";
import { pem, serverTls } from "../_support/tls.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A short run: the upgrade a third of the way in. */
const LOAD_MS = 9_000;

interface Tally {
  ok: number;
  failed: number;
  refused: number;
  /** Requests retried once because the server refused the stream unprocessed (RFC 9113 §8.7). */
  retried: number;
  errors: string[];
}

function fail(t: Tally, e: unknown): void {
  t.failed++;
  const code = (e as { code?: string }).code;
  if (code === "ECONNREFUSED") t.refused++;
  if (t.errors.length < 10) t.errors.push(`${new Date().toISOString()} ${code ?? ""} ${e}`);
}

function connect(port: number): http2.ClientHttp2Session {
  const s = http2.connect(`https://127.0.0.1:${port}`, {
    ca: pem("ca.pem"),
    servername: "a.example.com",
  });
  s.on("error", () => {});
  return s;
}

/** GET / on `s`; resolves with the status, rejects on a stream or session error. */
function get(s: http2.ClientHttp2Session): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = s.request({ ":path": "/" });
    let status = 0;
    req.on("response", (h) => (status = Number(h[":status"])));
    req.on("data", () => {});
    req.on("end", () => resolve(status));
    req.on("error", reject);
    req.setTimeout(10_000, () => req.close(http2.constants.NGHTTP2_CANCEL));
    req.end();
  });
}

/** A stream the server did not process (refused, or past a GOAWAY): safe to send again. */
function unprocessed(e: unknown): boolean {
  const code = (e as { code?: string }).code ?? "";
  return code === "ERR_HTTP2_GOAWAY_SESSION" ||
    (code === "ERR_HTTP2_STREAM_ERROR" && /REFUSED_STREAM/.test(String(e)));
}

/** One TLS connection (handshake, ALPN h2) per request. */
async function connectLoop(port: number, t: Tally, running: () => boolean): Promise<void> {
  while (running()) {
    const s = connect(port);
    try {
      const status = await new Promise<number>((resolve, reject) => {
        s.once("error", reject);
        get(s).then(resolve, reject);
      });
      if (status === 200) t.ok++;
      else fail(t, new Error(`status ${status}`));
    } catch (e) {
      fail(t, e);
    } finally {
      s.close();
    }
  }
}

/** One long-lived h2 session, replaced when the server sends GOAWAY or closes it. */
async function keepAliveLoop(port: number, t: Tally, running: () => boolean): Promise<void> {
  let s = connect(port);
  let gone = false;
  const watch = (x: http2.ClientHttp2Session) => {
    x.once("goaway", () => (gone = true));
    x.once("close", () => (gone = true));
  };
  watch(s);
  while (running()) {
    if (gone || s.closed || s.destroyed) {
      s.close();
      s = connect(port);
      gone = false;
      watch(s);
    }
    try {
      let status: number;
      try {
        status = await get(s);
      } catch (e) {
        if (!unprocessed(e)) throw e;
        t.retried++;
        if (t.errors.length < 10) t.errors.push(`retried: ${(e as { code?: string }).code} ${e}`);
        s.close();
        s = connect(port);
        gone = false;
        watch(s);
        status = await get(s);
      }
      if (status === 200) t.ok++;
      else fail(t, new Error(`status ${status}`));
    } catch (e) {
      fail(t, e);
    }
  }
  s.close();
}

function tlsDoc(httpPort: number, originAddress: string): Record<string, unknown> {
  return {
    servers: [{
      default_log_level: "INFO",
      graceful_timeout: "5s",
      routers: [simpleRouter([{ match: { prefix: "/" }, route: { cluster_name: "web" } }])],
      listeners: [{
        name: "https",
        address: `127.0.0.1:${httpPort}`,
        filter_chains: [{
          tls_context: serverTls("a"),
          filters: [{
            type: "proxy",
            config: {
              downstream_protocol: "Http2",
              upstream_protocol: "Http1",
              router_config_name: "r1",
            },
          }],
        }],
      }],
    }],
    cluster_manager: {
      clusters: [{ name: "web", type: "SIMPLE", hosts: [{ address: originAddress }] }],
    },
  };
}

Deno.test("upgrade with a TLS (h2) listener: the new process takes over the port under load, 0 refused, 0 failed", async () => {
  const web = origin(() => new Response("web"));
  const stateDir = await Deno.makeTempDir();
  const env = { MOSN_STATE_DIR: stateDir };
  const port = freePort();
  const doc = tlsDoc(port, web.address);
  const old = await startProcess(doc, env);
  let next: Awaited<ReturnType<typeof startProcess>> | undefined;
  let running = true;
  const connectTally: Tally = { ok: 0, failed: 0, refused: 0, retried: 0, errors: [] };
  const keepTally: Tally = { ok: 0, failed: 0, refused: 0, retried: 0, errors: [] };
  const loops = Promise.all([
    connectLoop(port, connectTally, () => running),
    connectLoop(port, connectTally, () => running),
    keepAliveLoop(port, keepTally, () => running),
  ]);
  try {
    const t0 = Date.now();
    await sleep(LOAD_MS / 3);
    const before = { connect: connectTally.ok, keep: keepTally.ok };
    next = await startProcess(doc, env, { adminPort: old.adminPort, args: ["--upgrade"] });
    const code = await Promise.race([old.exited, sleep(10_000).then(() => "timeout")]);
    assert.equal(code, 0, `the old process exits by itself:\n${old.stderr()}`);
    await sleep(Math.max(0, LOAD_MS - (Date.now() - t0)));
    running = false;
    await loops;
    const summary = JSON.stringify({ connect: connectTally, keepAlive: keepTally });
    console.log(`TLS upgrade under load: ${summary}`);
    assert.equal(connectTally.refused, 0, summary);
    assert.equal(connectTally.failed, 0, summary);
    assert.equal(keepTally.failed, 0, summary);
    assert.ok(connectTally.ok > before.connect + 10, `new connections served after: ${summary}`);
    assert.ok(keepTally.ok > before.keep + 10, `the h2 session moved on: ${summary}`);
    const stats = await (await fetch(`http://127.0.0.1:${old.adminPort}/api/v1/stats`)).json();
    assert.ok(
      Number(stats.tls?.["listener.https"]?.handshake ?? 0) > 0,
      "the new process completed TLS handshakes of its own",
    );
    assert.equal(
      (await (await fetch(`http://127.0.0.1:${old.adminPort}/api/v1/states`)).json()).pid,
      next.child.pid,
    );
  } finally {
    running = false;
    await loops.catch(() => {});
    old.kill("SIGKILL");
    next?.kill("SIGKILL");
    await old.exited;
    await next?.exited;
    await web.close();
    await Deno.remove(stateDir, { recursive: true });
  }
});
