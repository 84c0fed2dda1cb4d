/**
 * The real SOFARPC (bolt) and Dubbo peers in tests/_support/rpc/ work with each other directly
 * (no proxy), and what the real clients put on the wire decodes with the project's codecs.
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createXProtocol } from "../../../src/protocol/xprotocol/registry.ts";
import type { XFrame, XProtocol } from "../../../src/protocol/xprotocol/types.ts";
import {
  boltRawClient,
  HELLO_SERVICE,
  HELLO_SERVICE_ID,
  sofaClient,
  startSofaServer,
} from "../../_support/rpc/sofa.ts";
import {
  dubbo2jsClient,
  DUBBO_HELLO_SERVICE,
  type DubboConsumer,
  dubboRemotingClient,
  startDubboProvider,
} from "../../_support/rpc/dubbo.ts";
import { startTee } from "../../_support/rpc/tee.ts";

/** Every frame in `bytes` (which must hold whole frames only). */
function decodeAll(p: XProtocol, bytes: Uint8Array): XFrame[] {
  const out: XFrame[] = [];
  let off = 0;
  while (off < bytes.byteLength) {
    const r = p.decode(bytes.subarray(off));
    if (r === "again") throw new Error(`partial frame at ${off} of ${bytes.byteLength}`);
    out.push(r.frame);
    off += r.consumed;
  }
  return out;
}

async function eventually(cond: () => boolean, what: string, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

Deno.test("peers: sofa client → sofa server: sayHello, plus, unknown method", async () => {
  const server = await startSofaServer();
  const client = sofaClient({ address: server.address });
  try {
    assert.equal(await client.call(HELLO_SERVICE, "sayHello", ["peter"]), "hello peter");
    assert.equal(await client.call(HELLO_SERVICE, "plus", [1, 2]), 3);
    await assert.rejects(
      client.call(HELLO_SERVICE, "noSuchMethod", []),
      (e: Error) => /Can not find method: .*HelloService:1\.0#noSuchMethod/.test(e.message),
    );
    assert.deepEqual(
      server.calls.map((c) => [c.service, c.method, c.oneway]),
      [
        [HELLO_SERVICE_ID, "sayHello", false],
        [HELLO_SERVICE_ID, "plus", false],
        [HELLO_SERVICE_ID, "noSuchMethod", false],
      ],
    );
    assert.deepEqual(server.calls[1]?.args, [1, 2]);
    // RpcClient sends no heartbeats by default.
    assert.equal(server.heartbeats, 0);
  } finally {
    await client.close();
    await server.close();
  }
});

for (
  const variant of [
    { name: "v1", opts: { version: 1 as const }, proto: 1, crc: false },
    { name: "v2", opts: { version: 2 as const, crc: false }, proto: 2, crc: false },
    { name: "v2+crc", opts: { version: 2 as const, crc: true }, proto: 2, crc: true },
  ]
) {
  Deno.test(`peers: bolt raw client ${variant.name}: heartbeat, request, oneway`, async () => {
    const server = await startSofaServer();
    const raw = await boltRawClient(server.port, variant.opts);
    try {
      const ack = await raw.heartbeat(7);
      assert.equal(ack.packetType, "heartbeat_ack");
      assert.equal(ack.packetId, 7);
      assert.equal(server.heartbeats, 1);

      const res = await raw.call(
        { service: HELLO_SERVICE_ID, method: "sayHello", args: ["raw"] },
        8,
      );
      assert.equal(res.packetType, "response");
      assert.equal(res.data.appResponse, "hello raw");

      await raw.oneway({ service: HELLO_SERVICE_ID, method: "sayHello", args: ["one"] }, 9);
      await eventually(() => server.calls.length === 2, "the oneway call");
      assert.deepEqual(server.calls[1], {
        service: HELLO_SERVICE_ID,
        method: "sayHello",
        args: ["one"],
        oneway: true,
      });
      // A request after the oneway one is answered, and nothing answered the oneway.
      const plus = await raw.call({ service: HELLO_SERVICE_ID, method: "plus", args: [2, 3] }, 10);
      assert.equal(plus.data.appResponse, 5);
      assert.deepEqual(raw.received.map((p) => [p.packetType, p.packetId]), [
        ["heartbeat_ack", 7],
        ["response", 8],
        ["response", 10],
      ]);

      // What the server got, frame by frame, in the client's protocol version and CRC mode.
      assert.deepEqual(
        server.frames.map((f) => [f.proto, f.type, f.cmdCode, f.requestId]),
        [[variant.proto, 1, 0, 7], [variant.proto, 1, 1, 8], [variant.proto, 2, 1, 9], [
          variant.proto,
          1,
          1,
          10,
        ]],
      );
      if (variant.proto === 2) {
        for (const f of server.frames) assert.equal(f.raw[11], variant.crc ? 1 : 0);
      }
      // The frames the server received are the bytes the client sent.
      assert.deepEqual(
        raw.sentBytes(),
        new Uint8Array(Buffer.concat(server.frames.map((f) => f.raw))),
      );
    } finally {
      await raw.close();
      await server.close();
    }
  });
}

Deno.test("peers: the project's bolt codec decodes what the real clients sent", async () => {
  const server = await startSofaServer();
  const tee = startTee(server.port);
  const client = sofaClient({ address: tee.address });
  const raw2 = await boltRawClient(tee.port, { version: 2, crc: true });
  try {
    assert.equal(await client.call(HELLO_SERVICE, "sayHello", ["mosn"]), "hello mosn");
    assert.equal(
      (await raw2.call({ service: HELLO_SERVICE_ID, method: "plus", args: [1, 2] })).data
        .appResponse,
      3,
    );
    await raw2.heartbeat();
    await raw2.oneway({ service: HELLO_SERVICE_ID, method: "sayHello", args: ["x"] });
    await eventually(() => server.frames.length === 4, "4 frames at the server");
    await eventually(() => tee.connections.length === 2, "2 tee connections");

    // Connections may be recorded in either order: tell them apart by the protocol code.
    const v1Conn = tee.connections.find((c) => c.up[0] === 1)!;
    const v2Conn = tee.connections.find((c) => c.up[0] === 2)!;
    assert.ok(v1Conn && v2Conn);

    // RpcClient (bolt v1, hessian2)
    const [req] = decodeAll(createXProtocol("bolt"), v1Conn.up);
    assert.ok(req);
    assert.equal(req.kind, "request");
    assert.equal(req.headers.get("service"), HELLO_SERVICE_ID);
    assert.equal(
      (req.meta as { className: string }).className,
      "com.alipay.sofa.rpc.core.request.SofaRequest",
    );
    assert.equal(req.timeoutMs, 3000);
    const [resp] = decodeAll(createXProtocol("bolt"), v1Conn.down);
    assert.equal(resp?.kind, "response");
    assert.equal(resp?.requestId, req.requestId);
    assert.equal(resp?.status, 0);

    // sofa-bolt-node raw client, v2 + CRC: request, heartbeat, oneway
    const v2 = decodeAll(createXProtocol("boltv2"), v2Conn.up);
    assert.deepEqual(v2.map((f) => f.kind), ["request", "heartbeat", "oneway"]);
    assert.equal(v2[0]?.headers.get("service"), HELLO_SERVICE_ID);
    assert.equal(v2[2]?.headers.get("service"), HELLO_SERVICE_ID);
    const down = decodeAll(createXProtocol("boltv2"), v2Conn.down);
    assert.deepEqual(down.map((f) => f.kind), ["response", "heartbeat_ack"]);
  } finally {
    await raw2.close();
    await client.close();
    await tee.close();
    await server.close();
  }
});

const consumers: [string, (o: { address: string }) => DubboConsumer][] = [
  ["dubbo2.js DirectlyDubbo", dubbo2jsClient],
  ["sofa-rpc-node + dubbo-remoting", dubboRemotingClient],
];

for (const [name, make] of consumers) {
  Deno.test(`peers: ${name} → dubbo provider: sayHello, plus, unknown method`, async () => {
    const provider = await startDubboProvider();
    const consumer = make({ address: provider.address });
    try {
      assert.equal(
        await consumer.call(DUBBO_HELLO_SERVICE, "sayHello", ["peter"]),
        "hello peter",
      );
      assert.equal(await consumer.call(DUBBO_HELLO_SERVICE, "plus", [1, 2]), 3);
      await assert.rejects(
        consumer.call(DUBBO_HELLO_SERVICE, "noSuchMethod", []),
        (e: Error) => /Can not find method/.test(e.message),
      );
      assert.deepEqual(
        provider.calls.map((c) => [c.service, c.method, c.args]),
        [
          [`${DUBBO_HELLO_SERVICE}:1.0`, "sayHello", ["peter"]],
          [`${DUBBO_HELLO_SERVICE}:1.0`, "plus", [1, 2]],
          [`${DUBBO_HELLO_SERVICE}:1.0`, "noSuchMethod", []],
        ],
      );
      // request | two-way | hessian2
      for (const f of provider.frames) assert.equal(f.flag, 0xc2);
    } finally {
      await consumer.close();
      await provider.close();
    }
  });

  Deno.test(`peers: the project's dubbo codec decodes what ${name} sent`, async () => {
    const provider = await startDubboProvider();
    const tee = startTee(provider.port);
    const consumer = make({ address: tee.address });
    try {
      assert.equal(await consumer.call(DUBBO_HELLO_SERVICE, "sayHello", ["mosn"]), "hello mosn");
      assert.equal(await consumer.call(DUBBO_HELLO_SERVICE, "plus", [1, 2]), 3);
      await eventually(() => provider.frames.length === 2, "2 frames at the provider");
      const dubbo = createXProtocol("dubbo");
      const reqs = decodeAll(dubbo, tee.upBytes());
      assert.deepEqual(reqs.map((f) => f.kind), ["request", "request"]);
      assert.deepEqual(
        reqs.map((f) => [f.headers.get("service"), f.headers.get("method")]),
        [[DUBBO_HELLO_SERVICE, "sayHello"], [DUBBO_HELLO_SERVICE, "plus"]],
      );
      assert.equal(reqs[0]?.headers.get("version"), "1.0");
      const resps = decodeAll(dubbo, tee.connections[0]!.down);
      assert.deepEqual(resps.map((f) => [f.kind, f.status]), [["response", 20], ["response", 20]]);
      assert.deepEqual(resps.map((f) => f.requestId), reqs.map((f) => f.requestId));
    } finally {
      await consumer.close();
      await tee.close();
      await provider.close();
    }
  });
}
