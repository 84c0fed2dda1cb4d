import assert from "node:assert/strict";
import { startInProcess } from "../_support/mosn.ts";
import { readAll } from "../_support/net.ts";
import { rpcDoc } from "../_support/rpc/proxy_doc.ts";
import { parseConfig } from "../../src/config/parse.ts";
import { PARSE_OPTIONS } from "../../src/server/parse_options.ts";
import sofaRpc from "sofa-rpc-node";
import {
  HELLO_SERVICE,
  HELLO_VERSION,
  quietLogger,
  startSofaServer,
} from "../_support/rpc/sofa.ts";
import { waitAccepted } from "../_support/wait.ts";

function goAwayDoc(upstream: string, enable: boolean): Record<string, unknown> {
  const doc = rpcDoc("bolt", upstream) as {
    servers: {
      listeners: { filter_chains: { filters: { config: Record<string, unknown> }[] }[] }[];
    }[];
  };
  if (enable) {
    doc.servers[0]!.listeners[0]!.filter_chains[0]!.filters[0]!.config.extend_config = {
      bolt: { enable_bolt_goaway: true },
    };
  }
  return doc;
}

Deno.test("bolt GoAway: a draining listener sends cmd code 100 at a quiet moment where enable_bolt_goaway is set, then closes the idle connection", async () => {
  const sofa = await startSofaServer();
  for (const enable of [true, false]) {
    const mosn = startInProcess(goAwayDoc(sofa.address, enable));
    try {
      const c = await Deno.connect({ hostname: "127.0.0.1", port: mosn.listenerPort("rpc") });
      // Let the listener accept it before draining.
      await waitAccepted(c);
      mosn.drainListeners(true);
      const bytes = await readAll(c); // until the proxy closes it
      c.close();
      if (enable) {
        assert.equal(bytes.byteLength, 22, "one bare bolt v1 request header");
        const v = new DataView(bytes.buffer);
        assert.equal(bytes[0], 1, "bolt v1");
        assert.equal(bytes[1], 1, "type request");
        assert.equal(v.getUint16(2), 100, "cmd code GoAway");
        assert.equal(v.getUint32(5), 0, "request id 0");
        assert.equal(v.getUint32(18), 0, "no content");
      } else {
        assert.equal(bytes.byteLength, 0, "no GoAway unless enabled");
      }
    } finally {
      await mosn.stop("fast");
    }
  }
  await sofa.close();
});

Deno.test("bolt GoAway: sofa-rpc-node drops the connection on the frame and its next call reconnects", async () => {
  const sofa = await startSofaServer();
  const doc = goAwayDoc(sofa.address, true) as {
    servers: { listeners: Record<string, unknown>[] }[];
  };
  const mosn = startInProcess(structuredClone(doc));
  const port = mosn.listenerPort("rpc");
  // The listener keeps its port; a changed setting makes the reload retire (drain) the old one.
  const l = doc.servers[0]!.listeners[0]!;
  l.address = `127.0.0.1:${port}`;
  l.connection_idle_timeout = "77s";
  const next = parseConfig(doc, PARSE_OPTIONS).config;
  const logger = quietLogger();
  const client = new sofaRpc.client.RpcClient({ logger }) as {
    createConsumer(o: Record<string, unknown>): {
      ready(): Promise<void>;
      invoke(m: string, args: unknown[], o: Record<string, unknown>): Promise<unknown>;
    };
    on(e: string, f: () => void): void;
    close(): Promise<void>;
  };
  client.on("error", () => {});
  const consumer = client.createConsumer({
    interfaceName: HELLO_SERVICE,
    version: HELLO_VERSION,
    serverHost: `127.0.0.1:${port}`,
  });
  const call = (name: string) => consumer.invoke("sayHello", [name], { responseTimeout: 3000 });
  const connections = () =>
    mosn.stats.scope("downstream", { listener: "rpc", proxy: "global" })
      .counter("connection_total").value;
  try {
    await consumer.ready();
    assert.equal(await call("a"), "hello a");
    assert.deepEqual(mosn.reload(next).listeners.changed, ["rpc"]);
    // The old socket retires after a short hand-off; its idle connection gets the GoAway once
    // it has been quiet for a second.
    await new Promise((r) => setTimeout(r, 1800));
    // sofa-rpc-node 2.10 has no GoAway: its decoder rejects cmd code 100 and it closes the
    // connection (a call in flight on it would fail); the next call opens a new one.
    assert.equal(await call("b"), "hello b");
    assert.equal(
      connections(),
      2,
      `the second call came on a new connection (${connections()}, ${
        mosn.listeners()[0]!.activeConnections
      })`,
    );
  } finally {
    await client.close();
    await mosn.stop("fast");
    await sofa.close();
  }
});
