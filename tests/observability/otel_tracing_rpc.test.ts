import assert from "node:assert/strict";
import { rpcDoc } from "../_support/rpc/proxy_doc.ts";
import {
  boltRawClient,
  HELLO_SERVICE,
  HELLO_SERVICE_ID,
  sofaClient,
  startSofaServer,
} from "../_support/rpc/sofa.ts";
import { dubbo2jsClient, DUBBO_HELLO_SERVICE, startDubboProvider } from "../_support/rpc/dubbo.ts";
import { type ReceivedSpan, startOtlpHttpReceiver } from "../_support/otlp.ts";
import { createXProtocol } from "../../src/protocol/xprotocol/registry.ts";
import { startTraced, tracing } from "./_otel_fixtures.ts";

const SERVER = 2, CLIENT = 3;

function tracedRpcDoc(
  protocol: string,
  service: string,
  upstream: string,
  collector: string,
): Record<string, unknown> {
  return {
    ...rpcDoc(protocol, upstream),
    tracing: tracing({
      service,
      upstream,
      collector,
      propagators: ["tracecontext", "sofa"],
    }),
  };
}

function chain(spans: ReceivedSpan[]): ReceivedSpan[] {
  const pick = (service: string, kind: number) => {
    const s = spans.find((x) => x.service === service && x.kind === kind);
    assert.ok(s, `${service} kind ${kind}`);
    return s;
  };
  const s1 = pick("proxy-1", SERVER), c1 = pick("proxy-1", CLIENT);
  const s2 = pick("proxy-2", SERVER), c2 = pick("proxy-2", CLIENT);
  assert.equal(new Set(spans.map((s) => s.traceId)).size, 1, "one trace");
  assert.equal(c1.parentSpanId, s1.spanId);
  assert.equal(s2.parentSpanId, c1.spanId);
  assert.equal(c2.parentSpanId, s2.spanId);
  return [s1, c1, s2, c2];
}

Deno.test("otel: a bolt call through two chained proxies is one trace; the server's frame carries traceparent and SOFA keys", async () => {
  const collector = startOtlpHttpReceiver();
  const server = await startSofaServer();
  const p2 = await startTraced(tracedRpcDoc("bolt", "proxy-2", server.address, collector.url));
  const p1 = await startTraced(
    tracedRpcDoc("bolt", "proxy-1", `127.0.0.1:${p2.listenerPort("rpc")}`, collector.url),
  );
  const client = sofaClient({ address: `127.0.0.1:${p1.listenerPort("rpc")}` });
  try {
    assert.equal(await client.call(HELLO_SERVICE, "sayHello", ["otel"]), "hello otel");
    await Promise.all([p1.telemetry.forceFlush(), p2.telemetry.forceFlush()]);
    const spans = await collector.waitSpans(4);
    const [s1, c1, s2, c2] = chain(spans);
    for (const s of [s1!, c1!, s2!, c2!]) {
      assert.equal(s.attributes["rpc.system"], "sofarpc");
      assert.equal(s.attributes["rpc.service"], HELLO_SERVICE_ID);
      // sofa-rpc-node puts the method only in the hessian body (SOFARPC Java also sends
      // sofa_head_method_name, which becomes rpc.method): the span is named by the service.
      assert.equal(s.name, HELLO_SERVICE_ID);
    }
    assert.equal(s1!.attributes["mosn.response.code"], 200);
    assert.equal(c2!.attributes["mosn.upstream.host"], server.address);
    assert.equal(s2!.attributes["mosn.cluster"], "svc");

    const bolt = createXProtocol("bolt");
    const req = server.frames.filter((f) => !f.heartbeat).at(-1);
    assert.ok(req);
    const decoded = bolt.decode(req.raw);
    assert.notEqual(decoded, "again");
    if (decoded === "again") return;
    const h = decoded.frame.headers;
    assert.equal(h.get("traceparent"), `00-${c2!.traceId}-${c2!.spanId}-01`);
    assert.ok(h.get("rpc_trace_context.sofaTraceId"), "SOFA trace id present");
    assert.ok(h.get("rpc_trace_context.sofaRpcId"), "SOFA rpc id present");
  } finally {
    await client.close();
    await p1.stop("fast");
    await p2.stop("fast");
    await server.close();
    await collector.close();
  }
});

Deno.test("otel: a dubbo call through two chained proxies is one trace; traceparent travels in the attachments", async () => {
  const collector = startOtlpHttpReceiver();
  const provider = await startDubboProvider();
  const p2 = await startTraced(tracedRpcDoc("dubbo", "proxy-2", provider.address, collector.url));
  const p1 = await startTraced(
    tracedRpcDoc("dubbo", "proxy-1", `127.0.0.1:${p2.listenerPort("rpc")}`, collector.url),
  );
  const client = dubbo2jsClient({ address: `127.0.0.1:${p1.listenerPort("rpc")}` });
  try {
    assert.equal(await client.call(DUBBO_HELLO_SERVICE, "plus", [1, 2]), 3);
    await Promise.all([p1.telemetry.forceFlush(), p2.telemetry.forceFlush()]);
    const spans = await collector.waitSpans(4);
    const [s1, , , c2] = chain(spans);
    assert.equal(s1!.parentSpanId, "");
    assert.equal(s1!.attributes["rpc.system"], "apache_dubbo");
    assert.equal(s1!.attributes["rpc.method"], "plus");
    assert.match(String(s1!.attributes["rpc.service"]), /com\.test\.HelloService/);

    const dubbo = createXProtocol("dubbo");
    const req = provider.frames.filter((f) => !f.heartbeat).at(-1);
    assert.ok(req);
    const decoded = dubbo.decode(req.raw);
    assert.notEqual(decoded, "again");
    if (decoded === "again") return;
    assert.equal(decoded.frame.headers.get("traceparent"), `00-${c2!.traceId}-${c2!.spanId}-01`);
  } finally {
    await client.close();
    await p1.stop("fast");
    await p2.stop("fast");
    await provider.close();
    await collector.close();
  }
});

Deno.test("otel: a bolt call carrying SOFA tracer keys joins that trace; sofa_head_method_name is rpc.method", async () => {
  const collector = startOtlpHttpReceiver();
  const server = await startSofaServer();
  const p = await startTraced(tracedRpcDoc("bolt", "sofa-in", server.address, collector.url));
  const client = await boltRawClient(p.listenerPort("rpc"));
  try {
    // A real sofa-bolt-node request, re-encoded with the keys SOFARPC Java adds.
    const bolt = createXProtocol("bolt");
    const probe = await boltRawClient(server.port);
    await probe.call({ service: HELLO_SERVICE_ID, method: "sayHello", args: ["x"] }, 7);
    const sent = bolt.decode(probe.sentBytes());
    await probe.close();
    assert.notEqual(sent, "again");
    if (sent === "again") return;
    const frame = sent.frame;
    const sofaTraceId = "0a0fe8ec1500000000010011190";
    frame.headers.set("rpc_trace_context.sofaTraceId", sofaTraceId);
    frame.headers.set("rpc_trace_context.sofaRpcId", "0.1");
    frame.headers.set("sofa_head_method_name", "sayHello");
    await client.writeRaw(bolt.encode(frame));
    const resp = await client.next(7);
    assert.equal(resp.packetType, "response");
    assert.equal(resp.data?.appResponse, "hello x");

    await p.telemetry.forceFlush();
    const spans = await collector.waitSpans(2);
    const traceId = sofaTraceId.padStart(32, "0");
    assert.ok(spans.every((s) => s.traceId === traceId), "the SOFA trace id, padded");
    const server_ = spans.find((s) => s.kind === SERVER)!;
    assert.equal(server_.attributes["rpc.method"], "sayHello");
    assert.equal(server_.name, `${HELLO_SERVICE_ID}/sayHello`);
    const got = bolt.decode(server.frames.filter((f) => !f.heartbeat).at(-1)!.raw);
    if (got === "again") throw new Error("partial frame");
    assert.equal(got.frame.headers.get("rpc_trace_context.sofaTraceId"), sofaTraceId, "kept");
    assert.equal(got.frame.headers.get("rpc_trace_context.sofaRpcId"), "0.1");
  } finally {
    await client.close();
    await p.stop("fast");
    await server.close();
    await collector.close();
  }
});
