import assert from "node:assert/strict";
import { startInProcess } from "../_support/mosn.ts";
import { httpDoc, origin, simpleRouter } from "../_support/http.ts";
import { freePort } from "../_support/net.ts";

async function post(port: number, path: string, body?: unknown) {
  const r = await fetch(`http://127.0.0.1:${port}${path}`, {
    method: "POST",
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: r.status, json: await r.json() };
}

async function text(url: string): Promise<[number, string]> {
  const r = await fetch(url);
  return [r.status, await r.text()];
}

Deno.test("update_config adds a listener that serves at once; update_route adds a route the next request follows", async () => {
  const a = origin(() => new Response("a"));
  const b = origin(() => new Response("b"));
  const mosn = startInProcess(
    httpDoc({
      clusters: [{ name: "a", hosts: [{ address: a.address }] }, {
        name: "b",
        hosts: [{ address: b.address }],
      }],
      routers: [simpleRouter([{ match: { prefix: "/" }, route: { cluster_name: "a" } }])],
    }),
    { admin: true },
  );
  const admin = mosn.adminPort;
  const port = mosn.listenerPort("http");
  try {
    const newPort = freePort();
    const add = await post(admin, "/api/v1/update_config", {
      type: "listener",
      config: {
        name: "extra",
        address: `127.0.0.1:${newPort}`,
        filter_chains: [{ filters: [{ type: "proxy", config: { router_config_name: "r1" } }] }],
      },
    });
    assert.equal(add.status, 200, JSON.stringify(add.json));
    assert.deepEqual(add.json.listeners.added, ["extra"]);
    assert.deepEqual(await text(`http://127.0.0.1:${newPort}/`), [200, "a"]);

    const route = await post(admin, "/api/v1/update_route", {
      router_config_name: "r1",
      route: { match: { prefix: "/b" }, route: { cluster_name: "b" } },
    });
    assert.equal(route.status, 200, JSON.stringify(route.json));
    assert.deepEqual(await text(`http://127.0.0.1:${port}/b`), [200, "b"]);
    assert.deepEqual(await text(`http://127.0.0.1:${port}/x`), [200, "a"]);

    const dump = await (await fetch(`http://127.0.0.1:${admin}/api/v1/config_dump`)).json();
    assert.equal(dump.servers[0].routers[0].virtual_hosts[0].routers[0].match.prefix, "/b");

    const removed = await post(admin, "/api/v1/update_route", {
      router_config_name: "r1",
      remove: 0,
    });
    assert.equal(removed.status, 200);
    assert.deepEqual(await text(`http://127.0.0.1:${port}/b`), [200, "a"]);

    // An invalid update changes nothing and names the problem.
    const bad = await post(admin, "/api/v1/update_config", {
      type: "cluster",
      config: { name: "c", lb_type: "LB_NOPE", hosts: [] },
    });
    assert.equal(bad.status, 400);
    assert.ok(bad.json.errors.some((e: string) => /lb_type/.test(e)), JSON.stringify(bad.json));
    assert.equal(mosn.clusterManager.get("c"), undefined);
  } finally {
    await mosn.stop("fast");
    await a.close();
    await b.close();
  }
});

Deno.test("drain controls: /healthcheck/fail turns /ready 503, drain_listeners stops accepting", async () => {
  const a = origin(() => new Response("a"));
  const mosn = startInProcess(
    httpDoc({
      clusters: [{ name: "a", hosts: [{ address: a.address }] }],
      routers: [simpleRouter([{ match: { prefix: "/" }, route: { cluster_name: "a" } }])],
    }),
    { admin: true },
  );
  const admin = `http://127.0.0.1:${mosn.adminPort}`;
  const port = mosn.listenerPort("http");
  try {
    assert.deepEqual(await text(`${admin}/ready`), [200, "LIVE\n"]);
    assert.equal((await post(mosn.adminPort, "/healthcheck/fail")).status, 200);
    assert.equal((await text(`${admin}/ready`))[0], 503);
    assert.deepEqual(await text(`http://127.0.0.1:${port}/`), [200, "a"], "traffic still served");
    assert.equal((await post(mosn.adminPort, "/healthcheck/ok")).status, 200);
    assert.equal((await text(`${admin}/ready`))[0], 200);

    const get = await fetch(`${admin}/api/v1/drain_listeners`);
    await get.body?.cancel();
    assert.equal(get.status, 405, "mutations are POST-only");
    assert.equal((await post(mosn.adminPort, "/api/v1/drain_listeners?graceful")).status, 200);
    assert.deepEqual(await text(`${admin}/ready`), [503, "DRAINING\n"]);
    await assert.rejects(Deno.connect({ hostname: "127.0.0.1", port }));
  } finally {
    await mosn.stop("fast");
    await a.close();
  }
});
