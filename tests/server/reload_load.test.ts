import assert from "node:assert/strict";
import { startProcess } from "../_support/mosn.ts";
import { origin } from "../_support/http.ts";
import { freePort } from "../_support/net.ts";
import { startSofaServer } from "../_support/rpc/sofa.ts";
import { MixedLoad } from "./_load.ts";
import { loadDoc } from "./_upgrade_doc.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const LOAD_MS = 30_000;

Deno.test("reload under 30 s of load: a changed route and an added cluster, 0 failed requests, new requests follow the new route", async () => {
  const v1 = origin(() => new Response("v1"));
  const v2 = origin(() => new Response("v2"));
  const sofa = await startSofaServer();
  const stateDir = await Deno.makeTempDir();
  const [httpPort, rpcPort] = [freePort(), freePort()];
  const base = { httpPort, rpcPort, sofa: sofa.address };
  const mosn = await startProcess(
    loadDoc({ ...base, clusters: { c1: v1.address }, routeTo: "c1" }),
    { MOSN_STATE_DIR: stateDir },
  );
  const loads = new MixedLoad(httpPort, rpcPort, LOAD_MS);
  try {
    const t0 = Date.now();
    await sleep(LOAD_MS / 3);
    // The route now goes to c2, a cluster the reload adds; both listeners stay as they are.
    const next = loadDoc({ ...base, clusters: { c1: v1.address, c2: v2.address }, routeTo: "c2" });
    next.admin = JSON.parse(await Deno.readTextFile(mosn.configPath)).admin;
    await Deno.writeTextFile(mosn.configPath, JSON.stringify(next));
    const reloadedAt = loads.keepAlive.result.bodies.length;
    mosn.kill("SIGHUP");
    await sleep(Math.max(0, LOAD_MS - (Date.now() - t0)));
    const r = await loads.results();
    const summary = r.summary;
    console.log(`reload under load: ${summary}`);
    assert.equal(r.keepAlive.failed, 0, summary);
    assert.equal(r.connect.failed, 0, summary);
    assert.equal(r.bolt.failed, 0, summary);
    assert.ok(r.bolt.ok > 1000, summary);
    const bodies = r.keepAlive.bodies;
    const lastV1 = bodies.lastIndexOf("v1");
    assert.ok(lastV1 >= reloadedAt - 1 && lastV1 < reloadedAt + 1000, "v1 until the reload");
    const after = bodies.slice(lastV1 + 1);
    assert.ok(after.length > 1000, `${after.length} requests after the reload`);
    assert.ok(after.every((b) => b === "v2"), "requests after the reload follow the new route");
    assert.ok(v2.requests > 1000);
    assert.match(mosn.stderr(), /config reloaded/);
  } finally {
    await loads.close();
    mosn.kill("SIGKILL");
    await mosn.exited;
    await v1.close();
    await v2.close();
    await sofa.close();
    await Deno.remove(stateDir, { recursive: true });
  }
});
