import assert from "node:assert/strict";
import { startProcess } from "../_support/mosn.ts";
import { httpDoc, origin, simpleRouter } from "../_support/http.ts";
import { freePort } from "../_support/net.ts";
import { waitFor } from "../_support/wait.ts";

/** The document as the process has it (startProcess sets the admin port). */
async function readDoc(path: string): Promise<Record<string, unknown>> {
  return JSON.parse(await Deno.readTextFile(path));
}

Deno.test("reload: SIGHUP under load changes a route and adds a cluster with 0 failed requests", async () => {
  const v1 = origin(() => new Response("v1"));
  const v2 = origin(() => new Response("v2"));
  const port = freePort();
  const doc = httpDoc({
    clusters: [{ name: "c1", hosts: [{ address: v1.address }] }],
    routers: [simpleRouter([{ match: { prefix: "/" }, route: { cluster_name: "c1" } }])],
    listener: { address: `127.0.0.1:${port}` },
  });
  const mosn = await startProcess(doc);
  const client = Deno.createHttpClient({});
  let failures = 0;
  let running = true;
  const seen: string[] = [];
  const load = (async () => {
    while (running) {
      try {
        const r = await fetch(`http://127.0.0.1:${port}/`, { client });
        const t = await r.text();
        if (r.status !== 200) failures++;
        seen.push(t);
      } catch {
        failures++;
      }
    }
  })();
  try {
    await new Promise((r) => setTimeout(r, 500));
    const next = await readDoc(mosn.configPath);
    const cm = next.cluster_manager as { clusters: unknown[] };
    cm.clusters.push({ name: "c2", type: "SIMPLE", hosts: [{ address: v2.address }] });
    const servers = next.servers as { routers: unknown[] }[];
    servers[0]!.routers = [
      simpleRouter([{ match: { prefix: "/" }, route: { cluster_name: "c2" } }]),
    ];
    await Deno.writeTextFile(mosn.configPath, JSON.stringify(next));
    const before = seen.length;
    mosn.kill("SIGHUP");
    for (let i = 0; i < 200 && !seen.slice(before).includes("v2"); i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    // Requests after the switch (a count, not a time: the load loop is slower on a busy machine).
    await waitFor(
      () => seen.slice(seen.lastIndexOf("v1") + 1).length > 20,
      "twenty requests after the reload",
    );
    running = false;
    await load;
    assert.equal(failures, 0);
    assert.ok(seen.length > 100, `${seen.length} requests made`);
    const after = seen.slice(seen.lastIndexOf("v1") + 1);
    assert.ok(
      after.length > 10 && after.every((t) => t === "v2"),
      "requests after the reload follow the new route",
    );
    const dump = await (await fetch(`http://127.0.0.1:${mosn.adminPort}/api/v1/config_dump`))
      .json();
    assert.equal(dump.cluster_manager.clusters.length, 2, "config_dump shows the new config");
  } finally {
    running = false;
    await load;
    client.close();
    mosn.kill("SIGKILL");
    await mosn.exited;
    await v1.close();
    await v2.close();
  }
});

Deno.test("reload: an invalid config by SIGHUP or POST /api/v1/reload changes nothing and reports its errors", async () => {
  const v1 = origin(() => new Response("v1"));
  const port = freePort();
  const mosn = await startProcess(httpDoc({
    clusters: [{ name: "c1", hosts: [{ address: v1.address }] }],
    routers: [simpleRouter([{ match: { prefix: "/" }, route: { cluster_name: "c1" } }])],
    listener: { address: `127.0.0.1:${port}` },
  }));
  const admin = `http://127.0.0.1:${mosn.adminPort}`;
  try {
    const good = await Deno.readTextFile(mosn.configPath);
    const bad = JSON.parse(good);
    bad.servers[0].routers[0].virtual_hosts[0].routers[0].route.cluster_name = "nope";
    await Deno.writeTextFile(mosn.configPath, JSON.stringify(bad));
    mosn.kill("SIGHUP");
    for (let i = 0; i < 100 && !mosn.stderr().includes("reload refused"); i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.match(mosn.stderr(), /reload refused: invalid config/);
    assert.match(mosn.stderr(), /unknown cluster/);
    assert.equal(
      await (await fetch(`http://127.0.0.1:${port}/`)).text(),
      "v1",
      "still serving the old config",
    );

    const r = await fetch(`${admin}/api/v1/reload`, { method: "POST" });
    assert.equal(r.status, 400);
    const body = await r.json();
    assert.equal(body.ok, false);
    assert.ok(
      body.errors.some((e: string) => e.includes('route.cluster_name: unknown cluster "nope"')),
      JSON.stringify(body.errors),
    );
    const g = await fetch(`${admin}/api/v1/reload`);
    await g.body?.cancel();
    assert.equal(g.status, 405);

    await Deno.writeTextFile(mosn.configPath, good);
    const ok = await fetch(`${admin}/api/v1/reload`, { method: "POST" });
    assert.equal(ok.status, 200);
    assert.equal((await ok.json()).ok, true);
    assert.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), "v1");
  } finally {
    mosn.kill("SIGKILL");
    await mosn.exited;
    await v1.close();
  }
});

Deno.test("reload: unchanged listeners keep their connections, added ones serve, removed ones drain", async () => {
  const { startInProcess } = await import("../_support/mosn.ts");
  const { parseConfig } = await import("../../src/config/parse.ts");
  const { PARSE_OPTIONS } = await import("../../src/server/parse_options.ts");
  const o = origin(() => new Response("ok"));
  const [pa, pb, pc] = [freePort(), freePort(), freePort()];
  const listener = (name: string, port: number) => ({
    name,
    address: `127.0.0.1:${port}`,
    filter_chains: [{ filters: [{ type: "proxy", config: { router_config_name: "r1" } }] }],
  });
  const doc = (names: [string, number][]) => ({
    servers: [{
      routers: [simpleRouter([{ match: { prefix: "/" }, route: { cluster_name: "c" } }])],
      listeners: names.map(([n, p]) => listener(n, p)),
    }],
    cluster_manager: { clusters: [{ name: "c", type: "SIMPLE", hosts: [{ address: o.address }] }] },
  });
  const mosn = startInProcess(doc([["a", pa], ["b", pb]]));
  const client = Deno.createHttpClient({});
  try {
    const get = async (port: number) => {
      const r = await fetch(`http://127.0.0.1:${port}/`, { client });
      return await r.text();
    };
    assert.equal(await get(pa), "ok");
    assert.equal(await get(pb), "ok");
    // An idle keep-alive connection to b, open across the reload.
    const idleB = await Deno.connect({ hostname: "127.0.0.1", port: pb });
    await idleB.write(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: t\r\n\r\n"));
    await idleB.read(new Uint8Array(4096));
    const result = mosn.reload(parseConfig(doc([["a", pa], ["c", pc]]), PARSE_OPTIONS).config);
    assert.deepEqual(result.listeners, { added: ["c"], changed: [], removed: ["b"] });
    assert.equal(await get(pa), "ok", "unchanged listener a keeps serving");
    assert.equal(await get(pc), "ok", "added listener c serves at once");
    // b drains: its idle connection is closed politely, and it accepts no new ones.
    const n = await idleB.read(new Uint8Array(16)).catch(() => null);
    assert.equal(n, null, "b's idle keep-alive connection was closed");
    idleB.close();
    await assert.rejects(
      Deno.connect({ hostname: "127.0.0.1", port: pb }),
      "b accepts no new connections",
    );
    assert.deepEqual(mosn.listeners().map((l) => l.name), ["a", "c"]);
  } finally {
    client.close();
    await mosn.stop("fast");
    await o.close();
  }
});
