import assert from "node:assert/strict";
import { rssKiB, startProcess } from "../_support/mosn.ts";
import { httpDoc, simpleRouter } from "../_support/http.ts";
import { freePort, writeAll } from "../_support/net.ts";
import { bigOrigin, requestBigAndStall, settle } from "./_h2_stall.ts";

/** The proxy (in its own process, to measure its RSS) in front of `o`, no route timeout. */
async function startProxy(o: { address: string }, downstream: "Http1" | "Http2") {
  const port = freePort();
  const doc = httpDoc({
    clusters: [{ name: "o", hosts: [{ address: o.address }] }],
    routers: [
      simpleRouter([{ match: { prefix: "/" }, route: { cluster_name: "o", timeout: "0s" } }]),
    ],
    proxy: { downstream_protocol: downstream, upstream_protocol: "Http2" },
    listener: { address: `127.0.0.1:${port}` },
  });
  return { port, mosn: await startProcess(doc) };
}

for (const [name, window] of [["small window", 65535], ["huge window", 0x7fffffff]] as const) {
  Deno.test(`http2 flow control: a client that stops reading (${name}) keeps the proxy's RSS bounded`, async () => {
    const o = await bigOrigin();
    const { port, mosn } = await startProxy(o, "Http2");
    let c: Deno.Conn | undefined;
    try {
      const before = await rssKiB(mosn.child.pid);
      c = await Deno.connect({ hostname: "127.0.0.1", port });
      await requestBigAndStall(c, window, "http");
      const written = await settle(() => o.state.written);
      const after = await rssKiB(mosn.child.pid);
      assert.ok(written > 128 * 1024, `the response never started (${written} bytes)`);
      // The origin was stopped long before 1 GiB: windows and watermarks held it back.
      assert.ok(written < 64 * 1024 * 1024, `origin wrote ${written} bytes`);
      assert.ok(
        after - before < 64 * 1024,
        `RSS grew ${after - before} KiB (${before} → ${after})`,
      );
    } finally {
      c?.close();
      mosn.kill("SIGKILL");
      await mosn.exited;
      await o.close();
    }
  });
}

Deno.test("http2 flow control: an HTTP/1.1 client that stops reading an h2c upstream's response", async () => {
  const o = await bigOrigin();
  const { port, mosn } = await startProxy(o, "Http1");
  let c: Deno.Conn | undefined;
  try {
    const before = await rssKiB(mosn.child.pid);
    c = await Deno.connect({ hostname: "127.0.0.1", port });
    await writeAll(c, new TextEncoder().encode("GET /big HTTP/1.1\r\nHost: t\r\n\r\n"));
    const written = await settle(() => o.state.written);
    const after = await rssKiB(mosn.child.pid);
    assert.ok(written > 128 * 1024, `the response never started (${written} bytes)`);
    assert.ok(written < 64 * 1024 * 1024, `origin wrote ${written} bytes`);
    assert.ok(after - before < 64 * 1024, `RSS grew ${after - before} KiB (${before} → ${after})`);
  } finally {
    c?.close();
    mosn.kill("SIGKILL");
    await mosn.exited;
    await o.close();
  }
});
