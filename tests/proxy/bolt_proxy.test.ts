import assert from "node:assert/strict";
import { startInProcess } from "../_support/mosn.ts";
import { tcpServer, writeAll } from "../_support/net.ts";
import { boltV1 } from "../../src/protocol/xprotocol/bolt/codec.ts";
import type { BoltMeta } from "../../src/protocol/xprotocol/bolt/types.ts";
import { FrameReader } from "../../src/stream/xprotocol/frame_reader.ts";
import type { XFrame } from "../../src/protocol/xprotocol/types.ts";
import { waitFor } from "../_support/wait.ts";

const GOLDEN = new URL("../protocol/xprotocol/golden/bolt/", import.meta.url).pathname;
function golden(name: string): Uint8Array {
  const hex = Deno.readTextFileSync(`${GOLDEN}${name}.hex`).replace(/\s+/g, "");
  return new Uint8Array(hex.match(/../g)!.map((h) => parseInt(h, 16)));
}

/** A bolt upstream that answers every request with the golden sayHello response (same id). */
function boltUpstream(opts: { delayMs?: number; seen?: XFrame[] } = {}) {
  const template = boltV1.decode(golden("v1_resp_hello_peter"));
  if (template === "again") throw new Error("bad golden");
  return tcpServer(async (c) => {
    const reader = new FrameReader(boltV1);
    const buf = new Uint8Array(65536);
    for (;;) {
      const n = await c.read(buf);
      if (n === null) return;
      const frames: XFrame[] = [];
      reader.push(buf.subarray(0, n), (f) => frames.push(f));
      for (const f of frames) {
        opts.seen?.push(f);
        if (f.kind !== "request") continue;
        const reply = async () => {
          if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
          const raw = template.frame.raw.slice();
          const copy = boltV1.decode(raw);
          if (copy === "again") return;
          boltV1.setRequestId(copy.frame, f.requestId);
          await writeAll(c, copy.frame.raw);
        };
        reply().catch(() => {});
      }
    }
  });
}

function boltDoc(upstream: string, routes?: unknown[]) {
  return {
    servers: [{
      default_log_level: "ERROR",
      routers: [{
        router_config_name: "rpc",
        virtual_hosts: [{
          name: "all",
          domains: ["*"],
          routers: routes ??
            [{
              match: { headers: [{ name: "service", value: ".*", regex: true }] },
              route: { cluster_name: "rpc" },
            }],
        }],
      }],
      listeners: [{
        name: "bolt",
        address: "127.0.0.1:0",
        filter_chains: [{
          filters: [{
            type: "proxy",
            config: { downstream_protocol: "bolt", router_config_name: "rpc" },
          }],
        }],
      }],
    }],
    cluster_manager: {
      clusters: [{
        name: "rpc",
        type: "SIMPLE",
        lb_type: "LB_ROUNDROBIN",
        hosts: [{ address: upstream }],
      }],
    },
  };
}

/** A client on the project's codec: sends frames, collects decoded answers. */
async function client(port: number) {
  const c = await Deno.connect({ hostname: "127.0.0.1", port });
  const reader = new FrameReader(boltV1);
  const got: XFrame[] = [];
  let closed = false;
  const pump = (async () => {
    const buf = new Uint8Array(65536);
    try {
      for (;;) {
        const n = await c.read(buf);
        if (n === null) break;
        reader.push(buf.subarray(0, n), (f) => got.push(f));
      }
    } catch { /* reset */ }
    closed = true;
  })();
  return {
    got,
    get closed() {
      return closed;
    },
    async send(frame: Uint8Array, id?: number) {
      const copy = frame.slice();
      if (id !== undefined) {
        const d = boltV1.decode(copy);
        if (d !== "again") boltV1.setRequestId(d.frame, id);
      }
      await writeAll(c, copy);
    },
    async until(n: number, ms = 5000) {
      const end = Date.now() + ms;
      while (got.length < n && !closed && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 5));
      }
    },
    async close() {
      try {
        c.close();
      } catch { /* closed */ }
      await pump;
    },
  };
}

Deno.test("bolt: a request through the proxy comes back with the client's own id", async () => {
  const up = boltUpstream();
  const mosn = startInProcess(boltDoc(up.address));
  const cl = await client(mosn.listenerPort("bolt"));
  try {
    await cl.send(golden("v1_req_sayHello_peter"), 4242);
    await cl.until(1);
    assert.equal(cl.got.length, 1);
    assert.equal(cl.got[0]!.kind, "response");
    assert.equal(cl.got[0]!.requestId, 4242);
    assert.equal(cl.got[0]!.status, 0);
  } finally {
    await cl.close();
    await mosn.stop("fast");
    await up.close();
  }
});

Deno.test("bolt: 1000 concurrent requests from 10 connections all answered with their own ids over one upstream connection", async () => {
  const up = boltUpstream({ delayMs: 5 });
  const mosn = startInProcess(boltDoc(up.address));
  const clients = await Promise.all(
    Array.from({ length: 10 }, () => client(mosn.listenerPort("bolt"))),
  );
  try {
    const req = golden("v1_req_sayHello_peter");
    // Every client uses the same ids 1..100: they collide upstream unless the proxy re-stamps.
    await Promise.all(clients.map(async (cl) => {
      for (let id = 1; id <= 100; id++) await cl.send(req, id);
    }));
    await Promise.all(clients.map((cl) => cl.until(100)));
    for (const cl of clients) {
      assert.deepEqual(
        cl.got.map((f) => f.requestId).sort((a, b) => a - b),
        Array.from({ length: 100 }, (_, i) => i + 1),
      );
    }
    assert.equal(up.accepted, 1, "one upstream connection carried everything");
    const proto = [...mosn.stats.scopes()].find((s) => s.type === "protocol")!;
    assert.deepEqual(proto.labels, { listener: "bolt", protocol: "bolt" });
    assert.equal(proto.counter("request_total").value, 1000);
    assert.equal(proto.counter("response_0_total").value, 1000);
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await mosn.stop("fast");
    await up.close();
  }
});

Deno.test("bolt: heartbeats are answered by the proxy, oneway requests are forwarded without an answer", async () => {
  const seen: XFrame[] = [];
  const up = boltUpstream({ seen });
  const mosn = startInProcess(boltDoc(up.address));
  const cl = await client(mosn.listenerPort("bolt"));
  try {
    await cl.send(golden("v1_heartbeat"), 77);
    await cl.until(1);
    assert.equal(cl.got[0]!.kind, "heartbeat_ack");
    assert.equal(cl.got[0]!.requestId, 77);
    await cl.send(golden("v1_req_oneway"));
    for (let i = 0; i < 200 && !seen.some((f) => f.kind === "oneway"); i++) {
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.ok(seen.some((f) => f.kind === "oneway"), "the upstream got the oneway request");
    assert.ok(!seen.some((f) => f.kind === "heartbeat"), "heartbeats stay at the proxy");
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(cl.got.length, 1, "no answer to a oneway request");
  } finally {
    await cl.close();
    await mosn.stop("fast");
    await up.close();
  }
});

Deno.test("bolt: no route and a dead upstream get proper bolt error responses; a corrupt frame closes only its connection", async () => {
  const mosn = startInProcess(boltDoc("127.0.0.1:9", [
    {
      match: { headers: [{ name: "service", value: "nothing-matches", regex: false }] },
      route: { cluster_name: "rpc" },
    },
  ]));
  const port = mosn.listenerPort("bolt");
  const a = await client(port);
  const b = await client(port);
  try {
    await a.send(golden("v1_req_sayHello_peter"), 5);
    await a.until(1);
    assert.equal(a.got[0]!.requestId, 5);
    assert.equal(a.got[0]!.status, 6, "no route → NO_PROCESSOR");
    await b.send(new TextEncoder().encode("GARBAGE BYTES THAT ARE NOT BOLT"));
    for (let i = 0; i < 200 && !b.closed; i++) await new Promise((r) => setTimeout(r, 5));
    assert.ok(b.closed, "the corrupt connection was closed");
    await a.send(golden("v1_req_sayHello_peter"), 6);
    await a.until(2);
    assert.equal(a.got[1]!.requestId, 6, "the other connection still works");
  } finally {
    await a.close();
    await b.close();
    await mosn.stop("fast");
  }
});

Deno.test("bolt: when the upstream dies mid-flight every pending request gets an error response", async () => {
  let conns: Deno.Conn[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const silent = tcpServer(async (c) => {
    conns.push(c);
    await gate; // never answers
  });
  const mosn = startInProcess(boltDoc(silent.address));
  const cl = await client(mosn.listenerPort("bolt"));
  try {
    for (let id = 1; id <= 20; id++) await cl.send(golden("v1_req_sayHello_peter"), id);
    for (let i = 0; i < 200 && conns.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 50));
    for (const c of conns) c.close();
    conns = [];
    await cl.until(20, 3000);
    assert.equal(cl.got.length, 20);
    assert.ok(cl.got.every((f) => f.kind === "response" && f.status !== 0));
  } finally {
    release();
    await cl.close();
    await mosn.stop("fast");
    await silent.close();
  }
});

Deno.test("multiplex client: an idle upstream connection is kept alive with heartbeats and closed when they go unanswered", async () => {
  const { XClientConnection } = await import("../../src/stream/xprotocol/client_connection.ts");
  const { Connection } = await import("../../src/network/connection.ts");
  // An upstream that acks heartbeats while `answer` is true.
  let answer = true;
  let heartbeats = 0;
  const up = tcpServer(async (c) => {
    const reader = new FrameReader(boltV1);
    const buf = new Uint8Array(4096);
    for (;;) {
      const n = await c.read(buf).catch(() => null);
      if (n === null) return;
      const frames: XFrame[] = [];
      reader.push(buf.subarray(0, n), (f) => frames.push(f));
      for (const f of frames) {
        if (f.kind !== "heartbeat") continue;
        heartbeats++;
        if (answer) await writeAll(c, boltV1.encode(boltV1.heartbeatReply(f as XFrame<BoltMeta>)));
      }
    }
  });
  const conn = new Connection(await Deno.connect({ hostname: "127.0.0.1", port: up.port }));
  const client = new XClientConnection(conn, boltV1, { intervalMs: 50, maxFailures: 3 });
  conn.start();
  try {
    await waitFor(() => heartbeats >= 3, "three heartbeats while idle");
    assert.equal(conn.closed, false, "answered heartbeats keep it open");
    answer = false;
    for (let i = 0; i < 100 && !conn.closed; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(conn.closed, true, "closed after repeated unanswered heartbeats");
    assert.equal(client.inflight, 0);
  } finally {
    conn.close("now");
    await up.close();
  }
});

Deno.test("Auto: one port detects HTTP/1 and bolt from the first bytes", async () => {
  const up = boltUpstream();
  const http = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response("over http"),
  );
  const doc = boltDoc(up.address) as {
    servers: {
      routers: { virtual_hosts: { routers: unknown[] }[] }[];
      listeners: { filter_chains: { filters: { config: Record<string, unknown> }[] }[] }[];
    }[];
    cluster_manager: { clusters: unknown[] };
  };
  // HTTP requests have no `service` header: a second route sends them to an HTTP cluster.
  doc.servers[0]!.routers[0]!.virtual_hosts[0]!.routers.push({
    match: { prefix: "/" },
    route: { cluster_name: "web" },
  });
  doc.servers[0]!.listeners[0]!.filter_chains[0]!.filters[0]!.config.downstream_protocol = "Auto";
  doc.cluster_manager.clusters.push({
    name: "web",
    type: "SIMPLE",
    hosts: [{ address: `127.0.0.1:${http.addr.port}` }],
  });
  const mosn = startInProcess(doc);
  const port = mosn.listenerPort("bolt");
  const cl = await client(port);
  try {
    await cl.send(golden("v1_req_sayHello_peter"), 31);
    await cl.until(1);
    assert.equal(cl.got[0]?.requestId, 31);
    const r = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(await r.text(), "over http");
    const g = await Deno.connect({ hostname: "127.0.0.1", port });
    await writeAll(g, new Uint8Array([0xff, 0xfe, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05]));
    const closed = await g.read(new Uint8Array(16)).then((n) => n === null, () => true);
    assert.ok(closed, "unknown bytes close the connection");
    g.close();
  } finally {
    await cl.close();
    await mosn.stop("fast");
    await up.close();
    await http.shutdown();
  }
});

Deno.test("bolt: a frame over the size limit, a bad CRC and a truncated frame each close only their connection", async () => {
  const up = boltUpstream();
  const mosn = startInProcess(boltDoc(up.address));
  const port = mosn.listenerPort("bolt");
  // The CRC case needs a boltv2 listener (a v1 listener would refuse the v2 magic first).
  const v2doc = boltDoc(up.address) as {
    servers: {
      listeners: { filter_chains: { filters: { config: Record<string, unknown> }[] }[] }[];
    }[];
  };
  v2doc.servers[0]!.listeners[0]!.filter_chains[0]!.filters[0]!.config.downstream_protocol =
    "boltv2";
  const mosnV2 = startInProcess(v2doc);
  const good = await client(port);
  try {
    // Content length 0x7fffffff: far over the 16 MiB limit, refused from the header alone.
    const huge = golden("v1_req_sayHello_peter").slice(0, 22);
    new DataView(huge.buffer).setUint32(18, 0x7fffffff);
    // A v2 frame with CRC whose last byte (part of the CRC) is flipped.
    const badCrc = golden("v2crc_req_sayHello_peter").slice();
    badCrc[badCrc.length - 1]! ^= 0xff;
    // A v1 frame cut short, then the client half-closes.
    const truncated = golden("v1_req_sayHello_peter").slice(0, 30);
    const cases: [string, Uint8Array, number][] = [
      ["length over the limit", huge, port],
      ["bad CRC", badCrc, mosnV2.listenerPort("bolt")],
      ["truncated", truncated, port],
    ];
    for (const [name, bytes, target] of cases) {
      const c = await Deno.connect({ hostname: "127.0.0.1", port: target });
      await writeAll(c, bytes);
      if (name === "truncated") await c.closeWrite();
      const closed = await c.read(new Uint8Array(64)).then((n) => n === null, () => true);
      assert.ok(closed, `${name}: the connection was closed`);
      c.close();
      await good.send(golden("v1_req_sayHello_peter"), 100 + cases.findIndex((x) => x[0] === name));
    }
    await good.until(3);
    assert.deepEqual(
      good.got.map((f) => f.requestId),
      [100, 101, 102],
      "the good connection kept working",
    );
  } finally {
    await good.close();
    await mosn.stop("fast");
    await up.close();
  }
});
