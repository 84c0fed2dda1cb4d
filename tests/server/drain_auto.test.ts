import assert from "node:assert/strict";
import { startInProcess } from "../_support/mosn.ts";
import { httpDoc, origin, simpleRouter } from "../_support/http.ts";
import { readAll, writeAll } from "../_support/net.ts";
import { waitAccepted } from "../_support/wait.ts";

Deno.test("drain: a connection still detecting its protocol (Auto) is drained once detected", async () => {
  const o = origin(() => new Response("ok"));
  const mosn = startInProcess(httpDoc({
    clusters: [{ name: "c", hosts: [{ address: o.address }] }],
    routers: [simpleRouter([{ match: { prefix: "/" }, route: { cluster_name: "c" } }])],
    proxy: { downstream_protocol: "Auto" },
  }));
  try {
    const c = await Deno.connect({ hostname: "127.0.0.1", port: mosn.listenerPort("http") });
    await waitAccepted(c); // accepted, nothing sent yet
    mosn.drainListeners(true);
    await writeAll(c, new TextEncoder().encode("GET / HTTP/1.1\r\nHost: t\r\n\r\n"));
    // Without the drain this keep-alive connection would stay open: readAll ends only at EOF.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const bytes = await Promise.race([
      readAll(c),
      new Promise<null>((r) => (timer = setTimeout(() => r(null), 10_000))),
    ]);
    clearTimeout(timer);
    c.close();
    assert.ok(bytes, "the connection was closed after its answer");
    const text = new TextDecoder().decode(bytes);
    assert.match(text, /^HTTP\/1\.1 200/);
    assert.match(text, /ok$/);
  } finally {
    await mosn.stop("fast");
    await o.close();
  }
});
