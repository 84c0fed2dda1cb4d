import assert from "node:assert/strict";
import { HeaderMap } from "../../src/protocol/header_map.ts";
import {
  extractContext,
  injectContext,
  propagator,
} from "../../src/observability/otel/propagation.ts";
import type { TraceContext } from "../../src/observability/otel/types.ts";

const T = "4bf92f3577b34da6a3ce929d0e0e4736";
const S = "00f067aa0ba902b7";
const ctx: TraceContext = { traceId: T, spanId: S, sampled: true, traceState: "rojo=00f067aa" };

Deno.test("tracecontext: reads and writes traceparent/tracestate; rejects malformed and all-zero ids", () => {
  const p = [propagator("tracecontext")];
  const h = HeaderMap.from({ traceparent: `00-${T}-${S}-01`, tracestate: "a=1" });
  assert.deepEqual(extractContext(p, h), {
    traceId: T,
    spanId: S,
    sampled: true,
    traceState: "a=1",
  });
  assert.equal(
    extractContext(p, HeaderMap.from({ traceparent: `00-${T}-${S}-00` }))?.sampled,
    false,
  );
  for (
    const bad of [
      `00-${"0".repeat(32)}-${S}-01`,
      `00-${T}-${"0".repeat(16)}-01`,
      `ff-${T}-${S}-01`,
      `00-${T.toUpperCase()}-${S}-01`,
      `00-${T}-${S}-01-extra`,
      "garbage",
    ]
  ) {
    assert.equal(extractContext(p, HeaderMap.from({ traceparent: bad })), undefined, bad);
  }
  // A later version may append fields.
  assert.ok(extractContext(p, HeaderMap.from({ traceparent: `01-${T}-${S}-01-more` })));
  const out = new HeaderMap();
  injectContext(p, out, ctx);
  assert.equal(out.get("traceparent"), `00-${T}-${S}-01`);
  assert.equal(out.get("tracestate"), "rojo=00f067aa");
});

Deno.test("b3: single and multi headers, 64-bit trace ids padded, sampling flags", () => {
  const p = [propagator("b3")];
  assert.deepEqual(
    extractContext(p, HeaderMap.from({ b3: `a3ce929d0e0e4736-${S}-1` })),
    { traceId: "0000000000000000a3ce929d0e0e4736", spanId: S, sampled: true, traceState: "" },
  );
  const multi = HeaderMap.from({ "X-B3-TraceId": T, "X-B3-SpanId": S, "X-B3-Sampled": "0" });
  assert.equal(extractContext(p, multi)?.sampled, false);
  const debug = HeaderMap.from({ "X-B3-TraceId": T, "X-B3-SpanId": S, "X-B3-Flags": "1" });
  assert.equal(extractContext(p, debug)?.sampled, true);
  assert.equal(extractContext(p, HeaderMap.from({ "X-B3-TraceId": T }))?.sampled, undefined);
  const out = new HeaderMap();
  injectContext([propagator("b3"), propagator("b3multi")], out, ctx);
  assert.equal(out.get("b3"), `${T}-${S}-1`);
  assert.equal(out.get("x-b3-traceid"), T);
  assert.equal(out.get("x-b3-spanid"), S);
  assert.equal(out.get("x-b3-sampled"), "1");
});

Deno.test("jaeger: uber-trace-id, URL-encoded too", () => {
  const p = [propagator("jaeger")];
  assert.deepEqual(
    extractContext(p, HeaderMap.from({ "uber-trace-id": `${T}:${S}:0:1` })),
    { traceId: T, spanId: S, sampled: true, traceState: "" },
  );
  assert.equal(
    extractContext(p, HeaderMap.from({ "uber-trace-id": `a3ce929d0e0e4736%3A${S}%3A0%3A0` }))
      ?.traceId,
    "0000000000000000a3ce929d0e0e4736",
  );
  assert.equal(extractContext(p, HeaderMap.from({ "uber-trace-id": "x:y:z" })), undefined);
  assert.equal(extractContext(p, HeaderMap.from({ "uber-trace-id": "%E0%A4%A%3A1" })), undefined);
  const out = new HeaderMap();
  injectContext(p, out, ctx);
  assert.equal(out.get("uber-trace-id"), `${T}:${S}:0:1`);
});

Deno.test("sofa: rpc_trace_context keys become a trace id and a stable parent; existing keys are kept", () => {
  const p = [propagator("sofa")];
  const h = HeaderMap.from({
    "rpc_trace_context.sofaTraceId": "0a0fe8ec1500000000010011190",
    "rpc_trace_context.sofaRpcId": "0.1",
  });
  const a = extractContext(p, h);
  assert.ok(a);
  assert.equal(a.traceId, "0a0fe8ec1500000000010011190".padStart(32, "0"));
  assert.equal(a.traceId.length, 32);
  assert.equal(a.sampled, undefined, "SOFA carries no sampling flag: the ratio decides");
  assert.deepEqual(extractContext(p, h), a, "same keys, same parent");
  injectContext(p, h, ctx);
  assert.equal(h.get("rpc_trace_context.sofaTraceId"), "0a0fe8ec1500000000010011190");
  const fresh = new HeaderMap();
  injectContext(p, fresh, ctx);
  assert.equal(fresh.get("rpc_trace_context.sofaTraceId"), T);
  assert.equal(fresh.get("rpc_trace_context.sofaRpcId"), "0");
  // SOFA over HTTP
  const http = HeaderMap.from({ "SOFA-TraceId": "0a0fe8ec15", "SOFA-RpcId": "0" });
  assert.equal(extractContext(p, http)?.traceId, "0".repeat(22) + "0a0fe8ec15");
});

Deno.test("the first propagator with a valid context wins", () => {
  const h = HeaderMap.from({ traceparent: "bad", "uber-trace-id": `${T}:${S}:0:1` });
  const c = extractContext([propagator("tracecontext"), propagator("jaeger")], h);
  assert.equal(c?.spanId, S);
});
