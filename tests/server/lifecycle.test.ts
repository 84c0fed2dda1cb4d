import assert from "node:assert/strict";
import { rssKiB, startProcess, tcpProxyDoc } from "../_support/mosn.ts";
import { freePort, readN, tcpServer, writeAll } from "../_support/net.ts";

Deno.test("SIGTERM during a transfer: the transfer completes intact, then exit 0", async () => {
  // The upstream streams 8 MiB slowly; SIGTERM arrives in the middle.
  const SIZE = 8 << 20;
  const chunk = new Uint8Array(256 * 1024).map((_, i) => i & 0xff);
  const upstream = tcpServer(async (c) => {
    for (let sent = 0; sent < SIZE; sent += chunk.byteLength) {
      await writeAll(c, chunk);
      await new Promise((r) => setTimeout(r, 20));
    }
    await (c as Deno.TcpConn).closeWrite();
  });
  const port = freePort();
  const mosn = await startProcess(tcpProxyDoc(
    [{ name: "c", hosts: [{ address: upstream.address }] }],
    { cluster: "c" },
    { address: `127.0.0.1:${port}` },
  ));
  try {
    const c = await Deno.connect({ port });
    const first = await readN(c, 1 << 20);
    assert.equal(first.byteLength, 1 << 20);
    mosn.kill("SIGTERM");
    // New connections are refused once draining has begun.
    await new Promise((r) => setTimeout(r, 300));
    await assert.rejects(Deno.connect({ port }));
    let total = first.byteLength;
    let bad = 0;
    const buf = new Uint8Array(65536);
    for (;;) {
      const n = await c.read(buf);
      if (n === null) break;
      for (let i = 0; i < n; i++) if (buf[i] !== ((total + i) % chunk.byteLength & 0xff)) bad++;
      total += n;
    }
    c.close();
    assert.equal(total, SIZE);
    assert.equal(bad, 0);
    assert.equal(await mosn.exited, 0, mosn.stderr());
  } finally {
    mosn.kill("SIGKILL");
    await mosn.exited;
    await upstream.close();
  }
});

Deno.test("1000 connections reset mid-transfer leave the proxy serving with RSS back within 20%", async () => {
  const big = new Uint8Array(1 << 20);
  const upstream = tcpServer(async (c) => {
    // Stream until the proxy goes away.
    for (let i = 0; i < 64; i++) await writeAll(c, big);
  });
  const port = freePort();
  const doc = tcpProxyDoc(
    [{ name: "c", hosts: [{ address: upstream.address }] }],
    { cluster: "c" },
    { address: `127.0.0.1:${port}` },
  );
  // Trim after 1 s of quiet instead of 5 s, so the test waits less.
  const mosn = await startProcess(doc, { MOSN_IDLE_TRIM_MS: "1000" });
  const ping = async () => {
    const c = await Deno.connect({ hostname: "127.0.0.1", port });
    const got = await readN(c, 1024);
    c.close();
    return got.byteLength;
  };
  const resetRound = async () => {
    const conns = await Promise.all(
      Array.from({ length: 100 }, () => Deno.connect({ hostname: "127.0.0.1", port })),
    );
    // Read a little of each stream, then close with unread data queued: the kernel sends RST.
    await Promise.all(conns.map((c) => readN(c, 4096)));
    for (const c of conns) c.close();
  };
  try {
    // Warm up with the same load so that the runtime's heap and allocator reach their working
    // size; "before" is that steady state, and a leak shows as growth from there.
    for (let i = 0; i < 50; i++) assert.equal(await ping(), 1024);
    for (let round = 0; round < 10; round++) await resetRound();
    await new Promise((r) => setTimeout(r, 3000)); // past one idle trim
    const before = await rssKiB(mosn.child.pid);
    for (let round = 0; round < 10; round++) await resetRound();
    // Still serving.
    for (let i = 0; i < 20; i++) assert.equal(await ping(), 1024);
    const stats = await (await fetch(`http://127.0.0.1:${mosn.adminPort}/api/v1/stats`)).text();
    assert.ok(stats.length > 0);
    // Let the proxy notice every reset and collect garbage.
    let after = 0;
    for (let i = 0; i < 60; i++) {
      await new Promise((r) => setTimeout(r, 250));
      after = await rssKiB(mosn.child.pid);
      if (after <= before * 1.2) break;
    }
    assert.ok(after <= before * 1.2, `RSS before ${before} KiB, after ${after} KiB`);
  } finally {
    mosn.kill("SIGINT");
    await mosn.exited;
    await upstream.close();
  }
});
