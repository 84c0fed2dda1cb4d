import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { startInProcess } from "../_support/mosn.ts";
import { httpDoc, simpleRouter } from "../_support/http.ts";
import { h2Origin, run } from "../_support/h2.ts";
import { type EchoClient, echoClient, grpc, type Msg, startEchoServer } from "../_support/grpc.ts";

const N = 10_000;

function grpcProxy(address: string, route: Record<string, unknown> = {}) {
  return startInProcess(
    httpDoc({
      clusters: [{ name: "grpc", hosts: [{ address }] }],
      routers: [simpleRouter([
        {
          match: {
            prefix: "/mosn.test.Echo/",
            headers: [{ name: "content-type", value: "application/grpc" }],
          },
          route: { cluster_name: "grpc", ...route },
        },
      ])],
      proxy: { downstream_protocol: "Http2", upstream_protocol: "Http2" },
    }),
    { admin: true },
  );
}

function unary(c: EchoClient, req: Msg, md = new grpc.Metadata(), opts: grpc.CallOptions = {}) {
  return new Promise<
    { err: grpc.ServiceError | null; res?: Msg; head?: grpc.Metadata; trail?: grpc.Metadata }
  >(
    (resolve) => {
      let head: grpc.Metadata | undefined;
      let trail: grpc.Metadata | undefined;
      const call = c.Unary(req, md, opts, (err, res) => {
        // The status event (with trailers) may come after the callback.
        setTimeout(() => resolve({ err, res, head, trail }), 20);
      });
      call.on("metadata", (m) => (head = m));
      call.on("status", (s) => (trail = s.metadata));
    },
  );
}

Deno.test("grpc: unary with metadata and trailers, routed on :path and content-type", async () => {
  const srv = await startEchoServer();
  const mosn = grpcProxy(srv.address);
  const c = echoClient(mosn.listenerPort("http"));
  try {
    const md = new grpc.Metadata();
    md.set("x-req", "hello-md");
    const r = await unary(c, { text: "hi", n: 7 }, md);
    assert.equal(r.err, null);
    assert.deepEqual(r.res, { text: "echo hi", n: 7 });
    assert.equal(r.head?.get("x-echo")[0], "hello-md");
    assert.equal(r.trail?.get("x-trail")[0], "done");
  } finally {
    c.close();
    await mosn.stop("fast");
    await srv.close();
  }
});

Deno.test("grpc: an error status, its message and custom (binary) trailers arrive intact", async () => {
  const srv = await startEchoServer();
  const mosn = grpcProxy(srv.address);
  const c = echoClient(mosn.listenerPort("http"));
  try {
    const r = await unary(c, { text: "fail", n: 0 });
    assert.equal(r.err?.code, grpc.status.INVALID_ARGUMENT);
    assert.equal(r.err?.details, "bad input: ünïcode");
    assert.equal(r.err?.metadata.get("x-detail")[0], "why-it-failed");
    assert.deepEqual(r.err?.metadata.get("x-bin-bin")[0], Buffer.from([0, 1, 2, 255]));
  } finally {
    c.close();
    await mosn.stop("fast");
    await srv.close();
  }
});

Deno.test("grpc: server streaming, 10 000 messages on one stream", async () => {
  const srv = await startEchoServer();
  const mosn = grpcProxy(srv.address);
  const c = echoClient(mosn.listenerPort("http"));
  try {
    const call = c.ServerStream({ text: "go", n: N });
    let count = 0;
    let ordered = true;
    for await (const m of call as AsyncIterable<Msg>) {
      if (m.n !== count) ordered = false;
      count++;
    }
    assert.equal(count, N);
    assert.ok(ordered);
  } finally {
    c.close();
    await mosn.stop("fast");
    await srv.close();
  }
});

Deno.test("grpc: client streaming, 10 000 messages on one stream", async () => {
  const srv = await startEchoServer();
  const mosn = grpcProxy(srv.address);
  const c = echoClient(mosn.listenerPort("http"));
  try {
    const res = await new Promise<Msg>((resolve, reject) => {
      const call = c.ClientStream((err, r) => err ? reject(err) : resolve(r!));
      let i = 0;
      const pump = () => {
        while (i < N) {
          if (!call.write({ text: "x".repeat(20), n: i++ })) return void call.once("drain", pump);
        }
        call.end();
      };
      pump();
    });
    assert.equal(res.n, N);
    assert.equal(res.text, `sum ${(N * (N - 1)) / 2}`);
  } finally {
    c.close();
    await mosn.stop("fast");
    await srv.close();
  }
});

Deno.test("grpc: bidi streaming, 10 000 messages each way on one stream", async () => {
  const srv = await startEchoServer();
  const mosn = grpcProxy(srv.address);
  const c = echoClient(mosn.listenerPort("http"));
  try {
    const call = c.Bidi();
    const got = (async () => {
      let count = 0;
      let sum = 0;
      for await (const m of call as AsyncIterable<Msg>) {
        count++;
        sum += m.n;
      }
      return { count, sum };
    })();
    let i = 0;
    await new Promise<void>((resolve) => {
      const pump = () => {
        while (i < N) {
          if (!call.write({ text: "b", n: i++ })) return void call.once("drain", pump);
        }
        call.end();
        resolve();
      };
      pump();
    });
    const r = await got;
    assert.equal(r.count, N);
    assert.equal(r.sum, (N * (N - 1)) / 2 + N);
  } finally {
    c.close();
    await mosn.stop("fast");
    await srv.close();
  }
});

Deno.test("grpc: a client cancel reaches the server as a cancelled call", async () => {
  const srv = await startEchoServer();
  const mosn = grpcProxy(srv.address);
  const c = echoClient(mosn.listenerPort("http"));
  try {
    const call = c.ServerStream({ text: "go", n: -1 });
    await new Promise<void>((resolve) => {
      let seen = 0;
      call.on("data", () => {
        if (++seen === 5) {
          call.cancel();
          resolve();
        }
      });
      call.on("error", () => {});
    });
    const deadline = Date.now() + 10_000;
    while (srv.cancelled === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(srv.cancelled, 1);
    const stats = await (await fetch(`http://127.0.0.1:${mosn.adminPort}/api/v1/stats`)).json();
    assert.equal(stats.http2["listener.http"].reset_received_total, "1");
    assert.equal(stats.http2["cluster.grpc"].reset_sent_total, "1");
  } finally {
    c.close();
    await mosn.stop("fast");
    await srv.close();
  }
});

Deno.test("grpc: retries on a listed grpc-status (trailers-only UNAVAILABLE)", async () => {
  const srv = await startEchoServer();
  const mosn = grpcProxy(srv.address, {
    retry_policy: { retry_on: "unavailable,cancelled", num_retries: 3 },
  });
  const c = echoClient(mosn.listenerPort("http"));
  try {
    const r = await unary(c, { text: "unavailable", n: 1 });
    assert.equal(r.err, null);
    assert.equal(r.res?.text, "echo unavailable");
    assert.equal(srv.attempts, 3);
  } finally {
    c.close();
    await mosn.stop("fast");
    await srv.close();
  }
});

Deno.test("grpc: proxy-made failures are gRPC statuses (no upstream → UNAVAILABLE)", async () => {
  const srv = await startEchoServer();
  const dead = srv.address;
  await srv.close();
  const mosn = grpcProxy(dead);
  const c = echoClient(mosn.listenerPort("http"));
  try {
    const r = await unary(c, { text: "x", n: 1 });
    assert.equal(r.err?.code, grpc.status.UNAVAILABLE);
    // No route for an unknown method: UNIMPLEMENTED.
    const other = await run("curl", [
      "-sS",
      "-i",
      "--http2-prior-knowledge",
      "-H",
      "content-type: application/grpc",
      "-d",
      "",
      `http://127.0.0.1:${mosn.listenerPort("http")}/other.Svc/M`,
    ]);
    assert.match(other.stdout, /grpc-status: 12/);
  } finally {
    c.close();
    await mosn.stop("fast");
  }
});

Deno.test("grpc: grpc-timeout bounds the request (DEADLINE_EXCEEDED from the proxy)", async () => {
  // An origin that never answers: only the proxy can end the call.
  const o = await h2Origin(() => {});
  const mosn = grpcProxy(o.address);
  try {
    const r = await run("curl", [
      "-sS",
      "-i",
      "--http2-prior-knowledge",
      "-H",
      "content-type: application/grpc",
      "-H",
      "grpc-timeout: 300m",
      "-d",
      "",
      `http://127.0.0.1:${mosn.listenerPort("http")}/mosn.test.Echo/Unary`,
    ]);
    assert.match(r.stdout, /^HTTP\/2 200/);
    assert.match(r.stdout, /grpc-status: 4/);
    assert.match(r.stdout, /content-type: application\/grpc/);
  } finally {
    await mosn.stop("fast");
    await o.close();
  }
});
