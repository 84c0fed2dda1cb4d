/**
 * A minimal OTLP/HTTP sink for the tracing benchmark: accepts POST /v1/traces and /v1/metrics,
 * reads the body and answers 200 with an empty protobuf. Usage: `otlp_sink.ts <port>`.
 */

const port = Number(Deno.args[0] ?? 29318);
Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, async (req) => {
  await req.arrayBuffer();
  return new Response(new Uint8Array(0), { headers: { "content-type": "application/x-protobuf" } });
});
