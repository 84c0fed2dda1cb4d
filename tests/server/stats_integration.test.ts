import assert from "node:assert/strict";
import { startInProcess, tcpProxyDoc } from "../_support/mosn.ts";
import { echoServer, readN, writeAll } from "../_support/net.ts";

// deno-lint-ignore no-explicit-any -- admin JSON is read loosely here; shapes are asserted below
async function getJson(port: number, path: string): Promise<any> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`);
  assert.equal(r.status, 200);
  return await r.json();
}

async function until(cond: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 100 && !(await cond()); i++) await new Promise((r) => setTimeout(r, 20));
}

Deno.test("stats move by exactly the number of proxied connections, in JSON and Prometheus", async () => {
  const echo = echoServer();
  const mosn = startInProcess(
    tcpProxyDoc([{ name: "c1", hosts: [{ address: echo.address }] }], { cluster: "c1" }),
    { admin: true },
  );
  const admin = mosn.adminPort;
  try {
    const before = await getJson(admin, "/api/v1/stats");
    assert.equal(before.downstream?.["listener.l1.proxy.global"]?.connection_total ?? "0", "0");
    const N = 7;
    const open: Deno.Conn[] = [];
    for (let i = 0; i < N; i++) {
      const c = await Deno.connect({ port: mosn.listenerPort("l1") });
      await writeAll(c, new Uint8Array([1, 2, 3, 4, 5]));
      assert.equal((await readN(c, 5)).byteLength, 5);
      open.push(c);
    }
    const mid = await getJson(admin, "/api/v1/stats");
    const down = mid.downstream["listener.l1.proxy.global"];
    assert.equal(down.connection_total, String(N));
    assert.equal(down.connection_active, String(N));
    assert.equal(down.bytes_read_total, String(5 * N));
    assert.equal(down.bytes_write_total, String(5 * N));
    const up = mid.upstream["cluster.c1"];
    assert.equal(up.connection_total, String(N));
    assert.equal(up.connection_active, String(N));
    assert.equal(mid.upstream[`cluster.c1.host.${echo.address}`].connection_total, String(N));

    for (const c of open) c.close();
    await until(async () =>
      (await getJson(admin, "/api/v1/stats")).downstream["listener.l1.proxy.global"]
        .connection_active === "0"
    );
    const after = await getJson(admin, "/api/v1/stats");
    assert.equal(after.downstream["listener.l1.proxy.global"].connection_active, "0");
    assert.equal(after.downstream["listener.l1.proxy.global"].connection_total, String(N));
    await until(async () =>
      (await getJson(admin, "/api/v1/stats")).upstream["cluster.c1"].connection_active === "0"
    );

    const prom = await (await fetch(`http://127.0.0.1:${admin}/stats/prometheus`)).text();
    assert.match(
      prom,
      new RegExp(`^mosn_downstream_connection_total\\{listener="l1",proxy="global"\\} ${N}$`, "m"),
    );
    assert.match(prom, new RegExp(`^mosn_upstream_connection_total\\{cluster="c1"\\} ${N}$`, "m"));
    assert.match(prom, /^# TYPE mosn_downstream_connection_active gauge$/m);

    const listeners = await getJson(admin, "/listeners?format=json");
    assert.equal(listeners.listener_statuses[0].name, "l1");
    const clusters = await (await fetch(`http://127.0.0.1:${admin}/clusters`)).text();
    assert.match(clusters, new RegExp(`^c1::${echo.address}::cx_total::${N}$`, "m"));
    assert.equal((await getJson(admin, "/api/v1/states")).state, "RUNNING");
  } finally {
    await mosn.stop("fast");
    await echo.close();
  }
});

Deno.test("a unix-socket listener proxies like a TCP one", async () => {
  const echo = echoServer();
  const dir = await Deno.makeTempDir();
  const path = `${dir}/mosn.sock`;
  const mosn = startInProcess(
    tcpProxyDoc([{ name: "c1", hosts: [{ address: echo.address }] }], { cluster: "c1" }, {
      address: `unix:${path}`,
    }),
  );
  try {
    const c = await Deno.connect({ transport: "unix", path });
    await writeAll(c, new TextEncoder().encode("over unix"));
    assert.equal(new TextDecoder().decode(await readN(c, 9)), "over unix");
    c.close();
  } finally {
    await mosn.stop("fast");
    await echo.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an idle connection is closed after connection_idle_timeout and counted", async () => {
  const echo = echoServer();
  const mosn = startInProcess(
    tcpProxyDoc([{ name: "c1", hosts: [{ address: echo.address }] }], { cluster: "c1" }, {
      connection_idle_timeout: "1s",
    }),
  );
  try {
    const c = await Deno.connect({ port: mosn.listenerPort("l1") });
    const started = Date.now();
    const n = await c.read(new Uint8Array(16)); // the proxy closes us: EOF
    assert.equal(n, null);
    assert.ok(Date.now() - started >= 900);
    c.close();
    const s = [...mosn.stats.scopes()].find((x) => x.type === "downstream");
    assert.equal(s?.counter("connection_idle_timeout").value, 1);
  } finally {
    await mosn.stop("fast");
    await echo.close();
  }
});
