import assert from "node:assert/strict";
import { StatsRegistry } from "../../../src/observability/stats.ts";
import type { HostImpl } from "../../../src/upstream/host.ts";
import {
  BOLT_REQUEST_HEADER_LEN,
  decodeBoltResponseHeader,
  encodeBoltHeartbeat,
  encodeBoltHeartbeatAck,
  judgeBoltResponse,
} from "../../../src/upstream/health/bolt.ts";
import { startHealthChecker } from "../../../src/upstream/health/health_checker.ts";
import { HealthFlag } from "../../../src/upstream/types.ts";
import { fromHex, hcConfig, hcStat, hex, listen, makeCluster, readN, waitFor } from "./_helpers.ts";

const FAC = HealthFlag.FailedActiveHealthCheck;

// Frames captured from SOFABolt (shared golden/bolt/v1_heartbeat.hex, v1_heartbeat_ack.hex).
const GOLDEN_HEARTBEAT = "0101000001000000020100000bb80000000000000000";
const GOLDEN_HEARTBEAT_ACK = "0100000001000000020100000000000000000000";

Deno.test("bolt: heartbeat frames match the golden capture", () => {
  assert.equal(hex(encodeBoltHeartbeat(2, 3000)), GOLDEN_HEARTBEAT);
  assert.equal(hex(encodeBoltHeartbeatAck(2)), GOLDEN_HEARTBEAT_ACK);
  const ack = decodeBoltResponseHeader(fromHex(GOLDEN_HEARTBEAT_ACK))!;
  assert.deepEqual(ack, {
    proto: 1,
    type: 0,
    cmdCode: 0,
    ver2: 1,
    requestId: 2,
    codec: 1,
    status: 0,
    classLen: 0,
    headerLen: 0,
    contentLen: 0,
  });
  assert.deepEqual(judgeBoltResponse(ack, 2), { healthy: true });
  assert.deepEqual(judgeBoltResponse({ ...ack, cmdCode: 2 }, 2), { healthy: true });
  assert.equal(judgeBoltResponse(ack, 3).healthy, false, "another request's answer");
  assert.deepEqual(judgeBoltResponse({ ...ack, status: 4 }, 2), {
    healthy: false,
    reason: "bolt status SERVER_THREADPOOL_BUSY",
    network: false,
  });
  assert.equal(judgeBoltResponse({ ...ack, type: 1 }, 2).healthy, false);
  assert.equal(decodeBoltResponseHeader(new Uint8Array(19)), undefined);
});

Deno.test("bolt: a heartbeat server answering SUCCESS is healthy, an error status is not", async () => {
  let status = 0;
  const received: Uint8Array[] = [];
  const server = listen(async (c) => {
    for (;;) {
      const req = await readN(c, BOLT_REQUEST_HEADER_LEN);
      if (!req) return;
      received.push(req);
      // The golden ack with this request's id (bytes 5..8) and the chosen status.
      const ack = fromHex(GOLDEN_HEARTBEAT_ACK);
      ack.set(req.subarray(5, 9), 5);
      new DataView(ack.buffer).setUint16(10, status);
      await c.write(ack);
    }
  });
  const stats = new StatsRegistry();
  const cluster = makeCluster(stats, [`127.0.0.1:${server.port}`], "rpc");
  const host = cluster.hosts[0] as HostImpl;
  const hc = startHealthChecker(
    cluster,
    hcConfig({ protocol: "bolt", intervalMs: 30, timeoutMs: 500, unhealthyThreshold: 2 }),
    { stats },
  );
  try {
    await waitFor(() => hcStat(stats, "rpc", "success") >= 2, 2000, "healthy checks");
    assert.equal(host.healthy, true);
    const [a, b] = received;
    assert.equal(hex(a!.subarray(0, 5)), "0101000001", "proto 1, request, heartbeat, ver2 1");
    assert.equal(a![9], 1, "codec hessian2");
    assert.equal(new DataView(a!.buffer).getInt32(10), 500, "timeout field = timeout");
    assert.equal(hex(a!.subarray(14)), "0000000000000000");
    assert.notEqual(hex(a!.subarray(5, 9)), hex(b!.subarray(5, 9)), "a new request id each");

    status = 4;
    await waitFor(() => !host.healthy, 2000, "unhealthy on status 4");
    assert.equal(host.healthReasons.get(FAC), "bolt status SERVER_THREADPOOL_BUSY");
    assert.equal(hcStat(stats, "rpc", "network_failure"), 0);
  } finally {
    hc.close();
    await hc.settled();
    await server.close();
  }
});

Deno.test("bolt: a peer closing without an answer is a network failure", async () => {
  const server = listen(async (c) => {
    await readN(c, BOLT_REQUEST_HEADER_LEN);
  });
  const stats = new StatsRegistry();
  const cluster = makeCluster(stats, [`127.0.0.1:${server.port}`], "rude");
  const host = cluster.hosts[0] as HostImpl;
  const hc = startHealthChecker(
    cluster,
    hcConfig({ protocol: "bolt", intervalMs: 20, unhealthyThreshold: 1 }),
    { stats },
  );
  try {
    await waitFor(() => !host.healthy, 2000, "unhealthy");
    assert.match(host.healthReasons.get(FAC)!, /^connection (closed|reset)$/);
    assert.equal(hcStat(stats, "rude", "network_failure"), hcStat(stats, "rude", "failure"));
  } finally {
    hc.close();
    await hc.settled();
    await server.close();
  }
});
