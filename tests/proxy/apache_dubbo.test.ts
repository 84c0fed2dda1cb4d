/**
 * apache-dubbo-service (apache/dubbo-js provider) behind the proxy: a dubbo2.js consumer calls it
 * through mosn, and an upstream multiplex connection to it survives its non-standard heartbeat
 * reply (flag 0x62, status 0, id 0).
 */

import { rpcDoc } from "../_support/rpc/proxy_doc.ts";
import assert from "node:assert/strict";
import { startInProcess } from "../_support/mosn.ts";
import { dubbo2jsClient, DUBBO_HELLO_SERVICE, dubboRemotingClient } from "../_support/rpc/dubbo.ts";
import { startApacheDubboProvider } from "../_support/rpc/apache_dubbo.ts";
import { Connection, FilterStatus } from "../../src/network/connection.ts";
import { dubbo } from "../../src/protocol/xprotocol/dubbo/codec.ts";
import { XClientConnection } from "../../src/stream/xprotocol/client_connection.ts";
import { waitFor } from "../_support/wait.ts";

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const APACHE_HEARTBEAT_REPLY = "dabb62000000000000000000000000014e";

for (
  const consumer of [
    { name: "dubbo2.js", make: dubbo2jsClient },
    { name: "sofa-rpc-node + dubbo-remoting", make: dubboRemotingClient },
  ]
) {
  Deno.test(`${consumer.name} → proxy → apache-dubbo-service: sayHello`, async () => {
    const provider = await startApacheDubboProvider();
    const mosn = startInProcess(rpcDoc("dubbo", provider.address));
    const client = consumer.make({ address: `127.0.0.1:${mosn.listenerPort("rpc")}` });
    try {
      assert.equal(await client.call(DUBBO_HELLO_SERVICE, "sayHello", ["apache"]), "hello apache");
      assert.equal(await client.call(DUBBO_HELLO_SERVICE, "sayHello", ["again"]), "hello again");
      assert.deepEqual(provider.calls.map((c) => c.args), [["apache"], ["again"]]);
    } finally {
      await client.close();
      await mosn.stop("fast");
      await provider.close();
    }
  });
}

Deno.test("multiplex client: a connection to apache-dubbo-service survives its non-standard heartbeat reply", async () => {
  const provider = await startApacheDubboProvider();
  const mosn = startInProcess(rpcDoc("dubbo", provider.address));
  const conn = new Connection(await Deno.connect({ hostname: "127.0.0.1", port: provider.port }));
  // Taps what the provider sends before the client connection sees it.
  const received: string[] = [];
  conn.addReadFilter({
    onData(data) {
      received.push(hex(data));
      return FilterStatus.Continue;
    },
  });
  const client = new XClientConnection(conn, dubbo, { intervalMs: 50, maxFailures: 3 });
  conn.start();
  const consumer = dubbo2jsClient({ address: `127.0.0.1:${mosn.listenerPort("rpc")}` });
  try {
    const replyCount = () => received.join("").split(APACHE_HEARTBEAT_REPLY).length - 1;
    await waitFor(() => replyCount() >= 3, "three heartbeat replies");
    const replies = replyCount();
    assert.ok(replies >= 3, `the provider answered ${replies} heartbeats with its odd frame`);
    assert.equal(conn.closed, false, "the odd heartbeat replies keep the connection open");
    assert.equal(client.inflight, 0);
    assert.equal(
      await consumer.call(DUBBO_HELLO_SERVICE, "sayHello", ["after"]),
      "hello after",
    );
  } finally {
    await consumer.close();
    conn.close("now");
    await mosn.stop("fast");
    await provider.close();
  }
});
