/** python3-grpcio as a second real gRPC peer of the proxy (client and server side). */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { startInProcess } from "../_support/mosn.ts";
import { httpDoc, simpleRouter } from "../_support/http.ts";
import { pki } from "../_support/tls.ts";
import { type EchoClient, echoClient, grpc, type Msg, startEchoServer } from "../_support/grpc.ts";
import {
  type PyReport,
  requirePythonGrpc,
  runPythonClient,
  startPythonServer,
} from "../_support/pygrpc.ts";
import { tlsDoc } from "./_h2_tls.ts";

function grpcProxy(address: string) {
  return startInProcess(
    httpDoc({
      clusters: [{ name: "grpc", hosts: [{ address }] }],
      routers: [simpleRouter([
        { match: { prefix: "/mosn.test.Echo/" }, route: { cluster_name: "grpc" } },
      ])],
      proxy: { downstream_protocol: "Http2", upstream_protocol: "Http2" },
    }),
    { admin: true },
  );
}

// deno-lint-ignore no-explicit-any
async function stats(adminPort: number): Promise<any> {
  return await (await fetch(`http://127.0.0.1:${adminPort}/api/v1/stats`)).json();
}

/** The python client's report, the same whichever server is behind the proxy. */
function assertReport(r: PyReport): void {
  assert.deepEqual(r.unary.res, ["echo hi", 7]);
  assert.equal(r.unary.code, "OK");
  // grpc-js adds a date header; only ours matter.
  assert.equal(r.unary.headers["x-echo"], "hello-md");
  assert.equal(r.unary.trailers["x-trail"], "done");
  assert.equal(r.fail.code, "INVALID_ARGUMENT");
  assert.equal(r.fail.details, "bad input: ünïcode");
  assert.equal(r.fail.trailers["x-detail"], "why-it-failed");
  assert.equal(r.fail.trailers["x-bin-bin"], "000102ff");
  assert.deepEqual(r.server_stream, { count: 10_000, ordered: true });
  assert.deepEqual(r.bidi, { count: 1000, sum: 500_500, ordered: true });
  assert.deepEqual(r.cancel, { seen: 5, code: "CANCELLED" });
  assert.equal(r.deadline.code, "DEADLINE_EXCEEDED");
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test("grpc python: python client → mosn.ts (h2c) → grpc-js server", async () => {
  await requirePythonGrpc();
  const srv = await startEchoServer();
  const mosn = grpcProxy(srv.address);
  try {
    await mosn.listening();
    assertReport(await runPythonClient(mosn.listenerPort("http")));
    // The client's cancel is a reset through the proxy to the upstream. (grpc-js counts more
    // "cancelled" calls with grpcio as its client even without a proxy, so those aren't counted.)
    // The deadline call may add one more reset each way: whichever of the proxy's timer, the
    // client's and the server's fires first ends it.
    const s = await stats(mosn.adminPort!);
    assert.ok(Number(s.http2["listener.http"].reset_received_total) >= 1, "cancel received");
    assert.ok(Number(s.http2["cluster.grpc"].reset_sent_total) >= 1, "cancel sent upstream");
  } finally {
    await mosn.stop("fast");
    await srv.close();
  }
});

Deno.test("grpc python: python client → mosn.ts (h2c) → python server", async () => {
  await requirePythonGrpc();
  const srv = await startPythonServer();
  const mosn = grpcProxy(srv.address);
  try {
    await mosn.listening();
    const r = await runPythonClient(mosn.listenerPort("http"));
    assertReport(r);
    await until(() => srv.cancelled.length >= 2, "2 cancels at the python server");
    assert.deepEqual([...srv.cancelled].sort(), ["ServerStream", "Unary"]);
    // Neither python peer checks deadlines itself here: the proxy ended the "hang" call.
    assert.equal(r.deadline.details, "upstream request timeout");
    assert.equal((await stats(mosn.adminPort!)).upstream["cluster.grpc"].request_timeout, "1");
  } finally {
    await mosn.stop("fast");
    await srv.close();
  }
});

Deno.test("grpc python: python client over TLS → mosn.ts → grpc-js server", async () => {
  await requirePythonGrpc();
  const srv = await startEchoServer();
  const mosn = startInProcess(
    tlsDoc({ hosts: [{ address: srv.address }] }, {
      downstream_protocol: "Http2",
      upstream_protocol: "Http2",
    }),
  );
  try {
    await mosn.listening();
    assertReport(
      await runPythonClient(mosn.listenerPort("http"), {
        caPath: pki("ca.pem"),
        serverName: "a.example.com",
      }),
    );
  } finally {
    await mosn.stop("fast");
    await srv.close();
  }
});

function unary(c: EchoClient, req: Msg, md: grpc.Metadata, opts: grpc.CallOptions = {}) {
  return new Promise<{ err: grpc.ServiceError | null; res?: Msg; head?: grpc.Metadata }>(
    (resolve) => {
      let head: grpc.Metadata | undefined;
      const call = c.Unary(req, md, opts, (err, res) => resolve({ err, res, head }));
      call.on("metadata", (m) => (head = m));
    },
  );
}

Deno.test("grpc python: grpc-js client → mosn.ts (h2c) → python server", async () => {
  await requirePythonGrpc();
  const srv = await startPythonServer();
  const mosn = grpcProxy(srv.address);
  const c = echoClient(mosn.listenerPort("http"));
  try {
    await mosn.listening();
    const md = new grpc.Metadata();
    md.set("x-req", "from-js");
    const ok = await new Promise<{ res?: Msg; head?: grpc.Metadata; trail?: grpc.Metadata }>(
      (resolve, reject) => {
        let head: grpc.Metadata | undefined;
        let res: Msg | undefined;
        const call = c.Unary({ text: "hi", n: 3 }, md, {}, (e, r) => e ? reject(e) : (res = r));
        call.on("metadata", (m) => (head = m));
        call.on("status", (s) => resolve({ res, head, trail: s.metadata }));
      },
    );
    assert.deepEqual(ok.res, { text: "echo hi", n: 3 });
    assert.equal(ok.head?.get("x-echo")[0], "from-js");
    assert.equal(ok.trail?.get("x-trail")[0], "done");

    const fail = await unary(c, { text: "fail", n: 0 }, new grpc.Metadata());
    assert.equal(fail.err?.code, grpc.status.INVALID_ARGUMENT);
    assert.equal(fail.err?.details, "bad input: ünïcode");
    assert.equal(fail.err?.metadata.get("x-detail")[0], "why-it-failed");
    assert.deepEqual(fail.err?.metadata.get("x-bin-bin")[0], Buffer.from([0, 1, 2, 255]));

    let count = 0;
    for await (const m of c.ServerStream({ text: "go", n: 10_000 }) as AsyncIterable<Msg>) {
      assert.equal(m.n, count++);
    }
    assert.equal(count, 10_000);

    const bidi = c.Bidi();
    for (let i = 0; i < 500; i++) bidi.write({ text: "b", n: i });
    bidi.end();
    const echoed: number[] = [];
    for await (const m of bidi as AsyncIterable<Msg>) echoed.push(m.n);
    assert.deepEqual(echoed, Array.from({ length: 500 }, (_, i) => i + 1));

    // A client cancel mid-stream reaches the python server.
    const endless = c.ServerStream({ text: "go", n: -1 });
    await new Promise<void>((resolve) => {
      let seen = 0;
      endless.on("data", () => ++seen === 5 && (endless.cancel(), resolve()));
      endless.on("error", () => {});
    });
    await until(() => srv.cancelled.includes("ServerStream"), "the server to see the cancel");

    // The deadline: grpc-timeout on the wire, the proxy ends the call and cancels upstream.
    const late = await unary(c, { text: "hang", n: 0 }, new grpc.Metadata(), {
      deadline: Date.now() + 500,
    });
    assert.equal(late.err?.code, grpc.status.DEADLINE_EXCEEDED);
    await until(() => srv.cancelled.includes("Unary"), "the server to see the deadline");
  } finally {
    c.close();
    await mosn.stop("fast");
    await srv.close();
  }
});
