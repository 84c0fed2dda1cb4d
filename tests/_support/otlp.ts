/**
 * A test OTLP collector: HTTP/protobuf on 127.0.0.1:0 (`/v1/traces`, `/v1/metrics`) and,
 * optionally, gRPC (grpc-js), decoding every request with the official OpenTelemetry .proto
 * files (npm @opentelemetry/otlp-grpc-exporter-base@0.38.0, alias "otlp-protos", build/protos).
 */

import protobuf from "protobufjs";
import * as grpc from "@grpc/grpc-js";
import { REPO } from "./mosn.ts";

/** Where the 0.38.0 package's protos are installed (Deno's node_modules/.deno layout). */
export function otlpProtosDir(): string {
  const base = `${REPO}node_modules/.deno/`;
  for (const e of Deno.readDirSync(base)) {
    if (e.name.startsWith("@opentelemetry+otlp-grpc-exporter-base@0.38.0")) {
      return `${base}${e.name}/node_modules/@opentelemetry/otlp-grpc-exporter-base/build/protos/`;
    }
  }
  throw new Error("otlp-protos (otlp-grpc-exporter-base@0.38.0) is not installed: ./deno install");
}

let rootCache: protobuf.Root | undefined;
export function otlpRoot(): protobuf.Root {
  if (rootCache) return rootCache;
  const dir = otlpProtosDir();
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => dir + target;
  root.loadSync([
    "opentelemetry/proto/collector/trace/v1/trace_service.proto",
    "opentelemetry/proto/collector/metrics/v1/metrics_service.proto",
  ]);
  return rootCache = root;
}

export type AttrValue = string | number | boolean;

export interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  /** OTLP SpanKind: 2 SERVER, 3 CLIENT. */
  kind: number;
  attributes: Record<string, AttrValue>;
  /** Status code: 0 unset, 1 ok, 2 error. */
  status: number;
}

export interface ReceivedPoint {
  metric: string;
  kind: "sum" | "gauge" | "histogram";
  attributes: Record<string, AttrValue>;
  value: number;
  bucketCounts?: number[];
}

const hex = (b: Uint8Array | undefined): string =>
  b ? Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("") : "";

interface KeyValue {
  key: string;
  value?: {
    /** protobufjs' virtual oneof: the name of the field that is set. */
    value?: "stringValue" | "intValue" | "doubleValue" | "boolValue" | string;
    stringValue?: string;
    intValue?: unknown;
    doubleValue?: number;
    boolValue?: boolean;
  };
}

/** int64 as decoded without the long package: a number or {low, high}. */
const num = (v: unknown): number => {
  if (typeof v === "number") return v;
  if (v && typeof v === "object" && "low" in v && "high" in v) {
    const l = v as { low: number; high: number };
    return (l.high >>> 0) * 2 ** 32 + (l.low >>> 0);
  }
  return Number(v ?? 0);
};

function attrs(list: KeyValue[] | undefined): Record<string, AttrValue> {
  const out: Record<string, AttrValue> = {};
  for (const kv of list ?? []) {
    const v = kv.value ?? {};
    if (v.value === "stringValue") out[kv.key] = v.stringValue ?? "";
    else if (v.value === "intValue") out[kv.key] = num(v.intValue);
    else if (v.value === "doubleValue") out[kv.key] = v.doubleValue ?? 0;
    else if (v.value === "boolValue") out[kv.key] = v.boolValue ?? false;
  }
  return out;
}

// deno-lint-ignore no-explicit-any -- decoded protobuf messages are dynamic
type Msg = any;

export function decodeTraces(bytes: Uint8Array): ReceivedSpan[] {
  const T = otlpRoot().lookupType(
    "opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest",
  );
  const req: Msg = T.decode(bytes);
  const out: ReceivedSpan[] = [];
  for (const rs of req.resourceSpans ?? []) {
    const service = String(attrs(rs.resource?.attributes)["service.name"] ?? "");
    for (const ss of rs.scopeSpans ?? rs.instrumentationLibrarySpans ?? []) {
      for (const s of ss.spans ?? []) {
        out.push({
          service,
          traceId: hex(s.traceId),
          spanId: hex(s.spanId),
          parentSpanId: hex(s.parentSpanId),
          name: s.name,
          kind: s.kind,
          attributes: attrs(s.attributes),
          status: s.status?.code ?? 0,
        });
      }
    }
  }
  return out;
}

export function decodeMetrics(bytes: Uint8Array): ReceivedPoint[] {
  const T = otlpRoot().lookupType(
    "opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest",
  );
  const req: Msg = T.decode(bytes);
  const out: ReceivedPoint[] = [];
  for (const rm of req.resourceMetrics ?? []) {
    for (const sm of rm.scopeMetrics ?? rm.instrumentationLibraryMetrics ?? []) {
      for (const m of sm.metrics ?? []) {
        if (m.sum) {
          for (const p of m.sum.dataPoints ?? []) {
            out.push({
              metric: m.name,
              kind: "sum",
              attributes: attrs(p.attributes),
              value: p.value === "asInt" ? num(p.asInt) : p.asDouble,
            });
          }
        } else if (m.gauge) {
          for (const p of m.gauge.dataPoints ?? []) {
            out.push({
              metric: m.name,
              kind: "gauge",
              attributes: attrs(p.attributes),
              value: p.value === "asInt" ? num(p.asInt) : p.asDouble,
            });
          }
        } else if (m.histogram) {
          for (const p of m.histogram.dataPoints ?? []) {
            out.push({
              metric: m.name,
              kind: "histogram",
              attributes: attrs(p.attributes),
              value: num(p.count),
              bucketCounts: (p.bucketCounts ?? []).map(num),
            });
          }
        }
      }
    }
  }
  return out;
}

export interface OtlpReceiver {
  readonly port: number;
  readonly url: string;
  spans: ReceivedSpan[];
  /** Every metrics export, in arrival order. */
  metricExports: ReceivedPoint[][];
  /** Requests answered (any status). */
  requests: number;
  /** Answer every request with this status instead of 200 (e.g. 503). */
  failWith: number;
  /** Resolves once `n` spans have arrived. */
  waitSpans(n: number, timeoutMs?: number): Promise<ReceivedSpan[]>;
  close(): Promise<void>;
}

async function waitFor<T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The HTTP/protobuf receiver. */
export function startOtlpHttpReceiver(): OtlpReceiver {
  const r = {
    spans: [] as ReceivedSpan[],
    metricExports: [] as ReceivedPoint[][],
    requests: 0,
    failWith: 0,
  };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const body = new Uint8Array(await req.arrayBuffer());
    r.requests++;
    if (r.failWith) return new Response("unavailable", { status: r.failWith });
    const path = new URL(req.url).pathname;
    if (req.headers.get("content-type") !== "application/x-protobuf") {
      return new Response("want protobuf", { status: 415 });
    }
    if (path === "/v1/traces") r.spans.push(...decodeTraces(body));
    else if (path === "/v1/metrics") r.metricExports.push(decodeMetrics(body));
    else return new Response("not found", { status: 404 });
    return new Response(new Uint8Array(0), {
      headers: { "content-type": "application/x-protobuf" },
    });
  });
  return Object.assign(r, {
    port: server.addr.port,
    url: `http://127.0.0.1:${server.addr.port}`,
    waitSpans(n: number, timeoutMs = 10_000) {
      return waitFor(() => (r.spans.length >= n ? r.spans : undefined), timeoutMs, `${n} spans`);
    },
    close: () => server.shutdown(),
  });
}

/** The gRPC receiver (TraceService/Export and MetricsService/Export on 127.0.0.1:0). */
export async function startOtlpGrpcReceiver(): Promise<OtlpReceiver> {
  const r = {
    spans: [] as ReceivedSpan[],
    metricExports: [] as ReceivedPoint[][],
    requests: 0,
    failWith: 0,
  };
  const server = new grpc.Server();
  const raw = {
    serialize: (b: Uint8Array) => Buffer.from(b),
    deserialize: (b: Uint8Array) => new Uint8Array(b),
  };
  const unary = (path: string, onBody: (b: Uint8Array) => void): grpc.MethodDefinition<
    Uint8Array,
    Uint8Array
  > => ({
    path,
    requestStream: false,
    responseStream: false,
    requestSerialize: raw.serialize,
    requestDeserialize: raw.deserialize,
    responseSerialize: raw.serialize,
    responseDeserialize: raw.deserialize,
    originalName: path,
    ...{ onBody },
  });
  const handler =
    (onBody: (b: Uint8Array) => void): grpc.handleUnaryCall<Uint8Array, Uint8Array> =>
    (
      call,
      cb,
    ) => {
      r.requests++;
      if (r.failWith) {
        cb({ code: grpc.status.UNAVAILABLE, details: "unavailable" } as grpc.ServiceError, null);
        return;
      }
      onBody(call.request);
      cb(null, new Uint8Array(0));
    };
  const tracePath = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
  const metricsPath = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";
  const onTraces = (b: Uint8Array) => r.spans.push(...decodeTraces(b));
  const onMetrics = (b: Uint8Array) => r.metricExports.push(decodeMetrics(b));
  server.addService(
    {
      Export: unary(tracePath, onTraces),
    } as grpc.ServiceDefinition,
    { Export: handler(onTraces) },
  );
  server.addService(
    { Export: unary(metricsPath, onMetrics) } as grpc.ServiceDefinition,
    { Export: handler(onMetrics) },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(
      "127.0.0.1:0",
      grpc.ServerCredentials.createInsecure(),
      (e, p) => e ? reject(e) : resolve(p),
    )
  );
  return Object.assign(r, {
    port,
    url: `http://127.0.0.1:${port}`,
    waitSpans(n: number, timeoutMs = 10_000) {
      return waitFor(() => (r.spans.length >= n ? r.spans : undefined), timeoutMs, `${n} spans`);
    },
    close: () => new Promise<void>((res) => server.tryShutdown(() => res())),
  });
}
