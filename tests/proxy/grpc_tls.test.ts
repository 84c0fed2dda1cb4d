import assert from "node:assert/strict";
import { startInProcess } from "../_support/mosn.ts";
import { pem, pki } from "../_support/tls.ts";
import { type EchoClient, echoClient, grpc, type Msg, startEchoServer } from "../_support/grpc.ts";
import { tlsDoc } from "./_h2_tls.ts";

function unary(c: EchoClient, req: Msg, md = new grpc.Metadata()) {
  return new Promise<{ err: grpc.ServiceError | null; res?: Msg; trail?: grpc.Metadata }>(
    (resolve) => {
      let trail: grpc.Metadata | undefined;
      let err: grpc.ServiceError | null = null;
      let res: Msg | undefined;
      let pending = 2;
      const done = () => --pending === 0 && resolve({ err, res, trail });
      const call = c.Unary(req, md, {}, (e, r) => {
        err = e;
        res = r;
        done();
      });
      call.on("status", (s) => {
        trail = s.metadata;
        done();
      });
    },
  );
}

function serverStream(c: EchoClient, n: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let got = 0;
    const call = c.ServerStream({ text: "s", n });
    call.on("data", () => got++);
    call.on("error", reject);
    call.on("end", () => resolve(got));
  });
}

function bidi(c: EchoClient, n: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const got: number[] = [];
    const call = c.Bidi();
    call.on("data", (m: Msg) => got.push(m.n));
    call.on("error", reject);
    call.on("end", () => resolve(got));
    for (let i = 0; i < n; i++) call.write({ text: "b", n: i });
    call.end();
  });
}

for (const upstream of ["TLS", "h2c"] as const) {
  Deno.test(`gRPC over TLS through the proxy to a ${upstream} grpc-js server: unary, streaming, trailers`, async () => {
    const srv = await startEchoServer(
      upstream === "TLS"
        ? { tls: { cert: pem("b.pem"), key: pem("b.key"), ca: pem("ca.pem") } }
        : {},
    );
    const mosn = startInProcess(
      tlsDoc({
        hosts: [{ address: srv.address }],
        ...(upstream === "TLS"
          ? {
            tls_context: { status: true, server_name: "b.example.com", ca_cert: pki("ca.pem") },
          }
          : {}),
      }, { downstream_protocol: "Http2", upstream_protocol: "Http2" }),
    );
    await mosn.listening();
    const c = echoClient(mosn.listenerPort("http"), {
      ca: pem("ca.pem"),
      serverName: "a.example.com",
    });
    try {
      const md = new grpc.Metadata();
      md.set("x-req", "m");
      const r = await unary(c, { text: "hi", n: 3 }, md);
      assert.equal(r.err, null);
      assert.deepEqual(r.res, { text: "echo hi", n: 3 });
      assert.equal(r.trail?.get("x-trail")[0], "done");
      const f = await unary(c, { text: "fail", n: 0 });
      assert.equal(f.err?.code, grpc.status.INVALID_ARGUMENT);
      assert.equal(f.err?.metadata.get("x-detail")[0], "why-it-failed");
      assert.equal(await serverStream(c, 2000), 2000);
      const b = await bidi(c, 50);
      assert.deepEqual(b, Array.from({ length: 50 }, (_, i) => i + 1));
    } finally {
      c.close();
      await mosn.stop("fast");
      await srv.close();
    }
  });
}
