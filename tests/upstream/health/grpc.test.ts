import assert from "node:assert/strict";
import http2 from "node:http2";
import { Buffer } from "node:buffer";
import { StatsRegistry } from "../../../src/observability/stats.ts";
import type { HostImpl } from "../../../src/upstream/host.ts";
import {
  decodeHealthCheckResponse,
  encodeHealthCheckRequest,
  GRPC_HEALTH_PATH,
  grpcFrame,
  grpcMessage,
} from "../../../src/upstream/health/grpc.ts";
import { startHealthChecker } from "../../../src/upstream/health/health_checker.ts";
import { HealthFlag } from "../../../src/upstream/types.ts";
import { hcConfig, hcStat, hex, makeCluster, makeTlsCluster, waitFor } from "./_helpers.ts";
import { pem } from "../../_support/tls.ts";

const FAC = HealthFlag.FailedActiveHealthCheck;

Deno.test("grpc: HealthCheckRequest / HealthCheckResponse protobuf by hand", () => {
  assert.equal(hex(encodeHealthCheckRequest("")), "");
  assert.equal(hex(encodeHealthCheckRequest("svc")), "0a03737663");
  const long = "x".repeat(200);
  assert.equal(hex(encodeHealthCheckRequest(long).subarray(0, 3)), "0ac801"); // varint 200
  assert.equal(hex(grpcFrame(new Uint8Array([8, 1]))), "00000000020801");
  assert.equal(decodeHealthCheckResponse(new Uint8Array([8, 1])), 1);
  assert.equal(decodeHealthCheckResponse(new Uint8Array([8, 2])), 2);
  assert.equal(decodeHealthCheckResponse(new Uint8Array([])), 0, "proto3 default UNKNOWN");
  // Unknown fields (varint 2, bytes 3, fixed32 4, fixed64 5) are skipped.
  const withUnknown = new Uint8Array([
    0x10,
    0x96,
    0x01,
    0x1a,
    0x02,
    0x61,
    0x62,
    0x25,
    1,
    2,
    3,
    4,
    0x29,
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8,
    0x08,
    1,
  ]);
  assert.equal(decodeHealthCheckResponse(withUnknown), 1);
  assert.throws(() => decodeHealthCheckResponse(new Uint8Array([0x08])));
  assert.deepEqual([...grpcMessage(new Uint8Array([0, 0, 0, 0, 2, 8, 1, 9]))], [8, 1]);
  assert.throws(() => grpcMessage(new Uint8Array([1, 0, 0, 0, 0])), /compressed/);
});

type Answer =
  | { kind: "status"; serving: number }
  | { kind: "grpc-error"; code: number };

/**
 * An HTTP/2 gRPC health server answering per `answer()`; records the requests. Cleartext, or
 * TLS with the fixture certificate for b.example.com when `tls` is set.
 */
async function healthServer(answer: () => Answer, tls?: { cert: string; key: string }) {
  const requests: { path: string; headers: http2.IncomingHttpHeaders; body: string }[] = [];
  const server = tls ? http2.createSecureServer(tls) : http2.createServer();
  server.on("stream", (stream: http2.ServerHttp2Stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("end", () => {
      requests.push({
        path: String(headers[":path"]),
        headers,
        body: Buffer.concat(chunks).toString("hex"),
      });
      const a = answer();
      if (a.kind === "grpc-error") {
        // Trailers-only answer, as gRPC servers send for errors.
        stream.respond(
          { ":status": 200, "content-type": "application/grpc", "grpc-status": String(a.code) },
          { endStream: true },
        );
        return;
      }
      stream.respond({ ":status": 200, "content-type": "application/grpc" }, {
        waitForTrailers: true,
      });
      stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
      stream.end(Buffer.from(grpcFrame(new Uint8Array([0x08, a.serving]))));
    });
    stream.on("error", () => {});
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    requests,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

Deno.test("grpc: SERVING is healthy; NOT_SERVING and grpc errors are not", async () => {
  let answer: Answer = { kind: "status", serving: 1 };
  const server = await healthServer(() => answer);
  const stats = new StatsRegistry();
  const cluster = makeCluster(stats, [`127.0.0.1:${server.port}`], "rpc");
  const host = cluster.hosts[0] as HostImpl;
  const hc = startHealthChecker(
    cluster,
    hcConfig({ protocol: "grpc", intervalMs: 30, unhealthyThreshold: 1, serviceName: "svc" }),
    { stats },
  );
  try {
    await waitFor(() => hcStat(stats, "rpc", "success") >= 1, 3000, "SERVING");
    assert.equal(host.healthy, true);
    const r = server.requests[0]!;
    assert.equal(r.path, GRPC_HEALTH_PATH);
    assert.equal(r.headers[":method"], "POST");
    assert.equal(r.headers["content-type"], "application/grpc");
    assert.equal(r.headers["te"], "trailers");
    assert.equal(r.body, "00000000050a03737663", "gRPC frame of HealthCheckRequest{service: svc}");

    answer = { kind: "status", serving: 2 };
    await waitFor(() => !host.healthy, 3000, "NOT_SERVING");
    assert.equal(host.healthReasons.get(FAC), "grpc NOT_SERVING");

    answer = { kind: "status", serving: 1 };
    await waitFor(() => host.healthy, 3000, "SERVING again");

    answer = { kind: "grpc-error", code: 12 };
    await waitFor(() => !host.healthy, 3000, "UNIMPLEMENTED");
    assert.equal(host.healthReasons.get(FAC), "grpc UNIMPLEMENTED");
    assert.equal(hcStat(stats, "rpc", "network_failure"), 0);
  } finally {
    hc.close();
    await hc.settled();
    await server.close();
  }
});

Deno.test("grpc: nothing listening is a network failure (connect refused)", async () => {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  const stats = new StatsRegistry();
  const cluster = makeCluster(stats, [`127.0.0.1:${port}`], "gone");
  const host = cluster.hosts[0] as HostImpl;
  const hc = startHealthChecker(
    cluster,
    hcConfig({ protocol: "grpc", intervalMs: 30, unhealthyThreshold: 1 }),
    { stats },
  );
  try {
    await waitFor(() => !host.healthy, 3000, "unhealthy");
    assert.equal(host.healthReasons.get(FAC), "connect refused");
    assert.equal(hcStat(stats, "gone", "network_failure"), hcStat(stats, "gone", "failure"));
  } finally {
    hc.close();
    await hc.settled();
  }
});

Deno.test("grpc: a TLS cluster's hosts are checked over TLS (SNI, CA)", async () => {
  let answer: Answer = { kind: "status", serving: 2 };
  const server = await healthServer(() => answer, { cert: pem("b.pem"), key: pem("b.key") });
  const stats = new StatsRegistry();
  const cluster = makeTlsCluster(stats, [`127.0.0.1:${server.port}`], "rpc_tls");
  const host = cluster.hosts[0] as HostImpl;
  const hc = startHealthChecker(
    cluster,
    hcConfig({ protocol: "grpc", intervalMs: 50, unhealthyThreshold: 1, healthyThreshold: 1 }),
    { stats },
  );
  try {
    await waitFor(() => !host.healthy, 3000, "unhealthy on NOT_SERVING");
    answer = { kind: "status", serving: 1 };
    await waitFor(() => host.healthy, 3000, "healthy on SERVING over TLS");
    assert.ok(server.requests.length >= 2);
  } finally {
    hc.close();
    cluster.close();
    await server.close();
  }
});
