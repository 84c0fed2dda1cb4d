/** The JSON endpoints and the event stream behind the console. */

import assert from "node:assert/strict";
import { startAdmin } from "../../src/admin/server.ts";
import type {
  ConnectionsResponse,
  ConsoleClustersResponse,
  OverviewResponse,
  RoutesResponse,
} from "../../src/admin/console_types.ts";
import { MAX_EVENT_CLIENTS } from "../../src/admin/console/events.ts";
import type { ListenerInfo } from "../../src/admin/types.ts";
import { HealthFlag } from "../../src/upstream/types.ts";
import { httpDoc, origin } from "../_support/http.ts";
import { startInProcess } from "../_support/mosn.ts";
import { fakeSource } from "./_fake_source.ts";
import { waitFor } from "../_support/wait.ts";

interface SseEvent {
  readonly event: string;
  readonly data: Record<string, unknown>;
}

/** Reads SSE frames from `body` until `enough` says so. */
async function readEvents(
  body: ReadableStream<Uint8Array<ArrayBuffer>>,
  enough: (events: SseEvent[]) => boolean,
): Promise<SseEvent[]> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  const events: SseEvent[] = [];
  let buf = "";
  try {
    while (!enough(events)) {
      const { done, value } = await reader.read();
      if (done) break;
      buf += value;
      let end: number;
      while ((end = buf.indexOf("\n\n")) >= 0) {
        const frame = buf.slice(0, end);
        buf = buf.slice(end + 2);
        const ev = /^event: (.*)$/m.exec(frame)?.[1];
        const data = /^data: (.*)$/m.exec(frame)?.[1];
        if (ev && data) events.push({ event: ev, data: JSON.parse(data) });
      }
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return events;
}

Deno.test("overview: listeners, totals and a history that grows every interval", async () => {
  const src = fakeSource();
  src.connections = () => [];
  const admin = startAdmin(src, { hostname: "127.0.0.1", port: 0 }, {
    console: { intervalMs: 20 },
  });
  try {
    // Two samples taken (20 ms apart, later on a loaded machine).
    let o!: OverviewResponse;
    await waitFor(async () => {
      const res = await fetch(`http://127.0.0.1:${admin.port}/api/v1/overview`);
      o = await res.json() as OverviewResponse;
      return (o.history?.length ?? 0) >= 2;
    }, "two overview samples");
    assert.equal(o.version, "9.9.9-test");
    assert.equal(o.state, "RUNNING");
    assert.equal(o.sample_interval_ms, 20);
    assert.deepEqual(o.listeners.map((l) => l.name), ["egress_listener", "uds"]);
    assert.ok((o.history?.length ?? 0) >= 2, `history ${o.history?.length}`);
    const p = o.history![0]!;
    assert.deepEqual(Object.keys(p).sort(), [
      "downstream_cx_active",
      "errors_per_s",
      "p50_ms",
      "p99_ms",
      "rps",
      "t",
      "upstream_cx_active",
    ]);
  } finally {
    await admin.close();
  }
});

Deno.test("clusters: hosts with weight, health flags and reasons, breaker limits", async () => {
  const src = fakeSource();
  src.connections = () => [];
  src.cluster.hosts[1]!.setHealthFlag(HealthFlag.FailedOutlierCheck, true, "5 consecutive 5xx");
  const admin = startAdmin(src, { hostname: "127.0.0.1", port: 0 }, {
    console: { intervalMs: 1000 },
  });
  try {
    const res = await fetch(`http://127.0.0.1:${admin.port}/api/v1/clusters`);
    const body = await res.json() as ConsoleClustersResponse;
    const c = body.clusters[0]!;
    assert.equal(c.name, "c1");
    assert.equal(c.healthy_hosts, 1);
    assert.deepEqual(c.circuit_breakers.connections, { max: 100, used: 0 });
    assert.deepEqual(c.circuit_breakers.retries, { max: 3, used: 0 });
    const [a, b] = c.hosts;
    assert.equal(a!.healthy, true);
    assert.equal(a!.success_rate, null);
    assert.equal(b!.weight, 3);
    assert.equal(b!.healthy, false);
    assert.deepEqual(b!.health_flags, ["failed_outlier_check"]);
    assert.deepEqual(b!.health_reasons, { failed_outlier_check: "5 consecutive 5xx" });
  } finally {
    await admin.close();
  }
});

Deno.test("routes and connections through a real proxy: hit counts, protocols, peers", async () => {
  const up = origin(() => new Response("hi"));
  const server = startInProcess(
    httpDoc({
      routers: [{
        router_config_name: "r1",
        virtual_hosts: [{
          name: "vh",
          domains: ["*"],
          routers: [
            { match: { prefix: "/a" }, route: { cluster_name: "c1" } },
            {
              match: { prefix: "/w" },
              route: { weighted_clusters: [{ cluster: { name: "c1", weight: 100 } }] },
            },
            { match: { path: "/teapot" }, direct_response: { status: 418 } },
          ],
        }],
      }],
      clusters: [{ name: "c1", hosts: [{ address: up.address }] }],
    }),
    { admin: true },
  );
  const base = `http://127.0.0.1:${server.adminPort}`;
  const proxy = await Deno.connect({ hostname: "127.0.0.1", port: server.listenerPort("http") });
  try {
    const enc = new TextEncoder();
    // Two requests on one kept-alive connection, the connection stays open for the listing.
    await proxy.write(
      enc.encode("GET /a/1 HTTP/1.1\r\nHost: x\r\n\r\nGET /a/2 HTTP/1.1\r\nHost: x\r\n\r\n"),
    );
    const buf = new Uint8Array(4096);
    let got = "";
    while ((got.match(/HTTP\/1\.1 200/g) ?? []).length < 2) {
      const n = await proxy.read(buf);
      if (n === null) break;
      got += new TextDecoder().decode(buf.subarray(0, n));
    }
    const routes = await (await fetch(base + "/api/v1/routes")).json() as RoutesResponse;
    assert.deepEqual(routes.routers[0]!.virtual_hosts[0]!.routes, [
      { match: "prefix /a", action: "cluster c1", hits: 2 },
      { match: "prefix /w", action: "weighted c1:100", hits: 0 },
      { match: "path /teapot", action: "direct_response 418", hits: 0 },
    ]);
    const local = `127.0.0.1:${(proxy.localAddr as Deno.NetAddr).port}`;
    const cx = await (await fetch(base + "/api/v1/connections")).json() as ConnectionsResponse;
    const down = cx.connections.find((c) => c.remote_address === local);
    assert.ok(down, JSON.stringify(cx));
    assert.equal(down.direction, "downstream");
    assert.equal(down.owner, "http");
    assert.equal(down.protocol, "HTTP/1.1");
    assert.equal(down.bytes_read, 60);
    assert.ok(down.bytes_written > 60);
    assert.equal(down.active_streams, 0);
    const upstream = cx.connections.find((c) => c.direction === "upstream" && c.owner === "c1");
    assert.ok(upstream, JSON.stringify(cx));
    assert.equal(upstream.host, up.address);
    assert.equal(upstream.remote_address, up.address);
    assert.equal(upstream.protocol, "HTTP/1.1");
    const onlyUp = await (await fetch(base + "/api/v1/connections?direction=upstream"))
      .json() as ConnectionsResponse;
    assert.ok(onlyUp.connections.every((c) => c.direction === "upstream"));
    const bad = await fetch(base + "/api/v1/connections?direction=sideways");
    assert.equal(bad.status, 400);
    await bad.body?.cancel();
  } finally {
    proxy.close();
    await server.stop("fast");
    await up.close();
  }
});

Deno.test("events: snapshots of each topic at once and then every interval; bad topics are 400", async () => {
  const src = fakeSource();
  src.connections = () => [];
  const admin = startAdmin(src, { hostname: "127.0.0.1", port: 0 }, {
    console: { intervalMs: 20 },
  });
  try {
    const base = `http://127.0.0.1:${admin.port}`;
    const res = await fetch(base + "/api/v1/events");
    assert.match(res.headers.get("content-type")!, /^text\/event-stream/);
    const events = await readEvents(
      res.body!,
      (e) => e.filter((x) => x.event === "overview").length >= 3,
    );
    assert.deepEqual(events.slice(0, 3).map((e) => e.event), [
      "overview",
      "connections",
      "clusters",
    ]);
    const ticks = events.filter((e) => e.event === "overview").slice(1);
    assert.ok(ticks.every((e) => typeof (e.data["point"] as { rps: number }).rps === "number"));
    const one = await fetch(base + "/api/v1/events?topics=clusters");
    const only = await readEvents(one.body!, (e) => e.length >= 3);
    assert.ok(only.every((e) => e.event === "clusters"));
    const bad = await fetch(base + "/api/v1/events?topics=overview,gossip");
    assert.equal(bad.status, 400);
    assert.match((await bad.json()).error, /unknown topic "gossip"/);
  } finally {
    await admin.close();
  }
});

Deno.test("events: a stalled reader gets only the newest snapshot per topic (dropped counted), then catches up", async () => {
  const src = fakeSource();
  src.connections = () => [];
  // ~100 KB overview events every 5 ms fill the socket buffers quickly.
  const many: ListenerInfo[] = Array.from({ length: 1500 }, (_, i) => ({
    name: `listener-${i}-${"x".repeat(20)}`,
    address: `127.0.0.1:${10000 + i}`,
    accepting: true,
    activeConnections: i,
  }));
  src.listeners = () => many;
  const admin = startAdmin(src, { hostname: "127.0.0.1", port: 0 }, { console: { intervalMs: 5 } });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: admin.port });
  try {
    await conn.write(
      new TextEncoder().encode(
        "GET /api/v1/events?topics=overview HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
      ),
    );
    // Not reading: the server's writes block once the kernel buffers are full.
    await new Promise((r) => setTimeout(r, 2500));
    // Now read until an overview event reports drops.
    const buf = new Uint8Array(1 << 20);
    let text = "";
    let dropped = 0;
    let bytes = 0;
    while (dropped === 0 && bytes < 2_000_000_000) {
      const n = await conn.read(buf);
      if (n === null) break;
      bytes += n;
      text += new TextDecoder().decode(buf.subarray(0, n));
      // Keep only the tail: the frames are large.
      const frames = text.split("\n\n");
      text = frames.pop()!;
      for (const f of frames) {
        const m = /"dropped":(\d+)/.exec(f);
        if (m) dropped = Math.max(dropped, Number(m[1]));
      }
    }
    assert.ok(dropped > 0, "a stalled client had snapshots merged away");
  } finally {
    conn.close();
    await admin.close();
  }
});

Deno.test("events: at most MAX_EVENT_CLIENTS streams; closing the admin ends open streams", async () => {
  const src = fakeSource();
  src.connections = () => [];
  const admin = startAdmin(src, { hostname: "127.0.0.1", port: 0 }, {
    console: { intervalMs: 50 },
  });
  const base = `http://127.0.0.1:${admin.port}`;
  const open: Response[] = [];
  try {
    for (let i = 0; i < MAX_EVENT_CLIENTS; i++) {
      const r = await fetch(base + "/api/v1/events?topics=overview");
      assert.equal(r.status, 200);
      open.push(r);
    }
    const over = await fetch(base + "/api/v1/events?topics=overview");
    assert.equal(over.status, 503);
    await over.body?.cancel();
  } finally {
    const drained = open.map((r) => r.text().catch(() => ""));
    await admin.close();
    // Every stream ended (the reads finish) once the admin closed.
    await Promise.all(drained);
  }
});

Deno.test({
  name: "events: closing the admin does not wait forever for a reader that stopped reading",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const src = fakeSource();
    src.connections = () => [];
    src.listeners = () =>
      Array.from({ length: 1500 }, (_, i) => ({
        name: `listener-${i}-${"x".repeat(20)}`,
        address: `127.0.0.1:${10000 + i}`,
        accepting: true,
        activeConnections: i,
      }));
    const admin = startAdmin(src, { hostname: "127.0.0.1", port: 0 }, {
      console: { intervalMs: 5 },
    });
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: admin.port });
    try {
      await conn.write(
        new TextEncoder().encode("GET /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
      );
      await new Promise((r) => setTimeout(r, 1500)); // the socket buffers fill up
      let timer: ReturnType<typeof setTimeout> | undefined;
      const outcome = await Promise.race([
        admin.close().then(() => "closed"),
        new Promise((r) => timer = setTimeout(() => r("still waiting after 30 s"), 30_000)),
      ]);
      clearTimeout(timer);
      assert.equal(outcome, "closed");
    } finally {
      conn.close();
    }
  },
});
