import assert from "node:assert/strict";
import { ConnectError, MosnError } from "../../src/common/errors.ts";
import type { LbType } from "../../src/config/model.ts";
import { FilterStatus } from "../../src/network/connection.ts";
import { StatsRegistry } from "../../src/observability/stats.ts";
import { ClusterImpl } from "../../src/upstream/cluster.ts";
import { clusterConfig, hostConfig } from "./_helpers.ts";

function listen(): Deno.TcpListener {
  return Deno.listen({ hostname: "127.0.0.1", port: 0, transport: "tcp" });
}

/** A port nothing listens on: bound, then released. */
function freePort(): number {
  const l = listen();
  const port = l.addr.port;
  l.close();
  return port;
}

function clusterAt(port: number, stats = new StatsRegistry()): ClusterImpl {
  return new ClusterImpl(clusterConfig("backend", [hostConfig(`127.0.0.1:${port}`)]), stats);
}

Deno.test("cluster connect succeeds and counts connection_total and connection_active on cluster and host", async () => {
  const listener = listen();
  const cluster = clusterAt(listener.addr.port);
  const host = cluster.hosts[0]!;
  const accepted = listener.accept();
  const conn = await cluster.connect(host);
  const server = await accepted;
  try {
    assert.equal(conn.closed, false);
    for (const s of [cluster.stats, host.stats]) {
      assert.equal(s.connectionTotal.value, 1);
      assert.equal(s.connectionActive.value, 1);
      assert.equal(s.connectionConFail.value, 0);
    }
    assert.equal(cluster.connectionCount, 1);
  } finally {
    conn.close("now");
    server.close();
    listener.close();
  }
});

Deno.test("closing an upstream connection decrements connection_active and counts connection_destroy", async () => {
  const listener = listen();
  const cluster = clusterAt(listener.addr.port);
  const host = cluster.hosts[0]!;
  const accepted = listener.accept();
  const conn = await cluster.connect(host);
  const server = await accepted;
  conn.close("now");
  server.close();
  listener.close();
  for (const s of [cluster.stats, host.stats]) {
    assert.equal(s.connectionActive.value, 0);
    assert.equal(s.connectionDestroy.value, 1);
    assert.equal(s.connectionTotal.value, 1);
  }
  assert.equal(cluster.connectionCount, 0);
});

Deno.test("cluster connect to a closed port fails with CONNECT_FAILED and counts connection_con_fail", async () => {
  const cluster = clusterAt(freePort());
  const host = cluster.hosts[0]!;
  const err = await cluster.connect(host).then(
    () => assert.fail("connect should fail"),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ConnectError);
  assert.equal(err.code, "CONNECT_FAILED");
  for (const s of [cluster.stats, host.stats]) {
    assert.equal(s.connectionConFail.value, 1);
    assert.equal(s.connectionConTimeout.value, 0);
    assert.equal(s.connectionTotal.value, 0);
    assert.equal(s.connectionActive.value, 0);
  }
});

Deno.test("upstream bytes read and written count on cluster and host", async () => {
  const listener = listen();
  const cluster = clusterAt(listener.addr.port);
  const host = cluster.hosts[0]!;
  const accepted = listener.accept();
  const conn = await cluster.connect(host);
  const server = await accepted;
  try {
    const got = Promise.withResolvers<void>();
    conn.addReadFilter({
      onData(data) {
        if (data.byteLength > 0) got.resolve();
        return FilterStatus.Continue;
      },
    });
    conn.start();
    await conn.writeLent(new TextEncoder().encode("hello"));
    const buf = new Uint8Array(16);
    assert.equal(await server.read(buf), 5);
    await server.write(new TextEncoder().encode("hi!"));
    await got.promise;
    for (const s of [cluster.stats, host.stats]) {
      assert.equal(s.bytesWriteTotal.value, 5);
      assert.equal(s.bytesReadTotal.value, 3);
    }
  } finally {
    conn.close("now");
    server.close();
    listener.close();
  }
});

Deno.test("two hosts of one cluster count into their own host stats and the shared cluster stats", async () => {
  const a = listen();
  const b = listen();
  const stats = new StatsRegistry();
  const cluster = new ClusterImpl(
    clusterConfig("pair", [
      hostConfig(`127.0.0.1:${a.addr.port}`),
      hostConfig(`127.0.0.1:${b.addr.port}`),
    ]),
    stats,
  );
  const [ha, hb] = [cluster.hosts[0]!, cluster.hosts[1]!];
  const acceptedA = a.accept();
  const acceptedB = b.accept();
  const ca = await cluster.connect(ha);
  const cb = await cluster.connect(hb);
  const [sa, sb] = [await acceptedA, await acceptedB];
  try {
    assert.equal(cluster.stats.connectionActive.value, 2);
    assert.equal(ha.stats.connectionActive.value, 1);
    assert.equal(hb.stats.connectionActive.value, 1);
    const hostScopes = [...stats.scopes()].filter((s) => s.labels.host !== undefined);
    assert.deepEqual(
      hostScopes.map((s) => s.labels.host).sort(),
      [
        `127.0.0.1:${a.addr.port}`,
        `127.0.0.1:${b.addr.port}`,
      ].sort(),
    );
  } finally {
    for (const c of [ca, cb]) c.close("now");
    for (const c of [sa, sb, a, b]) c.close();
  }
});

Deno.test("cluster close closes its open upstream connections and refuses new connects", async () => {
  const listener = listen();
  const cluster = clusterAt(listener.addr.port);
  const host = cluster.hosts[0]!;
  const accepted = listener.accept();
  const conn = await cluster.connect(host);
  const server = await accepted;
  cluster.close();
  try {
    assert.equal(conn.closed, true);
    assert.equal(cluster.stats.connectionActive.value, 0);
    await assert.rejects(cluster.connect(host), ConnectError);
    await cluster.whenIdle();
  } finally {
    server.close();
    listener.close();
  }
});

Deno.test("cluster with an unknown lb_type fails to build with REGISTRY_UNKNOWN", () => {
  const config = { ...clusterConfig("x", []), lbType: "LB_NOPE" as LbType };
  assert.throws(
    () => new ClusterImpl(config, new StatsRegistry()),
    (e: unknown) => e instanceof MosnError && e.code === "REGISTRY_UNKNOWN",
  );
});

Deno.test("cluster hosts carry address, weight, metadata and start healthy and idle", () => {
  const cfg = clusterConfig("meta", [{
    ...hostConfig("10.1.2.3:8080", 7),
    metadata: { zone: "a" },
  }]);
  const cluster = new ClusterImpl(cfg, new StatsRegistry());
  const h = cluster.hosts[0]!;
  assert.equal(h.cluster, cluster);
  assert.deepEqual(h.address, { kind: "tcp", host: "10.1.2.3", port: 8080 });
  assert.equal(h.addressText, "10.1.2.3:8080");
  assert.equal(h.weight, 7);
  assert.deepEqual(h.metadata, { zone: "a" });
  assert.equal(h.healthy, true);
  assert.equal(h.activeRequests, 0);
});
