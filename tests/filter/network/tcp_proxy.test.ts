import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { startInProcess, tcpProxyDoc } from "../../_support/mosn.ts";
import {
  dec,
  echoServer,
  enc,
  freePort,
  readAll,
  readN,
  tcpServer,
  writeAll,
} from "../../_support/net.ts";

Deno.test("tcp_proxy: bytes arrive identical both ways", async () => {
  const echo = echoServer();
  const mosn = startInProcess(
    tcpProxyDoc([{ name: "c", hosts: [{ address: echo.address }] }], { cluster: "c" }),
  );
  try {
    const c = await Deno.connect({ port: mosn.listenerPort("l1") });
    const msg = new Uint8Array(300_000).map((_, i) => (i * 31) & 0xff);
    await writeAll(c, msg);
    const back = await readN(c, msg.byteLength);
    assert.deepEqual(back, msg);
    c.close();
  } finally {
    await mosn.stop("fast");
    await echo.close();
  }
});

/** Deterministic pseudo-random 64 MiB, produced in 1 MiB blocks. */
function* blocks(seed: number, total: number): Generator<Uint8Array> {
  const block = new Uint8Array(1 << 20);
  let x = seed >>> 0;
  for (let sent = 0; sent < total; sent += block.byteLength) {
    for (let i = 0; i < block.byteLength; i += 4) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      block[i] = x & 0xff;
      block[i + 1] = (x >>> 8) & 0xff;
      block[i + 2] = (x >>> 16) & 0xff;
      block[i + 3] = (x >>> 24) & 0xff;
    }
    yield block;
  }
}

async function sendAndHash(conn: Deno.Conn, seed: number, total: number): Promise<string> {
  const h = createHash("sha256");
  for (const b of blocks(seed, total)) {
    h.update(b);
    await writeAll(conn, b);
  }
  await (conn as Deno.TcpConn).closeWrite();
  return h.digest("hex");
}

async function receiveAndHash(conn: Deno.Conn): Promise<{ hash: string; bytes: number }> {
  const h = createHash("sha256");
  const buf = new Uint8Array(256 * 1024);
  let bytes = 0;
  for (;;) {
    const n = await conn.read(buf);
    if (n === null) break;
    h.update(buf.subarray(0, n));
    bytes += n;
  }
  return { hash: h.digest("hex"), bytes };
}

Deno.test("tcp_proxy: 64 MiB each way arrives with equal SHA-256", async () => {
  const SIZE = 64 << 20;
  let serverGot: Promise<{ hash: string; bytes: number }> | undefined;
  let serverSent: Promise<string> | undefined;
  const upstream = tcpServer(async (c) => {
    serverGot = receiveAndHash(c);
    serverSent = sendAndHash(c, 7, SIZE);
    await Promise.all([serverGot, serverSent]);
  });
  const mosn = startInProcess(
    tcpProxyDoc([{ name: "c", hosts: [{ address: upstream.address }] }], { cluster: "c" }),
  );
  try {
    const c = await Deno.connect({ port: mosn.listenerPort("l1") });
    const [clientSent, clientGot] = await Promise.all([sendAndHash(c, 3, SIZE), receiveAndHash(c)]);
    c.close();
    const got = await serverGot!;
    assert.equal(got.bytes, SIZE);
    assert.equal(got.hash, clientSent);
    assert.equal(clientGot.bytes, SIZE);
    assert.equal(clientGot.hash, await serverSent!);
  } finally {
    await mosn.stop("fast");
    await upstream.close();
  }
});

Deno.test("tcp_proxy: after the client half-closes it still receives the full reply", async () => {
  // The server answers only after it has seen EOF: the half-close must be forwarded and the
  // proxy must keep the other direction open.
  const upstream = tcpServer(async (c) => {
    const req = await readAll(c);
    await writeAll(c, enc.encode(`got ${req.byteLength} bytes; `.repeat(20_000)));
    await (c as Deno.TcpConn).closeWrite();
  });
  const mosn = startInProcess(
    tcpProxyDoc([{ name: "c", hosts: [{ address: upstream.address }] }], { cluster: "c" }),
  );
  try {
    const c = await Deno.connect({ port: mosn.listenerPort("l1") });
    await writeAll(c, enc.encode("x".repeat(5000)));
    await c.closeWrite();
    const reply = dec.decode(await readAll(c));
    c.close();
    assert.equal(reply, "got 5000 bytes; ".repeat(20_000));
  } finally {
    await mosn.stop("fast");
    await upstream.close();
  }
});

/** Opens `n` proxied connections one after another; each server tells which host it is. */
async function spread(
  lb: string,
  hosts: { address: string; weight?: number }[],
  n: number,
  extra: Record<string, unknown> = {},
): Promise<Map<string, number>> {
  const mosn = startInProcess(
    tcpProxyDoc([{ name: "c", lb_type: lb, hosts }], { cluster: "c", ...extra }),
  );
  const counts = new Map<string, number>();
  try {
    const port = mosn.listenerPort("l1");
    for (let i = 0; i < n; i++) {
      const c = await Deno.connect({ port });
      const who = dec.decode(await readAll(c));
      c.close();
      counts.set(who, (counts.get(who) ?? 0) + 1);
    }
  } finally {
    await mosn.stop("fast");
  }
  return counts;
}

function namedServers(k: number) {
  return Array.from({ length: k }, (_, i) =>
    tcpServer(async (c) => {
      await writeAll(c, enc.encode(`h${i}`));
    }));
}

Deno.test("tcp_proxy: round robin spreads 300 connections over 3 hosts within ±10%", async () => {
  const servers = namedServers(3);
  try {
    const counts = await spread(
      "LB_ROUNDROBIN",
      servers.map((s) => ({ address: s.address })),
      300,
    );
    for (const h of ["h0", "h1", "h2"]) {
      const n = counts.get(h) ?? 0;
      assert.ok(n >= 90 && n <= 110, `${h} got ${n} of 300`);
    }
  } finally {
    await Promise.all(servers.map((s) => s.close()));
  }
});

Deno.test("tcp_proxy: weighted round robin 3:1 within ±10%", async () => {
  const servers = namedServers(2);
  try {
    const counts = await spread("LB_WEIGHTED_ROUNDROBIN", [
      { address: servers[0]!.address, weight: 3 },
      { address: servers[1]!.address, weight: 1 },
    ], 400);
    const a = counts.get("h0") ?? 0;
    const b = counts.get("h1") ?? 0;
    assert.ok(a >= 270 && a <= 330, `weight 3 got ${a} of 400`);
    assert.ok(b >= 90 && b <= 110, `weight 1 got ${b} of 400`);
  } finally {
    await Promise.all(servers.map((s) => s.close()));
  }
});

Deno.test("tcp_proxy: a dead host is skipped and every connection still succeeds", async () => {
  const servers = namedServers(2);
  const dead = `127.0.0.1:${freePort()}`;
  try {
    const counts = await spread(
      "LB_ROUNDROBIN",
      [
        { address: servers[0]!.address },
        { address: dead },
        { address: servers[1]!.address },
      ],
      60,
      { max_connect_attempts: 3 },
    );
    assert.equal((counts.get("h0") ?? 0) + (counts.get("h1") ?? 0), 60);
    assert.equal(counts.get(""), undefined);
  } finally {
    await Promise.all(servers.map((s) => s.close()));
  }
});

Deno.test("tcp_proxy: routes pick the cluster by destination port", async () => {
  const a = tcpServer(async (c) => await writeAll(c, enc.encode("A")));
  const b = tcpServer(async (c) => await writeAll(c, enc.encode("B")));
  const port = freePort();
  const mosn = startInProcess(tcpProxyDoc(
    [{ name: "a", hosts: [{ address: a.address }] }, {
      name: "b",
      hosts: [{ address: b.address }],
    }],
    {
      cluster: "a",
      routes: [{
        cluster: "b",
        destination_port: `${port}`,
        source_addrs: [{ address: "127.0.0.0", length: 8 }],
      }],
    },
    { address: `127.0.0.1:${port}` },
  ));
  try {
    const c = await Deno.connect({ port });
    assert.equal(dec.decode(await readAll(c)), "B");
    c.close();
  } finally {
    await mosn.stop("fast");
    await Promise.all([a.close(), b.close()]);
  }
});

Deno.test("tcp_proxy: when no host accepts, the downstream connection is closed", async () => {
  const mosn = startInProcess(tcpProxyDoc(
    [{ name: "c", hosts: [{ address: `127.0.0.1:${freePort()}` }] }],
    { cluster: "c", max_connect_attempts: 2 },
  ));
  try {
    const c = await Deno.connect({ port: mosn.listenerPort("l1") });
    const got = await readAll(c).catch(() => new Uint8Array(0));
    assert.equal(got.byteLength, 0);
    c.close();
    const s = [...mosn.stats.scopes()].find((x) => x.type === "upstream" && !x.labels.host);
    assert.equal(s?.counter("connection_con_fail").value, 1);
  } finally {
    await mosn.stop("fast");
  }
});

Deno.test("tcp_proxy: a client that stops reading stops the proxy reading upstream (backpressure)", async () => {
  const SIZE = 256 << 20;
  const chunk = new Uint8Array(1 << 20);
  let sent = 0;
  const upstream = tcpServer(async (c) => {
    for (; sent < SIZE; sent += chunk.byteLength) await writeAll(c, chunk);
    await (c as Deno.TcpConn).closeWrite();
  });
  const mosn = startInProcess(
    tcpProxyDoc([{ name: "c", hosts: [{ address: upstream.address }] }], { cluster: "c" }),
  );
  try {
    const c = await Deno.connect({ port: mosn.listenerPort("l1") });
    await new Promise((r) => setTimeout(r, 1500)); // not reading
    const up = [...mosn.stats.scopes()].find((x) => x.type === "upstream" && !x.labels.host)!;
    const readWhileStalled = up.counter("bytes_read_total").value;
    // Only socket buffers (a few MiB each way on loopback) plus one read buffer may be in flight.
    assert.ok(readWhileStalled < 32 << 20, `proxy read ${readWhileStalled} bytes while stalled`);
    assert.ok(sent < SIZE);
    let total = 0;
    const buf = new Uint8Array(1 << 20);
    for (;;) {
      const n = await c.read(buf);
      if (n === null) break;
      total += n;
    }
    c.close();
    assert.equal(total, SIZE);
  } finally {
    await mosn.stop("fast");
    await upstream.close();
  }
});
