import assert from "node:assert/strict";
import { startInProcess } from "../_support/mosn.ts";
import { httpDoc, origin, simpleRouter } from "../_support/http.ts";

Deno.test("http1: request stats, access log lines and stream filters from config", async () => {
  const o = origin(() => new Response("hello"));
  const dir = await Deno.makeTempDir();
  const logPath = `${dir}/access.log`;
  const mosn = startInProcess(
    httpDoc({
      clusters: [{ name: "o", hosts: [{ address: o.address }] }],
      routers: [simpleRouter([
        {
          match: { prefix: "/nothing-here", headers: [{ name: "x-never", value: "1" }] },
          route: { cluster_name: "o" },
        },
        { match: { prefix: "/" }, route: { cluster_name: "o" } },
      ], {})],
      streamFilters: [
        {
          type: "fault",
          config: {
            abort: { status: 503, percentage: 100 },
            headers: [{ name: "x-fault", value: "yes" }],
          },
        },
        { type: "payload_limit", config: { max_entity_size: 10, http_status: 413 } },
      ],
      accessLogs: [{
        log_path: logPath,
        log_format:
          "%REQ(:METHOD)% %REQ(:PATH)% %RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %UPSTREAM_CLUSTER% %UPSTREAM_HOST%\n",
      }],
    }),
    { admin: true },
  );
  const port = mosn.listenerPort("http");
  try {
    for (let i = 0; i < 3; i++) {
      const r = await fetch(`http://127.0.0.1:${port}/ok`);
      assert.equal(await r.text(), "hello");
    }
    const f = await fetch(`http://127.0.0.1:${port}/ok`, { headers: { "x-fault": "yes" } });
    await f.body?.cancel();
    assert.equal(f.status, 503);
    const big = await fetch(`http://127.0.0.1:${port}/upload`, {
      method: "POST",
      body: "x".repeat(100),
    });
    await big.body?.cancel();
    assert.equal(big.status, 413);

    const stats = await (await fetch(`http://127.0.0.1:${mosn.adminPort}/api/v1/stats`)).json();
    const down = stats.downstream["listener.http.proxy.global"];
    assert.equal(down.request_total, "5");
    assert.equal(down.request_200_total, "3");
    assert.equal(down.request_503_total, "1");
    assert.equal(down.request_413_total, "1");
    assert.equal(down.request_active, "0");
    const up = stats.upstream["cluster.o"];
    assert.equal(up.request_total, "3");
    assert.equal(up.response_success, "3");
    assert.equal(stats.upstream[`cluster.o.host.${o.address}`].request_total, "3");

    await mosn.stop("fast"); // flushes the access log
    const lines = (await Deno.readTextFile(logPath)).trim().split("\n");
    assert.equal(lines.length, 5);
    assert.equal(lines[0], `GET /ok 200 - 0 5 o ${o.address}`);
    assert.match(lines[3]!, /^GET \/ok 503 FI /);
    assert.match(lines[4]!, /^POST \/upload 413 RTL /);
  } finally {
    await mosn.stop("fast");
    await o.close();
    await Deno.remove(dir, { recursive: true });
  }
});
