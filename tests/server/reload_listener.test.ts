import assert from "node:assert/strict";
import { startInProcess } from "../_support/mosn.ts";
import { origin, simpleRouter } from "../_support/http.ts";
import { freePort, readAll, writeAll } from "../_support/net.ts";
import { parseConfig } from "../../src/config/parse.ts";
import { PARSE_OPTIONS } from "../../src/server/parse_options.ts";

Deno.test("reload: a changed listener keeps its socket (TCP and unix path), so it serves throughout", async () => {
  const o = origin(() => new Response("ok"));
  const dir = await Deno.makeTempDir();
  const path = `${dir}/l.sock`;
  const port = freePort();
  const listener = (name: string, address: string, idle: string) => ({
    name,
    address,
    connection_idle_timeout: idle,
    filter_chains: [{ filters: [{ type: "proxy", config: { router_config_name: "r1" } }] }],
  });
  const doc = (idle: string) => ({
    servers: [{
      routers: [simpleRouter([{ match: { prefix: "/" }, route: { cluster_name: "c" } }])],
      listeners: [
        listener("tcp", `127.0.0.1:${port}`, idle),
        listener("unix", `unix:${path}`, idle),
      ],
    }],
    cluster_manager: { clusters: [{ name: "c", type: "SIMPLE", hosts: [{ address: o.address }] }] },
  });
  const mosn = startInProcess(doc("90s"));
  const tcp = Deno.createHttpClient({});
  const get = async (client: Deno.HttpClient, url: string) => {
    const r = await fetch(url, { client });
    return `${r.status} ${await r.text()}`;
  };
  const getUnix = async () => {
    const c = await Deno.connect({ transport: "unix", path });
    await writeAll(
      c,
      new TextEncoder().encode("GET / HTTP/1.1\r\nHost: u\r\nConnection: close\r\n\r\n"),
    );
    const text = new TextDecoder().decode(await readAll(c));
    c.close();
    return `${text.slice(9, 12)} ${text.slice(text.indexOf("\r\n\r\n") + 4)}`;
  };
  try {
    assert.equal(await get(tcp, `http://127.0.0.1:${port}/`), "200 ok");
    assert.equal(await getUnix(), "200 ok");
    for (const idle of ["60s", "30s"]) {
      const r = mosn.reload(parseConfig(doc(idle), PARSE_OPTIONS).config);
      assert.deepEqual(r.listeners.changed, ["tcp", "unix"]);
      await new Promise((r) => setTimeout(r, 100)); // the old sockets' deferred clean-up
      assert.equal(await get(tcp, `http://127.0.0.1:${port}/`), "200 ok");
      assert.equal(await getUnix(), "200 ok", "the unix path survived");
    }
    assert.deepEqual(
      mosn.config().servers[0]!.listeners.map((l) => l.connectionIdleTimeoutMs),
      [30_000, 30_000],
    );
  } finally {
    tcp.close();
    await mosn.stop("fast");
    await o.close();
    await Deno.remove(dir, { recursive: true });
  }
});
