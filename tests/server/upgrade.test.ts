import assert from "node:assert/strict";
import { startProcess } from "../_support/mosn.ts";
import { origin } from "../_support/http.ts";
import { freePort } from "../_support/net.ts";
import { startSofaServer } from "../_support/rpc/sofa.ts";
import { boltLoad, connectLoad, keepAliveLoad } from "./_load.ts";
import { loadDoc } from "./_upgrade_doc.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The acceptance run: 30 s of load, the upgrade a third of the way in. */
const LOAD_MS = 30_000;

async function states(adminPort: number): Promise<{ state: string; pid: number }> {
  return await (await fetch(`http://127.0.0.1:${adminPort}/api/v1/states`)).json();
}

Deno.test("upgrade: a second process takes over under 30 s of load: 0 failed, 0 refused, the old one exits by itself", async () => {
  const web = origin(() => new Response("web"));
  const sofa = await startSofaServer();
  const stateDir = await Deno.makeTempDir();
  const env = { MOSN_STATE_DIR: stateDir };
  const [httpPort, rpcPort] = [freePort(), freePort()];
  const doc = loadDoc({
    httpPort,
    rpcPort,
    clusters: { c1: web.address },
    routeTo: "c1",
    sofa: sofa.address,
  });
  const old = await startProcess(doc, env);
  let next: Awaited<ReturnType<typeof startProcess>> | undefined;
  const loads = {
    keepAlive: keepAliveLoad(httpPort),
    connect: connectLoad(httpPort),
    bolt: boltLoad(`127.0.0.1:${rpcPort}`),
  };
  try {
    const t0 = Date.now();
    await sleep(LOAD_MS / 3);
    const before = { ...loads.keepAlive.result, bodies: [] };
    // The same config, started again: the control socket in the state dir makes it an upgrade.
    next = await startProcess(doc, env, { adminPort: old.adminPort, args: ["--upgrade"] });
    const handedOver = Date.now();
    const code = await Promise.race([old.exited, sleep(5_000 + 5_000).then(() => "timeout")]);
    assert.equal(
      code,
      0,
      `old process exits by itself within graceful_timeout + 5 s:\n${old.stderr()}`,
    );
    const exitMs = Date.now() - handedOver;
    await sleep(Math.max(0, LOAD_MS - (Date.now() - t0)));
    const r = {
      keepAlive: await loads.keepAlive.stop(),
      connect: await loads.connect.stop(),
      bolt: await loads.bolt.stop(),
    };
    const summary = JSON.stringify({
      exitMs,
      keepAlive: { ok: r.keepAlive.ok, failed: r.keepAlive.failed, errors: r.keepAlive.errors },
      connect: {
        ok: r.connect.ok,
        failed: r.connect.failed,
        refused: r.connect.refused,
        errors: r.connect.errors,
      },
      bolt: { ok: r.bolt.ok, failed: r.bolt.failed, errors: r.bolt.errors },
    });
    console.log(`upgrade under load: ${summary}`);
    assert.equal(r.keepAlive.failed, 0, summary);
    assert.equal(r.connect.refused, 0, summary);
    assert.equal(r.connect.failed, 0, summary);
    assert.equal(r.bolt.failed, 0, summary);
    assert.ok(
      r.keepAlive.ok > before.ok + 100,
      `keep-alive traffic went on after the upgrade: ${summary}`,
    );
    assert.ok(r.bolt.ok > 1000, summary);
    const s = await states(old.adminPort);
    assert.equal(s.state, "RUNNING");
    assert.equal(s.pid, next.child.pid, "the admin port is the new process's");
    // Both clients moved: the new process accepted HTTP and bolt connections of its own.
    const stats = await (await fetch(`http://127.0.0.1:${old.adminPort}/api/v1/stats`)).json();
    for (const l of ["http", "rpc"]) {
      const n = Number(stats.downstream[`listener.${l}.proxy.global`]?.connection_total ?? 0);
      assert.ok(n > 0, `the new process accepted ${l} connections`);
    }
    assert.match(old.stderr(), /upgrade: listeners handed over/);
    assert.doesNotMatch(old.stderr(), /"unsteered":\["/, "every socket was steered");
  } finally {
    await Promise.all(Object.values(loads).map((l) => l.stop()));
    old.kill("SIGKILL");
    next?.kill("SIGKILL");
    await old.exited;
    await next?.exited;
    await web.close();
    await sofa.close();
    await Deno.remove(stateDir, { recursive: true });
  }
});
