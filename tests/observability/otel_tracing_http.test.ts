import assert from "node:assert/strict";
import { origin, rawExchange } from "../_support/http.ts";
import { enc, tcpServer, writeAll } from "../_support/net.ts";
import { type ReceivedSpan, startOtlpHttpReceiver } from "../_support/otlp.ts";
import { startTraced, tracedHttpDoc } from "./_otel_fixtures.ts";

const SERVER = 2, CLIENT = 3;

function byKind(spans: ReceivedSpan[], service: string, kind: number): ReceivedSpan[] {
  return spans.filter((s) => s.service === service && s.kind === kind);
}

Deno.test("otel: one trace through two chained HTTP/1 proxies to an upstream that reads traceparent", async () => {
  const collector = startOtlpHttpReceiver();
  const seen: string[] = [];
  const o = origin((req) => {
    seen.push(req.headers.get("traceparent") ?? "");
    return new Response("hello");
  });
  const dir = await Deno.makeTempDir();
  const logPath = `${dir}/access.log`;
  const p2 = await startTraced(
    tracedHttpDoc({ service: "proxy-2", upstream: o.address, collector: collector.url }),
  );
  const p1 = await startTraced(tracedHttpDoc({
    service: "proxy-1",
    upstream: `127.0.0.1:${p2.listenerPort("http")}`,
    collector: collector.url,
    accessLogs: [{ log_path: logPath, log_format: "%TRACE_ID% %SPAN_ID% %RESPONSE_CODE%\n" }],
  }));
  try {
    const r = await fetch(`http://127.0.0.1:${p1.listenerPort("http")}/hello?x=1`);
    assert.equal(await r.text(), "hello");
    await Promise.all([p1.telemetry.forceFlush(), p2.telemetry.forceFlush()]);
    const spans = await collector.waitSpans(4);
    assert.equal(spans.length, 4);
    assert.equal(new Set(spans.map((s) => s.traceId)).size, 1, "one trace");

    const [s1] = byKind(spans, "proxy-1", SERVER);
    const [c1] = byKind(spans, "proxy-1", CLIENT);
    const [s2] = byKind(spans, "proxy-2", SERVER);
    const [c2] = byKind(spans, "proxy-2", CLIENT);
    assert.ok(s1 && c1 && s2 && c2);
    assert.equal(s1.parentSpanId, "", "proxy-1 server span is the root");
    assert.equal(c1.parentSpanId, s1.spanId);
    assert.equal(s2.parentSpanId, c1.spanId);
    assert.equal(c2.parentSpanId, s2.spanId);
    // The upstream got proxy-2's client span as its parent.
    assert.equal(seen.length, 1);
    assert.equal(seen[0], `00-${c2.traceId}-${c2.spanId}-01`);

    assert.equal(s1.name, "GET");
    assert.equal(s1.attributes["http.request.method"], "GET");
    assert.equal(s1.attributes["url.path"], "/hello");
    assert.equal(s1.attributes["url.query"], "x=1");
    assert.equal(s1.attributes["http.response.status_code"], 200);
    assert.equal(s1.attributes["server.address"], "127.0.0.1");
    assert.equal(s1.attributes["network.peer.address"], "127.0.0.1");
    assert.equal(s1.attributes["mosn.route.name"], "/");
    assert.equal(s1.attributes["mosn.cluster"], "next");
    assert.equal(s1.attributes["mosn.retry.count"], 0);
    assert.equal(s1.attributes["mosn.listener"], "http");
    assert.equal(c1.attributes["server.port"], p2.listenerPort("http"));
    assert.equal(c1.attributes["mosn.upstream.host"], `127.0.0.1:${p2.listenerPort("http")}`);
    assert.equal(c1.attributes["mosn.cluster"], "next");
    assert.equal(c1.attributes["http.response.status_code"], 200);
    assert.equal(c2.attributes["mosn.upstream.host"], o.address);

    // Access log carries the SERVER span's ids.
    await p1.stop("fast");
    const line = (await Deno.readTextFile(logPath)).trim();
    assert.equal(line, `${s1.traceId} ${s1.spanId} 200`);
  } finally {
    await p1.stop("fast");
    await p2.stop("fast");
    await o.close();
    await collector.close();
  }
});

Deno.test("otel: an incoming traceparent is the parent; retries are separate CLIENT spans", async () => {
  const collector = startOtlpHttpReceiver();
  let n = 0;
  const o = origin(() => new Response(n++ === 0 ? "busy" : "ok", { status: n === 1 ? 503 : 200 }));
  const p = await startTraced(tracedHttpDoc({
    service: "retrying",
    upstream: o.address,
    collector: collector.url,
    ratio: 0, // the caller's sampled flag decides
    route: { retry_policy: { retry_on: "5xx", num_retries: 2 } },
  }));
  try {
    const parent = "0af7651916cd43dd8448eb211c80319c";
    const r = await fetch(`http://127.0.0.1:${p.listenerPort("http")}/r`, {
      headers: { traceparent: `00-${parent}-b7ad6b7169203331-01`, tracestate: "k=v" },
    });
    assert.equal(await r.text(), "ok");
    // Not sampled by the caller: no span, whatever the ratio.
    const r2 = await fetch(`http://127.0.0.1:${p.listenerPort("http")}/r`, {
      headers: { traceparent: `00-${"1".repeat(32)}-b7ad6b7169203331-00` },
    });
    await r2.body?.cancel();
    await p.telemetry.forceFlush();
    const spans = await collector.waitSpans(3);
    assert.equal(spans.length, 3);
    assert.ok(spans.every((s) => s.traceId === parent));
    const [server] = spans.filter((s) => s.kind === SERVER);
    assert.ok(server);
    assert.equal(server.parentSpanId, "b7ad6b7169203331");
    assert.equal(server.attributes["mosn.retry.count"], 1);
    const clients = spans.filter((s) => s.kind === CLIENT).sort((a, b) =>
      Number(a.attributes["mosn.attempt"]) - Number(b.attributes["mosn.attempt"])
    );
    assert.equal(clients.length, 2);
    assert.deepEqual(clients.map((c) => c.parentSpanId), [server.spanId, server.spanId]);
    assert.deepEqual(clients.map((c) => c.attributes["http.response.status_code"]), [503, 200]);
    assert.deepEqual(clients.map((c) => c.attributes["mosn.retry.count"]), [0, 1]);
    assert.equal(clients[0]!.status, 2, "the failed attempt is an error span");
  } finally {
    await p.stop("fast");
    await o.close();
    await collector.close();
  }
});

Deno.test("otel: unsampled requests pass through untouched and make no spans", async () => {
  const collector = startOtlpHttpReceiver();
  const seen: (string | null)[] = [];
  const o = origin((req) => {
    seen.push(req.headers.get("traceparent"));
    return new Response("hello");
  });
  const off = await startTraced(
    tracedHttpDoc({ service: "off", upstream: o.address, collector: collector.url, ratio: 0 }),
  );
  try {
    const r = await fetch(`http://127.0.0.1:${off.listenerPort("http")}/`);
    await r.body?.cancel();
    // An unsampled caller's context is forwarded as it came.
    const tp = `00-${"2".repeat(32)}-${"3".repeat(16)}-00`;
    const r2 = await fetch(`http://127.0.0.1:${off.listenerPort("http")}/`, {
      headers: { traceparent: tp },
    });
    await r2.body?.cancel();
    await off.telemetry.forceFlush();
    assert.deepEqual(seen, [null, tp]);
    assert.equal(collector.spans.length, 0);
  } finally {
    await off.stop("fast");
    await o.close();
    await collector.close();
  }
});

Deno.test("otel: grpc-status from response trailers lands on both spans", async () => {
  const collector = startOtlpHttpReceiver();
  // An HTTP/1.1 upstream answering with chunked framing and a grpc-status trailer.
  const up = tcpServer(async (c) => {
    const buf = new Uint8Array(4096);
    let head = "";
    while (!head.includes("\r\n\r\n")) {
      const n = await c.read(buf);
      if (n === null) return;
      head += new TextDecoder().decode(buf.subarray(0, n));
    }
    await writeAll(
      c,
      enc.encode(
        "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ntrailer: grpc-status\r\n\r\n" +
          "2\r\nok\r\n0\r\ngrpc-status: 5\r\n\r\n",
      ),
    );
  });
  const p = await startTraced(tracedHttpDoc({
    service: "grpc-status",
    upstream: up.address,
    collector: collector.url,
  }));
  try {
    const text = await rawExchange(
      p.listenerPort("http"),
      "GET /pkg.Svc/Get HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
    );
    assert.match(text, /grpc-status: 5/i);
    await p.telemetry.forceFlush();
    const spans = await collector.waitSpans(2);
    for (const s of spans) {
      assert.equal(s.attributes["rpc.grpc.status_code"], 5, `kind ${s.kind}`);
      assert.equal(s.status, 2, "an error span");
    }
  } finally {
    await p.stop("fast");
    await up.close();
    await collector.close();
  }
});

// gRPC (HTTP/2) gets spans through the same proxy-layer hooks (RequestMessage.protocol "HTTP/2"
// with content-type application/grpc → rpc.system "grpc", rpc.service/rpc.method from the
// path). The end-to-end check needs the HTTP/2 codec, which lands on another branch: enable
// this test once `downstream_protocol: "Http2"` is served.
Deno.test({
  name: "otel: a gRPC call through two chained proxies is one trace (needs HTTP/2)",
  ignore: true,
  fn() {},
});

Deno.test("otel: B3 in, B3 and Jaeger out when configured", async () => {
  const collector = startOtlpHttpReceiver();
  const seen: Headers[] = [];
  const o = origin((req) => {
    seen.push(req.headers);
    return new Response("hello");
  });
  const p = await startTraced(tracedHttpDoc({
    service: "b3",
    upstream: o.address,
    collector: collector.url,
    ratio: 0,
    propagators: ["b3multi", "jaeger"],
  }));
  try {
    const trace = "463ac35c9f6413ad48485a3953bb6124";
    const r = await fetch(`http://127.0.0.1:${p.listenerPort("http")}/`, {
      headers: { "X-B3-TraceId": trace, "X-B3-SpanId": "a2fb4a1d1a96d312", "X-B3-Sampled": "1" },
    });
    await r.body?.cancel();
    await p.telemetry.forceFlush();
    const spans = await collector.waitSpans(2);
    const client = spans.find((s) => s.kind === CLIENT)!;
    const server = spans.find((s) => s.kind === SERVER)!;
    assert.equal(server.traceId, trace);
    assert.equal(server.parentSpanId, "a2fb4a1d1a96d312");
    const h = seen[0]!;
    assert.equal(h.get("x-b3-traceid"), trace);
    assert.equal(h.get("x-b3-spanid"), client.spanId);
    assert.equal(h.get("x-b3-sampled"), "1");
    assert.equal(h.get("uber-trace-id"), `${trace}:${client.spanId}:0:1`);
    assert.equal(h.get("traceparent"), null, "tracecontext not configured");
  } finally {
    await p.stop("fast");
    await o.close();
    await collector.close();
  }
});
