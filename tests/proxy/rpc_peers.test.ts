/**
 * Real SOFARPC and Dubbo peers through the proxy: sofa-rpc-node client/server, the raw bolt
 * client (v1, v2, v2+CRC), and two Dubbo consumers (dubbo2.js, sofa-rpc-node + dubbo-remoting).
 */

import { rpcDoc } from "../_support/rpc/proxy_doc.ts";
import assert from "node:assert/strict";
import { startInProcess } from "../_support/mosn.ts";
import {
  boltRawClient,
  HELLO_SERVICE,
  HELLO_SERVICE_ID,
  sofaClient,
  startSofaServer,
} from "../_support/rpc/sofa.ts";
import {
  dubbo2jsClient,
  DUBBO_HELLO_SERVICE,
  dubboRemotingClient,
  startDubboProvider,
} from "../_support/rpc/dubbo.ts";

async function eventually(cond: () => boolean, what: string, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

Deno.test("sofa-rpc-node client → proxy → sofa-rpc-node server: sayHello, plus(1,2) = 3, an unknown method's exception intact", async () => {
  const server = await startSofaServer();
  const mosn = startInProcess(rpcDoc("bolt", server.address));
  const client = sofaClient({ address: `127.0.0.1:${mosn.listenerPort("rpc")}` });
  try {
    assert.equal(await client.call(HELLO_SERVICE, "sayHello", ["peter"]), "hello peter");
    assert.equal(await client.call(HELLO_SERVICE, "plus", [1, 2]), 3);
    await assert.rejects(
      client.call(HELLO_SERVICE, "noSuchMethod", []),
      (e: Error) => /Can not find method: .*HelloService:1\.0#noSuchMethod/.test(e.message),
    );
    assert.equal(server.connections, 1);
  } finally {
    await client.close();
    await mosn.stop("fast");
    await server.close();
  }
});

for (
  const variant of [
    { name: "v1", opts: { version: 1 as const }, protocol: "bolt" },
    { name: "v2 with CRC", opts: { version: 2 as const, crc: true }, protocol: "boltv2" },
  ]
) {
  Deno.test(`sofa-bolt raw client ${variant.name} through the proxy: request, oneway reaches the server, heartbeat answered by the proxy`, async () => {
    const server = await startSofaServer();
    const mosn = startInProcess(rpcDoc(variant.protocol, server.address));
    const raw = await boltRawClient(mosn.listenerPort("rpc"), variant.opts);
    try {
      const ack = await raw.heartbeat(7);
      assert.equal(ack.packetType, "heartbeat_ack");
      assert.equal(ack.packetId, 7);
      assert.equal(server.heartbeats, 0, "the proxy answered the heartbeat itself");
      const res = await raw.call(
        { service: HELLO_SERVICE_ID, method: "sayHello", args: ["raw"] },
        8,
      );
      assert.equal(res.packetId, 8);
      assert.equal(res.data.appResponse, "hello raw");
      await raw.oneway({ service: HELLO_SERVICE_ID, method: "sayHello", args: ["one"] }, 9);
      await eventually(() => server.calls.some((c) => c.oneway), "the oneway call at the server");
      const plus = await raw.call({ service: HELLO_SERVICE_ID, method: "plus", args: [2, 3] }, 10);
      assert.equal(plus.data.appResponse, 5);
      assert.deepEqual(raw.received.map((p) => [p.packetType, p.packetId]), [
        ["heartbeat_ack", 7],
        ["response", 8],
        ["response", 10],
      ]);
    } finally {
      await raw.close();
      await mosn.stop("fast");
      await server.close();
    }
  });
}

for (
  const consumer of [
    { name: "dubbo2.js", make: dubbo2jsClient },
    { name: "sofa-rpc-node + dubbo-remoting", make: dubboRemotingClient },
  ]
) {
  Deno.test(`${consumer.name} → proxy → dubbo provider: sayHello and plus`, async () => {
    const provider = await startDubboProvider();
    const mosn = startInProcess(rpcDoc("dubbo", provider.address));
    const client = consumer.make({ address: `127.0.0.1:${mosn.listenerPort("rpc")}` });
    try {
      assert.equal(await client.call(DUBBO_HELLO_SERVICE, "sayHello", ["dubbo"]), "hello dubbo");
      assert.equal(await client.call(DUBBO_HELLO_SERVICE, "plus", [1, 2]), 3);
    } finally {
      await client.close();
      await mosn.stop("fast");
      await provider.close();
    }
  });
}
