import assert from "node:assert/strict";
import { origin, rawExchange } from "../_support/http.ts";
import { enc, tcpServer, writeAll } from "../_support/net.ts";
import { type ReceivedSpan, startOtlpHttpReceiver } from "../_support/otlp.ts";
import { startTraced, tracedHttpDoc } from "./_otel_fixtures.ts";
import { type EchoClient, echoClient, grpc, startEchoServer } from "../_support/grpc.ts";
import { h2Origin, run } from "../_support/h2.ts";

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

const H2 = { downstream_protocol: "Http2", upstream_protocol: "Http2" };

function unary(c: EchoClient, text: string): Promise<grpc.ServiceError | null> {
  return new Promise((resolve) => c.Unary({ text, n: 1 }, new grpc.Metadata(), {}, resolve));
}

Deno.test("otel: a gRPC call through two chained HTTP/2 proxies is one trace with rpc.* and grpc status", async () => {
  const collector = startOtlpHttpReceiver();
  const seen: string[] = [];
  const srv = await startEchoServer({
    onCall: (md) => seen.push(String(md.get("traceparent")[0] ?? "")),
  });
  const p2 = await startTraced(
    tracedHttpDoc({
      service: "proxy-2",
      upstream: srv.address,
      collector: collector.url,
      proxy: H2,
    }),
  );
  const p1 = await startTraced(tracedHttpDoc({
    service: "proxy-1",
    upstream: `127.0.0.1:${p2.listenerPort("http")}`,
    collector: collector.url,
    proxy: H2,
  }));
  const client = echoClient(p1.listenerPort("http"));
  try {
    assert.equal(await unary(client, "hi"), null);
    await Promise.all([p1.telemetry.forceFlush(), p2.telemetry.forceFlush()]);
    const spans = await collector.waitSpans(4);
    assert.equal(spans.length, 4);
    assert.equal(new Set(spans.map((s) => s.traceId)).size, 1, "one trace");
    const [s1] = byKind(spans, "proxy-1", SERVER);
    const [c1] = byKind(spans, "proxy-1", CLIENT);
    const [s2] = byKind(spans, "proxy-2", SERVER);
    const [c2] = byKind(spans, "proxy-2", CLIENT);
    assert.ok(s1 && c1 && s2 && c2);
    assert.equal(s1.parentSpanId, "");
    assert.equal(c1.parentSpanId, s1.spanId);
    assert.equal(s2.parentSpanId, c1.spanId);
    assert.equal(c2.parentSpanId, s2.spanId);
    // The gRPC server read proxy-2's CLIENT span from its metadata.
    assert.deepEqual(seen, [`00-${c2.traceId}-${c2.spanId}-01`]);
    for (const s of [s1, c1, s2, c2]) {
      assert.equal(s.name, "mosn.test.Echo/Unary");
      assert.equal(s.attributes["rpc.system"], "grpc");
      assert.equal(s.attributes["rpc.service"], "mosn.test.Echo");
      assert.equal(s.attributes["rpc.method"], "Unary");
      // grpc-status came in the response trailers.
      assert.equal(s.attributes["rpc.grpc.status_code"], 0, `${s.service} kind ${s.kind}`);
      assert.notEqual(s.status, 2, "not an error");
    }
    assert.equal(s1.attributes["network.protocol.name"], "HTTP/2");

    // A failing call: grpc-status 3 (INVALID_ARGUMENT) in trailers makes every span an error.
    const err = await unary(client, "fail");
    assert.equal(err?.code, grpc.status.INVALID_ARGUMENT);
    await Promise.all([p1.telemetry.forceFlush(), p2.telemetry.forceFlush()]);
    const all = await collector.waitSpans(8);
    const failed = all.filter((s) => s.traceId !== s1.traceId);
    assert.equal(failed.length, 4);
    for (const s of failed) {
      assert.equal(s.attributes["rpc.grpc.status_code"], 3, `${s.service} kind ${s.kind}`);
      assert.equal(s.status, 2, "an error span");
    }
  } finally {
    client.close();
    await p1.stop("fast");
    await p2.stop("fast");
    await srv.close();
    await collector.close();
  }
});

Deno.test("otel: a gRPC stream the client cancels ends its spans as errors (stream reset recorded)", async () => {
  const collector = startOtlpHttpReceiver();
  const srv = await startEchoServer();
  const p = await startTraced(
    tracedHttpDoc({
      service: "cancel",
      upstream: srv.address,
      collector: collector.url,
      proxy: H2,
    }),
  );
  const client = echoClient(p.listenerPort("http"));
  try {
    // An endless server stream: cancel after the first messages (RST_STREAM CANCEL).
    const call = client.ServerStream({ text: "go", n: -1 });
    call.on("error", () => {});
    await new Promise<void>((resolve) => {
      let n = 0;
      call.on("data", () => {
        if (++n === 3) {
          call.cancel();
          resolve();
        }
      });
    });
    await p.telemetry.forceFlush();
    const spans = await collector.waitSpans(2);
    const server = spans.find((s) => s.kind === SERVER)!;
    const clientSpan = spans.find((s) => s.kind === CLIENT)!;
    assert.equal(server.attributes["rpc.method"], "ServerStream");
    assert.equal(server.status, 2, "the SERVER span is an error");
    assert.equal(server.attributes["error.type"], "downstream_remote_reset");
    assert.match(String(server.attributes["mosn.response_flags"]), /DC/);
    assert.equal(clientSpan.status, 2, "the CLIENT span is an error");
    assert.equal(clientSpan.attributes["error.type"], "cancelled");
  } finally {
    client.close();
    await p.stop("fast");
    await srv.close();
    await collector.close();
  }
});

Deno.test("otel: an HTTP/2 upstream that resets its stream mid-response makes both spans errors", async () => {
  const collector = startOtlpHttpReceiver();
  const up = await h2Origin((stream) => {
    stream.respond({ ":status": 200 });
    stream.write("partial");
    setTimeout(() => stream.destroy(new Error("upstream gives up")), 20); // RST_STREAM, no END_STREAM
  });
  const p = await startTraced(
    tracedHttpDoc({ service: "rst", upstream: up.address, collector: collector.url, proxy: H2 }),
  );
  try {
    const r = await run("curl", [
      "-sS",
      "--max-time",
      "10",
      "--http2-prior-knowledge",
      `http://127.0.0.1:${p.listenerPort("http")}/reset`,
    ]);
    assert.notEqual(r.code, 0, `the client sees the stream reset: ${JSON.stringify(r)}`);
    await p.telemetry.forceFlush();
    const spans = await collector.waitSpans(2);
    const server = spans.find((s) => s.kind === SERVER)!;
    const client = spans.find((s) => s.kind === CLIENT)!;
    assert.equal(server.attributes["http.response.status_code"], 200);
    assert.equal(server.status, 2, "the SERVER span is an error despite the 200");
    assert.equal(server.attributes["error.type"], "upstream_reset");
    assert.equal(client.status, 2);
    assert.equal(client.attributes["error.type"], "remote_reset");
  } finally {
    await p.stop("fast");
    await up.close();
    await collector.close();
  }
});

Deno.test("otel: HTTP/2 (h2c) requests get SERVER and CLIENT spans with the HTTP attributes", async () => {
  const collector = startOtlpHttpReceiver();
  const up = await h2Origin((stream) => {
    stream.respond({ ":status": 201 });
    stream.end("made");
  });
  const p = await startTraced(
    tracedHttpDoc({ service: "h2", upstream: up.address, collector: collector.url, proxy: H2 }),
  );
  try {
    const port = p.listenerPort("http");
    const r = await run("curl", [
      "-sS",
      "--max-time",
      "10",
      "--http2-prior-knowledge",
      `http://127.0.0.1:${port}/things?id=7`,
    ]);
    assert.equal(r.stdout, "made", r.stderr);
    // The origin saw this proxy's CLIENT span as its parent.
    const tp = String(up.seen[0]?.["traceparent"] ?? "");
    await p.telemetry.forceFlush();
    const spans = await collector.waitSpans(2);
    const server = spans.find((s) => s.kind === SERVER)!;
    const client = spans.find((s) => s.kind === CLIENT)!;
    assert.equal(client.parentSpanId, server.spanId);
    assert.equal(tp, `00-${client.traceId}-${client.spanId}-01`);
    assert.equal(server.name, "GET");
    assert.equal(server.attributes["http.request.method"], "GET");
    assert.equal(server.attributes["url.path"], "/things");
    assert.equal(server.attributes["url.query"], "id=7");
    assert.equal(server.attributes["url.scheme"], "http");
    assert.equal(server.attributes["network.protocol.version"], "2");
    assert.equal(server.attributes["server.address"], "127.0.0.1");
    assert.equal(server.attributes["server.port"], port);
    assert.equal(server.attributes["http.response.status_code"], 201);
    assert.equal(server.attributes["rpc.system"], undefined, "plain HTTP/2 is not RPC");
    assert.equal(client.attributes["http.request.method"], "GET");
    assert.equal(client.attributes["http.response.status_code"], 201);
    assert.equal(client.attributes["mosn.upstream.host"], up.address);
  } finally {
    await p.stop("fast");
    await up.close();
    await collector.close();
  }
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
