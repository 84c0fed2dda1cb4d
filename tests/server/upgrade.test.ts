import assert from "node:assert/strict";
import { startProcess } from "../_support/mosn.ts";
import { origin } from "../_support/http.ts";
import { freePort } from "../_support/net.ts";
import { startSofaServer } from "../_support/rpc/sofa.ts";
import { MixedLoad } from "./_load.ts";
import { loadDoc } from "./_upgrade_doc.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The acceptance run: 30 s of load, the upgrade a third of the way in. */
const LOAD_MS = 30_000;

async function states(adminPort: number): Promise<{ state: string; pid: number }> {
  return await (await fetch(`http://127.0.0.1:${adminPort}/api/v1/states`)).json();
}

/**
 * Runs the loads for `loadMs`, upgrades a third of the way in, checks that the old process
 * exits by itself and that the new one serves; returns the bolt client's failures.
 */
async function upgradeUnderLoad(loadMs: number, goAway: boolean): Promise<number> {
  let boltFailed = 0;
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
    boltExtend: { bolt: { enable_bolt_goaway: goAway } },
  });
  const old = await startProcess(doc, env);
  let next: Awaited<ReturnType<typeof startProcess>> | undefined;
  const loads = new MixedLoad(httpPort, rpcPort, loadMs);
  try {
    const t0 = Date.now();
    await sleep(loadMs / 3);
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
    await sleep(Math.max(0, loadMs - (Date.now() - t0)));
    const r = await loads.results({ handedOver, exitMs });
    const summary = r.summary;
    console.log(`upgrade under load: ${summary}`);
    assert.equal(r.keepAlive.failed, 0, summary);
    assert.equal(r.connect.refused, 0, summary);
    assert.equal(r.connect.failed, 0, summary);
    assert.ok(
      r.keepAlive.ok > before.ok + 100,
      `keep-alive traffic went on after the upgrade: ${summary}`,
    );
    assert.ok(r.bolt.ok > loadMs / 30, summary);
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
    boltFailed = r.bolt.failed;
  } finally {
    await loads.close();
    old.kill("SIGKILL");
    next?.kill("SIGKILL");
    await old.exited;
    await next?.exited;
    await web.close();
    await sofa.close();
    await Deno.remove(stateDir, { recursive: true });
  }
  return boltFailed;
}

Deno.test("upgrade: a second process takes over under 30 s of load (bolt GoAway on): 0 failed, 0 refused, the old one exits by itself", async () => {
  assert.equal(await upgradeUnderLoad(LOAD_MS, true), 0, "no bolt call lost");
});

Deno.test("upgrade: without bolt GoAway, sofa-rpc-node can lose the one call it sends while the drained connection's FIN is on its way", async () => {
  // sofa-rpc-node has no GoAway and, under Deno, notices a server's FIN some milliseconds late:
  // the close comes in a pause between calls, but a call written before the client sees the
  // FIN is reset. Measured: 0 or 1 lost call per upgrade at one call every 10 ms. HTTP stays
  // at 0 failed, 0 refused.
  const lost = await upgradeUnderLoad(10_000, false);
  assert.ok(lost <= 1, `${lost} bolt calls lost`);
});

async function post(adminPort: number, path: string, body: unknown): Promise<number> {
  const r = await fetch(`http://127.0.0.1:${adminPort}${path}`, {
    method: "POST",
    body: JSON.stringify(body),
  });
  await r.body?.cancel();
  return r.status;
}

Deno.test("upgrade: inherit_old_mosnconfig keeps dynamic updates across upgrades; without it the file wins", async () => {
  const v1 = origin(() => new Response("v1"));
  const v2 = origin(() => new Response("v2"));
  const sofa = await startSofaServer();
  const stateDir = await Deno.makeTempDir();
  const env = { MOSN_STATE_DIR: stateDir };
  const [httpPort, rpcPort] = [freePort(), freePort()];
  const doc = (inherit: boolean) =>
    loadDoc({
      httpPort,
      rpcPort,
      clusters: { c1: v1.address },
      routeTo: "c1",
      sofa: sofa.address,
      extra: { inherit_old_mosnconfig: inherit },
    });
  const get = async () => await (await fetch(`http://127.0.0.1:${httpPort}/`)).text();
  const procs: Awaited<ReturnType<typeof startProcess>>[] = [];
  try {
    const first = await startProcess(doc(true), env);
    procs.push(first);
    const admin = first.adminPort;
    // A dynamic update: cluster c2 and a route to it (in front of the file's route).
    const c2 = { name: "c2", type: "SIMPLE", hosts: [{ address: v2.address }] };
    assert.equal(await post(admin, "/api/v1/update_config", { type: "cluster", config: c2 }), 200);
    const route = { match: { prefix: "/" }, route: { cluster_name: "c2" } };
    assert.equal(
      await post(admin, "/api/v1/update_route", { router_config_name: "r1", route }),
      200,
    );
    assert.equal(await get(), "v2");

    // Second process: the file says c1, but it takes the running config.
    const second = await startProcess(doc(true), env, { adminPort: admin, args: ["--upgrade"] });
    procs.push(second);
    assert.equal(await first.exited, 0);
    assert.equal(await get(), "v2", "the dynamic route survived the upgrade");
    const dump = await (await fetch(`http://127.0.0.1:${admin}/api/v1/config_dump`)).json();
    assert.deepEqual(
      dump.cluster_manager.clusters.map((c: { name: string }) => c.name).sort(),
      ["c1", "c2", "svc"],
    );
    assert.match(second.stderr(), /inherit_old_mosnconfig/);

    // Third process (a chained upgrade, detected from the control socket without --upgrade),
    // without inherit_old_mosnconfig: its own file.
    const third = await startProcess(doc(false), env, { adminPort: admin });
    procs.push(third);
    assert.equal(await second.exited, 0);
    assert.equal(await get(), "v1", "the file's config");
    assert.equal((await states(admin)).pid, third.child.pid);
  } finally {
    for (const p of procs) p.kill("SIGKILL");
    for (const p of procs) await p.exited;
    await v1.close();
    await v2.close();
    await sofa.close();
    await Deno.remove(stateDir, { recursive: true });
  }
});

Deno.test("upgrade: a start on ports held by something else is refused, also by another mosn.ts with its own state dir", async () => {
  const web = origin(() => new Response("web"));
  const sofa = await startSofaServer();
  const dirs = [await Deno.makeTempDir(), await Deno.makeTempDir()];
  const [httpPort, rpcPort] = [freePort(), freePort()];
  const doc = loadDoc({
    httpPort,
    rpcPort,
    clusters: { c1: web.address },
    routeTo: "c1",
    sofa: sofa.address,
  });
  const squatter = Deno.listen({ hostname: "127.0.0.1", port: httpPort });
  let running: Awaited<ReturnType<typeof startProcess>> | undefined;
  try {
    await assert.rejects(
      startProcess(doc, { MOSN_STATE_DIR: dirs[0]! }),
      new RegExp(`cannot listen on 127.0.0.1:${httpPort}`),
    );
    squatter.close();
    running = await startProcess(doc, { MOSN_STATE_DIR: dirs[0]! });
    // Same ports, another state dir: not an upgrade, so the ports count as taken.
    await assert.rejects(
      startProcess(doc, { MOSN_STATE_DIR: dirs[1]! }),
      /Address already in use/,
    );
    assert.equal(await (await fetch(`http://127.0.0.1:${httpPort}/`)).text(), "web");
  } finally {
    try {
      squatter.close();
    } catch { /* closed */ }
    running?.kill("SIGKILL");
    await running?.exited;
    await web.close();
    await sofa.close();
    for (const d of dirs) await Deno.remove(d, { recursive: true });
  }
});

Deno.test("upgrade: the control socket hands over once; a second newcomer is refused", async () => {
  const { ControlClient } = await import("../../src/server/upgrade/control.ts");
  const web = origin(() => new Response("web"));
  const sofa = await startSofaServer();
  const stateDir = await Deno.makeTempDir();
  const doc = loadDoc({
    httpPort: freePort(),
    rpcPort: freePort(),
    clusters: { c1: web.address },
    routeTo: "c1",
    sofa: sofa.address,
  });
  const old = await startProcess(doc, { MOSN_STATE_DIR: stateDir });
  const [a, b] = [
    await ControlClient.connect(`${stateDir}/mosn.sock`),
    await ControlClient.connect(`${stateDir}/mosn.sock`),
  ];
  try {
    assert.ok(a && b, "the control socket answers");
    const hello = await a.hello();
    assert.equal(hello.pid, old.child.pid);
    assert.equal(hello.addresses.length, 3, "two listeners and the admin API");
    assert.ok(Array.isArray((hello.config as { servers?: unknown[] }).servers));
    const [first, second] = await Promise.allSettled([a.takeover(), b.takeover()]);
    assert.equal(first.status, "fulfilled");
    assert.equal(second.status, "rejected");
    assert.match(String((second as PromiseRejectedResult).reason), /handing over/);
    assert.equal(await old.exited, 0, "the old process drains and exits after handing over");
  } finally {
    a?.close();
    b?.close();
    old.kill("SIGKILL");
    await old.exited;
    await web.close();
    await sofa.close();
    await Deno.remove(stateDir, { recursive: true });
  }
});
