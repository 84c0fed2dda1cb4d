import { startProcess } from "../_support/mosn.ts";
import { httpDoc, simpleRouter } from "../_support/http.ts";
import { freePort, writeAll } from "../_support/net.ts";
import { assertStallBounded, bigOrigin, requestBigAndStall } from "./_h2_stall.ts";

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
    await assertStallBounded(o, mosn, async () => {
      const c = await Deno.connect({ hostname: "127.0.0.1", port });
      await requestBigAndStall(c, window, "http");
      return c;
    });
  });
}

Deno.test("http2 flow control: an HTTP/1.1 client that stops reading an h2c upstream's response", async () => {
  const o = await bigOrigin();
  const { port, mosn } = await startProxy(o, "Http1");
  await assertStallBounded(o, mosn, async () => {
    const c = await Deno.connect({ hostname: "127.0.0.1", port });
    await writeAll(c, new TextEncoder().encode("GET /big HTTP/1.1\r\nHost: t\r\n\r\n"));
    return c;
  });
});
