/**
 * The OpenTelemetry implementation of `RequestTracing`: parent-based ratio sampling decided
 * before anything is allocated, then SDK spans with explicit parents (no AsyncLocalStorage, no
 * active-context lookups): SERVER per downstream request, CLIENT per upstream attempt.
 */

import {
  type Attributes,
  type Context,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
  type Tracer,
} from "@opentelemetry/api";
import type { StreamInfo } from "../../stream/stream_info.ts";
import type { RequestMessage } from "../../stream/types.ts";
import { extractContext, injectContext, type Propagator } from "./propagation.ts";
import type { ClientTrace, RequestTracing, ServerTrace, TraceContext } from "./types.ts";

export interface RequestTracingOptions {
  /** Probability (0..1) of sampling a request that arrives without a sampling decision. */
  readonly ratio: number;
  readonly propagators: readonly Propagator[];
  readonly listenerName: string;
  readonly random?: () => number;
}

/** OTel's `rpc.system` for the proxy's RPC protocol names. */
function rpcSystem(req: RequestMessage): string | undefined {
  const p = req.protocol;
  if (p === "bolt" || p === "boltv2") return "sofarpc";
  if (p === "dubbo") return "apache_dubbo";
  if (p === "HTTP/2" && req.headers.get("content-type")?.startsWith("application/grpc")) {
    return "grpc";
  }
  return undefined;
}

function splitHostPort(addr: string): [string, number | undefined] {
  if (addr.startsWith("[")) {
    const end = addr.indexOf("]");
    const port = Number(addr.slice(end + 2));
    return [addr.slice(1, end), Number.isInteger(port) && end + 2 < addr.length ? port : undefined];
  }
  const c = addr.lastIndexOf(":");
  if (c < 0 || addr.indexOf(":") !== c) return [addr, undefined];
  const port = Number(addr.slice(c + 1));
  return [addr.slice(0, c), Number.isInteger(port) ? port : undefined];
}

interface Described {
  name: string;
  /** SERVER span attributes (semantic conventions). */
  attrs: Attributes;
  /** What a CLIENT span repeats: the method or the RPC identity (kept short: attributes are
   * validated one by one by the SDK, the main per-span cost). */
  clientAttrs: Attributes;
  rpc: boolean;
}

const hostCache = new Map<string, [string, number | undefined]>();

/** `splitHostPort` of an upstream host ("ip:port"), cached: hosts are few and reused. */
function hostParts(host: string): [string, number | undefined] {
  let p = hostCache.get(host);
  if (!p) {
    if (hostCache.size > 4096) hostCache.clear(); // ORIGINAL_DST clusters: any address
    hostCache.set(host, p = splitHostPort(host));
  }
  return p;
}

/** Span name and attributes of a request. */
function describeRequest(req: RequestMessage): Described {
  const system = rpcSystem(req);
  if (system) {
    let service: string, method: string;
    if (system === "grpc") {
      // gRPC path: /package.Service/Method
      const slash = req.path.lastIndexOf("/");
      service = req.path.slice(1, slash);
      method = req.path.slice(slash + 1);
    } else {
      const h = req.headers;
      service = h.get("service") ?? h.get("sofa_head_target_service") ?? h.get("interface") ?? "";
      method = req.method || h.get("method") || h.get("sofa_head_method_name") || "";
    }
    const clientAttrs: Attributes = { "rpc.system": system };
    if (service) clientAttrs["rpc.service"] = service;
    if (method) clientAttrs["rpc.method"] = method;
    const attrs: Attributes = { ...clientAttrs, "network.protocol.name": req.protocol };
    const name = service && method ? `${service}/${method}` : service || method || req.protocol;
    return { name, attrs, clientAttrs, rpc: true };
  }
  const q = req.path.indexOf("?");
  const attrs: Attributes = {
    "http.request.method": req.method,
    "url.path": q < 0 ? req.path : req.path.slice(0, q),
    "url.scheme": req.scheme || "http",
    "network.protocol.version": req.protocol.startsWith("HTTP/")
      ? req.protocol.slice(5)
      : req.protocol,
  };
  if (q >= 0) attrs["url.query"] = req.path.slice(q + 1);
  if (req.authority) {
    const [host, port] = splitHostPort(req.authority);
    attrs["server.address"] = host;
    if (port !== undefined) attrs["server.port"] = port;
  }
  return {
    name: req.method,
    attrs,
    clientAttrs: { "http.request.method": req.method },
    rpc: false,
  };
}

/** OTel's `rpc.grpc.status_code`; any code but 0 (OK) makes the span an error. */
function grpcStatus(span: Span, code: string): void {
  const n = Number(code);
  if (!Number.isInteger(n)) return;
  span.setAttribute("rpc.grpc.status_code", n);
  if (n !== 0) span.setStatus({ code: SpanStatusCode.ERROR, message: `grpc-status ${n}` });
}

function statusAttrs(span: Span, rpc: boolean, status: number): void {
  if (status > 0) {
    span.setAttribute(rpc ? "mosn.response.code" : "http.response.status_code", status);
  }
  if (status >= 500 || status === 0) span.setStatus({ code: SpanStatusCode.ERROR });
}

class OtelClientTrace implements ClientTrace {
  readonly #span: Span;
  readonly #owner: OtelServerTrace;
  #status = 0;
  #error = "";
  constructor(span: Span, owner: OtelServerTrace) {
    this.#span = span;
    this.#owner = owner;
  }
  inject(req: RequestMessage): void {
    const sc = this.#span.spanContext();
    const ctx: TraceContext = {
      traceId: sc.traceId,
      spanId: sc.spanId,
      sampled: true,
      traceState: this.#owner.traceState,
    };
    injectContext(this.#owner.propagators, req.headers, ctx);
    // RPC frames are forwarded as their raw bytes: ask the client stream to re-encode.
    if (req.frame) req.frame.headersChanged = true;
  }
  setStatus(status: number): void {
    this.#status = status;
  }
  setError(reason: string): void {
    this.#error ||= reason;
  }
  #grpc = "";
  setGrpcStatus(code: string): void {
    this.#grpc = code;
  }
  end(): void {
    const span = this.#span;
    if (this.#status > 0) statusAttrs(span, this.#owner.rpc, this.#status);
    if (this.#grpc) grpcStatus(span, this.#grpc);
    if (this.#error) {
      span.setAttribute("error.type", this.#error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: this.#error });
    }
    span.end();
  }
}

class OtelServerTrace implements ServerTrace {
  readonly span: Span;
  readonly traceId: string;
  readonly spanId: string;
  readonly name: string;
  readonly baseAttrs: Attributes;
  readonly rpc: boolean;
  readonly traceState: string;
  readonly propagators: readonly Propagator[];
  readonly #tracer: Tracer;
  #ctx: Context | undefined;

  constructor(
    tracer: Tracer,
    span: Span,
    d: Described,
    traceState: string,
    propagators: readonly Propagator[],
  ) {
    this.#tracer = tracer;
    this.span = span;
    const sc = span.spanContext();
    this.traceId = sc.traceId;
    this.spanId = sc.spanId;
    this.name = d.name;
    this.baseAttrs = d.clientAttrs;
    this.rpc = d.rpc;
    this.traceState = traceState;
    this.propagators = propagators;
  }

  startClient(host: string, cluster: string, attempt: number): ClientTrace {
    const [addr, port] = hostParts(host);
    const attrs: Attributes = {
      ...this.baseAttrs,
      "server.address": addr,
      "mosn.cluster": cluster,
      "mosn.upstream.host": host,
      "mosn.attempt": attempt,
      "mosn.retry.count": attempt - 1,
    };
    if (port !== undefined) attrs["server.port"] = port;
    this.#ctx ??= trace.setSpan(ROOT_CONTEXT, this.span);
    const span = this.#tracer.startSpan(
      this.name,
      { kind: SpanKind.CLIENT, attributes: attrs },
      this.#ctx,
    );
    return new OtelClientTrace(span, this);
  }

  #grpc = "";
  setGrpcStatus(code: string): void {
    this.#grpc = code;
  }

  #error = "";
  setError(reason: string): void {
    this.#error ||= reason;
  }

  end(info: StreamInfo): void {
    const span = this.span;
    const a: Attributes = { "mosn.retry.count": info.retries };
    if (info.routeName) a["mosn.route.name"] = info.routeName;
    if (info.virtualHostName) a["mosn.virtual_host"] = info.virtualHostName;
    if (info.upstreamCluster) a["mosn.cluster"] = info.upstreamCluster;
    if (info.upstreamHost) a["mosn.upstream.host"] = info.upstreamHost;
    const flags = info.flagsText();
    if (flags !== "-") a["mosn.response_flags"] = flags;
    span.setAttributes(a);
    statusAttrs(span, this.rpc, info.responseCode);
    if (this.#grpc) grpcStatus(span, this.#grpc);
    if (this.#error) {
      span.setAttribute("error.type", this.#error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: this.#error });
    }
    span.end();
  }
}

export class OtelRequestTracing implements RequestTracing {
  readonly #tracer: Tracer;
  readonly #ratio: number;
  readonly #props: readonly Propagator[];
  readonly #random: () => number;
  readonly #listener: string;

  constructor(tracer: Tracer, opts: RequestTracingOptions) {
    this.#tracer = tracer;
    this.#ratio = opts.ratio;
    this.#props = opts.propagators;
    this.#random = opts.random ?? Math.random;
    this.#listener = opts.listenerName;
  }

  startServer(req: RequestMessage, info: StreamInfo): ServerTrace | undefined {
    const parent = extractContext(this.#props, req.headers);
    // Parent-based: a caller's decision is followed; otherwise the ratio decides.
    const sampled = parent?.sampled ??
      (this.#ratio >= 1 || (this.#ratio > 0 && this.#random() < this.#ratio));
    if (!sampled) return undefined;
    const ctx = parent
      ? trace.setSpanContext(ROOT_CONTEXT, {
        traceId: parent.traceId,
        spanId: parent.spanId,
        traceFlags: TraceFlags.SAMPLED,
        isRemote: true,
      })
      : ROOT_CONTEXT;
    const d = describeRequest(req);
    const attrs: Attributes = { ...d.attrs, "mosn.listener": this.#listener };
    if (info.downstreamRemoteAddress) {
      const [addr, port] = splitHostPort(info.downstreamRemoteAddress);
      attrs["network.peer.address"] = addr;
      if (port !== undefined) attrs["network.peer.port"] = port;
    }
    const span = this.#tracer.startSpan(
      d.name,
      { kind: SpanKind.SERVER, attributes: attrs, startTime: info.startTime },
      ctx,
    );
    const t = new OtelServerTrace(this.#tracer, span, d, parent?.traceState ?? "", this.#props);
    info.traceId = t.traceId;
    info.spanId = t.spanId;
    return t;
  }
}
