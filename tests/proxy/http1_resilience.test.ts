import assert from "node:assert/strict";
import { rssKiB, startInProcess, startProcess } from "../_support/mosn.ts";
import { httpDoc, origin, simpleRouter } from "../_support/http.ts";
import { readN, tcpServer, writeAll } from "../_support/net.ts";

/** Runs `total` GETs with `concurrency` keep-alive clients; returns statuses (0 = client error). */
async function load(
  port: number,
  total: number,
  concurrency: number,
  path = "/",
): Promise<number[]> {
  const statuses: number[] = [];
  let next = 0;
  const client = Deno.createHttpClient({ poolMaxIdlePerHost: concurrency });
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < total) {
      next++;
      try {
        const r = await fetch(`http://127.0.0.1:${port}${path}`, { client });
        await r.arrayBuffer();
        statuses.push(r.status);
      } catch {
        statuses.push(0);
      }
    }
  }));
  client.close();
  return statuses;
}

Deno.test("http1 retries: one of two upstreams answers 503, 1000 of 1000 requests succeed", async () => {
  const good = origin(() => new Response("ok"));
  const bad = origin(() => new Response("down", { status: 503 }));
  const mosn = startInProcess(httpDoc({
    clusters: [{ name: "c", hosts: [{ address: good.address }, { address: bad.address }] }],
    routers: [simpleRouter([{
      match: { prefix: "/" },
      route: { cluster_name: "c", retry_policy: { retry_on: true, num_retries: 3 } },
    }])],
  }));
  try {
    const statuses = await load(mosn.listenerPort("http"), 1000, 10);
    assert.equal(statuses.filter((s) => s === 200).length, 1000);
    assert.ok(bad.requests > 100, "the bad host was tried");
    const up = [...mosn.stats.scopes()].find((s) =>
      s.type === "upstream" && s.labels.cluster === "c" && !s.labels.host
    )!;
    assert.equal(up.counter("request_retry").value, bad.requests);
  } finally {
    await mosn.stop("fast");
    await good.close();
    await bad.close();
  }
});

Deno.test("http1 retries: one of two upstreams closes every connection, 1000 of 1000 succeed", async () => {
  const good = origin(() => new Response("ok"));
  const closer = tcpServer(async (c) => {
    await c.read(new Uint8Array(1024)); // take the request, then hang up without answering
  });
  const mosn = startInProcess(httpDoc({
    clusters: [{ name: "c", hosts: [{ address: good.address }, { address: closer.address }] }],
    routers: [simpleRouter([{
      match: { prefix: "/" },
      route: { cluster_name: "c", retry_policy: { retry_on: true, num_retries: 3 } },
    }])],
  }));
  try {
    const statuses = await load(mosn.listenerPort("http"), 1000, 10);
    assert.equal(statuses.filter((s) => s === 200).length, 1000);
    assert.ok(closer.accepted > 50);
  } finally {
    await mosn.stop("fast");
    await good.close();
    await closer.close();
  }
});

Deno.test("http1 pool: keep-alive connections closed by the upstream between requests cause 0 client errors in 10 000", async () => {
  // Answers one request per connection as keep-alive, then closes the socket soon after: the
  // proxy keeps finding pooled connections that the upstream has just closed.
  const enc = new TextEncoder();
  const closing = tcpServer(async (c) => {
    const buf = new Uint8Array(4096);
    const n = await c.read(buf);
    if (n === null) return;
    await writeAll(
      c,
      enc.encode("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nKeep-Alive: timeout=60\r\n\r\nok"),
    );
    await new Promise((r) => setTimeout(r, Math.random() * 3));
  });
  const mosn = startInProcess(httpDoc({
    clusters: [{ name: "c", hosts: [{ address: closing.address }] }],
    routers: [simpleRouter([{ match: { prefix: "/" }, route: { cluster_name: "c" } }])],
  }));
  try {
    const statuses = await load(mosn.listenerPort("http"), 10_000, 20);
    const errors = statuses.filter((s) => s !== 200).length;
    assert.equal(errors, 0, `statuses other than 200: ${errors}`);
  } finally {
    await mosn.stop("fast");
    await closing.close();
  }
});

Deno.test("http1: 1 GiB upload and 1 GiB download stream through with bounded RSS", async () => {
  const GiB = 1 << 30;
  const chunk = new Uint8Array(1 << 20).fill(97);
  let uploaded = 0;
  const o = origin(async (req) => {
    if (req.method === "POST") {
      const reader = req.body!.getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        uploaded += value.byteLength;
      }
      return new Response(String(uploaded));
    }
    let sent = 0;
    return new Response(
      new ReadableStream({
        pull(ctl) {
          if (sent >= GiB) return ctl.close();
          sent += chunk.byteLength;
          ctl.enqueue(chunk);
        },
      }),
      { headers: { "content-length": String(GiB) } },
    );
  });
  const mosn = await startProcess(httpDoc({
    clusters: [{ name: "o", hosts: [{ address: o.address }] }],
    routers: [
      simpleRouter([{ match: { prefix: "/" }, route: { cluster_name: "o", timeout: "120s" } }]),
    ],
    listener: { address: "127.0.0.1:0" },
  }));
  try {
    const listeners =
      await (await fetch(`http://127.0.0.1:${mosn.adminPort}/listeners?format=json`)).json();
    const port = Number(String(listeners.listener_statuses[0].address).split(":").pop());
    const base = await rssKiB(mosn.child.pid);
    let peak = base;
    const sampler = setInterval(async () => {
      peak = Math.max(peak, await rssKiB(mosn.child.pid).catch(() => 0));
    }, 50);
    try {
      // Download
      const c = await Deno.connect({ port });
      await writeAll(
        c,
        new TextEncoder().encode("GET /big HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"),
      );
      let got = 0;
      const buf = new Uint8Array(1 << 20);
      for (;;) {
        const n = await c.read(buf);
        if (n === null) break;
        got += n;
      }
      c.close();
      assert.ok(got > GiB && got < GiB + 1024, `downloaded ${got}`);
      // Upload
      const u = await Deno.connect({ port });
      await writeAll(
        u,
        new TextEncoder().encode(
          `POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: ${GiB}\r\nConnection: close\r\n\r\n`,
        ),
      );
      for (let sent = 0; sent < GiB; sent += chunk.byteLength) await writeAll(u, chunk);
      const reply = new TextDecoder().decode(await readN(u, 512));
      u.close();
      assert.match(reply, new RegExp(`\\r\\n\\r\\n${GiB}$`));
      assert.equal(uploaded, GiB);
    } finally {
      clearInterval(sampler);
    }
    // A few buffer limits (1 MiB each by default) plus runtime noise; far below 1 GiB.
    assert.ok(peak - base < 96 * 1024, `RSS grew ${(peak - base) >> 10} MiB during the transfers`);
  } finally {
    mosn.kill("SIGKILL");
    await mosn.exited;
    await o.close();
  }
});
