/**
 * One downstream request through the L7 proxy, in MOSN's phases:
 *
 *   receive filters (BeforeRoute) → match route → (AfterRoute) → choose host → (AfterChooseHost)
 *   → send upstream → wait → send filters → respond → access log, stats
 *
 * Retries happen only before the response has started downstream. The request body streams
 * to the upstream with backpressure; its first 64 KiB are kept so an attempt can be replayed.
 */

import { log } from "../common/logger.ts";
import { type TimerHandle, timers } from "../common/timers.ts";
import {
  type StreamFilterCallbacks,
  StreamFilterStatus,
  type StreamReceiverFilter,
  type StreamSenderFilter,
} from "../filter/stream/types.ts";
import type { HeaderMap } from "../protocol/header_map.ts";
import { stripHopByHop } from "../stream/http1/hop_by_hop.ts";
import { ResponseFlag, type ResponseFlagCode, StreamInfo } from "../stream/stream_info.ts";
import type {
  RequestMessage,
  RequestReceiver,
  ResponseMessage,
  ServerStream,
  StreamResetReason,
} from "../stream/types.ts";
import type { Cluster, Host, LbContext } from "../upstream/types.ts";
import { lbContextFor } from "./lb_context.ts";
import type { ProxyContext, RouteView } from "./context.ts";
import { localReply } from "./local_reply.ts";
import { GRPC_RETRY_ON, grpcLocalReply, grpcStatusFor, grpcTimeoutMs, isGrpc } from "./grpc.ts";
import { UpstreamRequest } from "./upstream_request.ts";
import type { ServerTrace } from "../observability/otel/types.ts";
import { applyDownstreamTls } from "./downstream_tls.ts";

/** Request body kept for replay on retry; larger bodies are not retried. */
const RETRY_BUFFER_LIMIT = 64 * 1024;
const EMPTY = new Uint8Array(0);

/**
 * One pass over the request headers for what the proxy consumes itself: MOSN's
 * `x-mosn-global-timeout` / `x-mosn-try-timeout` (ms) and `Expect` (100-continue is answered
 * here, Envoy's default, so the upstream never sees it). Removes them; undefined when absent.
 */
function takeControlHeaders(h: HeaderMap): { global: number; tryMs: number } | undefined {
  const raw = h.raw;
  let found: { global: number; tryMs: number } | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const n = raw[i]!;
    const len = n.length;
    if (len !== 6 && len !== 18 && len !== 21) continue;
    const l = n.toLowerCase();
    if (l === "expect") {
      h.delete("expect");
      i -= 2;
      continue;
    }
    if (l !== "x-mosn-global-timeout" && l !== "x-mosn-try-timeout") continue;
    const ms = Number(raw[i + 1]);
    found ??= { global: 0, tryMs: 0 };
    if (Number.isFinite(ms) && ms > 0) {
      if (l === "x-mosn-try-timeout") found.tryMs = ms;
      else found.global = ms;
    }
    h.delete(l);
    i -= 2;
  }
  return found;
}

/** The empty body list every request starts with (frozen: nothing may push to it). */
const NO_CHUNKS: Uint8Array[] = Object.freeze([]) as unknown as Uint8Array[];

export class DownstreamRequest implements RequestReceiver, StreamFilterCallbacks {
  readonly info = new StreamInfo();
  readonly stream: ServerStream;
  readonly ctx: ProxyContext;
  req!: RequestMessage;
  route: RouteView | undefined;
  cluster: Cluster | undefined;
  upstream: UpstreamRequest | undefined;

  /** Body chunks not yet sent, or kept for replay (copies). Starts as the shared empty list so
   * a bodyless request allocates none; #keep makes the request's own. */
  bodyChunks: Uint8Array[] = NO_CHUNKS;
  bodyBytes = 0;
  /** The whole body so far fits RETRY_BUFFER_LIMIT, so another attempt can resend it. */
  replayable = true;
  requestEnded = false;
  trailers: HeaderMap | undefined;
  /** Downstream response headers sent: no retry, no local reply from here on. */
  responseStarted = false;
  done = false;
  attempts = 0;
  /** Hosts tried so far; made on the first attempt's pick, not per request up front. */
  triedHosts: Set<Host> | undefined;
  /** The request's SERVER span; undefined when tracing is off or the request not sampled. */
  trace: ServerTrace | undefined;

  #receivers: StreamReceiverFilter[] | undefined;
  #senders: StreamSenderFilter[] | undefined;
  #globalTimer: TimerHandle | undefined;
  #perTryTimeoutMs = 0;
  #holdForUpstream: { promise: Promise<void>; resolve: () => void } | undefined;
  #countedRequest = false;
  #lbContext: LbContext | undefined;

  constructor(stream: ServerStream, ctx: ProxyContext) {
    this.stream = stream;
    this.ctx = ctx;
    if (ctx.streamFilters.length > 0) {
      this.#receivers = [];
      this.#senders = [];
      for (const make of ctx.streamFilters) {
        const pair = make();
        if (pair.receiver) this.#receivers.push(pair.receiver);
        if (pair.sender) this.#senders.push(pair.sender);
      }
    }
  }

  // ---- StreamFilterCallbacks ----

  get requestHeaders(): HeaderMap {
    return this.req.headers;
  }

  sendLocalReply(status: number, body?: string, headers?: Record<string, string>): void {
    this.#localReply(status, body ?? "", undefined, headers);
  }

  // ---- RequestReceiver (downstream events) ----

  onRequestHeaders(req: RequestMessage, endStream: boolean): void {
    this.req = req;
    this.requestEnded = endStream;
    const info = this.info;
    info.protocol = req.protocol;
    info.method = req.method;
    info.path = req.path;
    info.authority = req.authority;
    info.requestHeaders = req.headers;
    info.listenerName = this.ctx.listenerName;
    const conn = this.stream.connection;
    info.downstreamRemoteAddress = conn.remoteAddress;
    info.downstreamLocalAddress = conn.localAddress;
    const tracing = this.ctx.tracing;
    if (tracing) this.trace = tracing.startServer(req, info);
    if (conn.fromTlsListener) applyDownstreamTls(info, req.headers, conn.tls);
    const ds = this.ctx.downstreamStats;
    ds.requestTotal.inc();
    ds.requestActive.inc();
    const r = this.#runReceivers("BeforeRoute", endStream);
    if (r === StreamFilterStatus.Continue) this.#afterBeforeRoute();
    else if (r !== StreamFilterStatus.Stop) {
      r.then(
        (s) => s === StreamFilterStatus.Continue && this.#afterBeforeRoute(),
        (e) => this.#internalError(e),
      );
    }
  }

  onRequestData(chunk: Uint8Array, endStream: boolean): Promise<unknown> | undefined {
    if (this.done) return undefined;
    if (this.#receivers) {
      for (const f of this.#receivers) {
        if (
          f.onRequestData && f.onRequestData(this, chunk, endStream) === StreamFilterStatus.Stop
        ) {
          return undefined;
        }
        if (this.done) return undefined;
      }
    }
    const len = chunk.byteLength;
    const before = this.info.bytesReceived;
    this.info.bytesReceived = before + len;
    if (endStream) this.requestEnded = true;
    if (this.info.bytesReceived > RETRY_BUFFER_LIMIT) this.replayable = false;
    const up = this.upstream;
    if (up?.stream && up.sentBodyTo === before) {
      // Streaming: forward straight away (zero-copy; upstream backpressure travels back).
      if (this.replayable && len > 0) this.#keep(chunk);
      up.sentBodyTo = this.info.bytesReceived;
      if (endStream) up.sentEnd = true;
      return up.stream.sendRequestData(chunk, endStream);
    }
    if (this.replayable) {
      if (len > 0) this.#keep(chunk); // replayed when the upstream stream is ready
      return undefined;
    }
    // Too big to keep and no upstream yet: hold this chunk (and the reader) until there is one.
    return this.#waitUpstream().then(() => {
      const u = this.upstream;
      if (!u?.stream || this.done || u.sentBodyTo !== before) return;
      u.sentBodyTo = before + len;
      if (endStream) u.sentEnd = true;
      return u.stream.sendRequestData(chunk, endStream);
    });
  }

  #keep(chunk: Uint8Array): void {
    if (this.bodyChunks === NO_CHUNKS) this.bodyChunks = [];
    this.bodyChunks.push(chunk.slice());
    this.bodyBytes += chunk.byteLength;
  }

  onRequestTrailers(trailers: HeaderMap): void {
    if (this.done) return;
    this.requestEnded = true;
    this.trailers = trailers;
    const up = this.upstream;
    if (up?.stream && up.sentBodyTo === this.info.bytesReceived && !up.sentEnd) {
      up.sentEnd = true;
      up.stream.sendRequestTrailers(trailers);
    }
  }

  onResetStream(reason: StreamResetReason): void {
    if (this.done) return;
    this.info.setFlag(ResponseFlag.DownstreamConnectionTermination);
    if (reason === "protocol_error") this.info.setFlag(ResponseFlag.DownstreamProtocolError);
    this.trace?.setError(`downstream_${reason}`);
    this.upstream?.cancel();
    this.#finish();
  }

  // ---- phases ----

  #afterBeforeRoute(): void {
    if (this.done) return;
    const route = this.ctx.routes.route(this.req);
    if (!route) {
      this.info.setFlag(ResponseFlag.NoRouteFound);
      this.#localReply(404, "no route\n");
      return;
    }
    this.route = route;
    this.info.routeName = route.name;
    this.info.virtualHostName = route.virtualHostName;
    if (route.directResponse) {
      this.#localReply(route.directResponse.status, route.directResponse.body, route);
      return;
    }
    const redirect = route.redirect?.(this.req);
    if (redirect) {
      this.#localReply(redirect.status, "", route, { location: redirect.location });
      return;
    }
    const r = this.#runReceivers("AfterRoute", this.requestEnded);
    if (r === StreamFilterStatus.Continue) this.#toCluster();
    else if (r !== StreamFilterStatus.Stop) {
      r.then(
        (s) => s === StreamFilterStatus.Continue && this.#toCluster(),
        (e) => this.#internalError(e),
      );
    }
  }

  #toCluster(): void {
    if (this.done) return;
    const route = this.route!;
    const name = route.clusterName();
    this.info.upstreamCluster = name;
    const cluster = this.ctx.clusterManager.get(name);
    if (!cluster) {
      this.info.setFlag(ResponseFlag.NoHealthyUpstream);
      this.#localReply(502, `cluster ${name} not found\n`, route);
      return;
    }
    this.cluster = cluster;
    if (!cluster.resources.requests.available) {
      this.info.setFlag(ResponseFlag.UpstreamOverflow);
      this.ctx.upstreamStats.cluster(cluster.name).requestPendingOverflow.inc();
      this.#localReply(503, "upstream overflow\n", route);
      return;
    }
    cluster.resources.requests.inc();
    this.#countedRequest = true;

    // Timeouts: route, overridable per request by MOSN's headers (milliseconds).
    // The route's timeout, else the RPC frame's own (bolt's timeout field, dubbo's attachment),
    // else the proxy's global timeout.
    const frameTimeout = this.req.frame?.timeoutMs ?? 0;
    let timeout = route.timeoutMs > 0
      ? route.timeoutMs
      : frameTimeout > 0
      ? frameTimeout
      : this.ctx.defaultTimeoutMs;
    this.#perTryTimeoutMs = route.retryPolicy?.perTryTimeoutMs ?? 0;
    const ctl = takeControlHeaders(this.req.headers);
    if (ctl) {
      if (ctl.global > 0) timeout = ctl.global;
      if (ctl.tryMs > 0) this.#perTryTimeoutMs = ctl.tryMs;
    }
    // A gRPC client's deadline (grpc-timeout) bounds the request too.
    const grpcMs = this.req.protocol === "HTTP/2" || isGrpc(this.req.headers)
      ? grpcTimeoutMs(this.req.headers.get("grpc-timeout"))
      : 0;
    if (grpcMs > 0 && (timeout <= 0 || grpcMs < timeout)) timeout = grpcMs;
    route.applyRequest(this.req);
    if (timeout > 0) this.#globalTimer = timers.schedule(timeout, () => this.#onGlobalTimeout());
    this.#attempt(false);
  }

  /** Starts one upstream attempt; `fresh` asks the pool for a new connection. */
  #attempt(fresh: boolean): void {
    if (this.done) return;
    const cluster = this.cluster!;
    const ctx = this.#lbContext ??= lbContextFor(
      this.req,
      this.stream.connection,
      cluster,
      this.route!,
    );
    const tried = this.triedHosts;
    const excluding = tried !== undefined && tried.size > 0;
    let host = cluster.lb.chooseHost(excluding ? { ...ctx, exclude: tried } : ctx);
    if (!host && excluding) host = cluster.lb.chooseHost(ctx);
    if (!host) {
      this.info.setFlag(ResponseFlag.NoHealthyUpstream);
      this.#localReply(502, "no healthy upstream\n", this.route);
      return;
    }
    this.attempts++;
    (this.triedHosts ??= new Set()).add(host);
    this.info.upstreamHost = host.addressText;
    const r = this.#runReceivers("AfterChooseHost", this.requestEnded);
    if (r !== StreamFilterStatus.Continue) {
      if (r !== StreamFilterStatus.Stop) {
        r.then(
          (s) => s === StreamFilterStatus.Continue && this.#startUpstream(host!, fresh),
          (e) => this.#internalError(e),
        );
      }
      return;
    }
    this.#startUpstream(host, fresh);
  }

  #startUpstream(host: Host, fresh: boolean): void {
    if (this.done) return;
    const up = new UpstreamRequest(this, host, this.#perTryTimeoutMs);
    this.upstream = up;
    up.start(fresh);
  }

  /** Called by the attempt once its stream exists: send headers and what body there is. */
  onUpstreamReady(up: UpstreamRequest): void {
    const stream = up.stream!;
    const req = this.attempts > 1 ? this.#retryRequest() : this.req;
    up.trace?.inject(req);
    const bodyless = this.requestEnded && this.info.bytesReceived === 0 && !this.trailers;
    stream.sendRequestHeaders(req, bodyless);
    if (bodyless) {
      up.sentEnd = true;
    } else {
      // Everything received so far is in bodyChunks (kept, or held while not connected).
      const chunks = this.bodyChunks;
      const complete = this.bodyBytes === this.info.bytesReceived;
      for (let i = 0; i < chunks.length; i++) {
        const last = complete && i === chunks.length - 1 && this.requestEnded && !this.trailers;
        stream.sendRequestData(chunks[i]!, last);
        if (last) up.sentEnd = true;
      }
      up.sentBodyTo = this.bodyBytes;
      if (complete && this.requestEnded && !up.sentEnd) {
        if (this.trailers) stream.sendRequestTrailers(this.trailers);
        else stream.sendRequestData(EMPTY, true);
        up.sentEnd = true;
      }
      if (!this.replayable) {
        this.bodyChunks = NO_CHUNKS;
      }
      this.stream.continueRequest();
    }
    const hold = this.#holdForUpstream;
    this.#holdForUpstream = undefined;
    hold?.resolve();
  }

  #retryRequest(): RequestMessage {
    // The first attempt's stream added framing headers; start from a clean copy.
    const headers = this.req.headers.clone();
    stripHopByHop(headers);
    headers.delete("content-length");
    if (this.req.contentLength >= 0) headers.set("content-length", String(this.req.contentLength));
    return { ...this.req, headers };
  }

  #waitUpstream(): Promise<void> {
    if (!this.#holdForUpstream) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.#holdForUpstream = { promise, resolve };
    }
    return this.#holdForUpstream.promise;
  }

  /** Whether another attempt may be made after `why`. */
  canRetry(
    why: "connect-failure" | "reset" | "per-try-timeout" | "status" | "grpc",
    status = 0,
  ): boolean {
    if (this.done || this.responseStarted) return false;
    const p = this.route?.retryPolicy;
    if (!p || this.attempts > p.numRetries) return false;
    if (!this.replayable) return false; // body too big to resend
    if (why === "connect-failure") {
      if (
        !p.retryOn.has("connect-failure") && !p.retryOn.has("5xx") &&
        !p.retryOn.has("gateway-error")
      ) return false;
    } else if (why === "reset") {
      if (!p.retryOn.has("reset") && !p.retryOn.has("5xx")) return false;
    } else if (why === "per-try-timeout") {
      const on = p.retryOn;
      if (!on.has("per-try-timeout") && !on.has("reset") && !on.has("5xx")) return false;
    } else if (why === "grpc") {
      // `status` is the grpc-status of a trailers-only response.
      let ok = false;
      for (const name of p.retryOn) if (GRPC_RETRY_ON[name] === status) ok = true;
      if (!ok) return false;
    } else {
      const ok = (p.retryOn.has("5xx") && status >= 500) ||
        (p.retryOn.has("gateway-error") && (status === 502 || status === 503 || status === 504)) ||
        (p.retryOn.has("retriable-status-codes") && p.retriableStatusCodes.has(status)) ||
        p.retriableStatusCodes.has(status);
      if (!ok) return false;
    }
    const res = this.cluster!.resources.retries;
    return res.available;
  }

  /** Schedules the next attempt after a short jittered backoff (Envoy: 25 ms base). */
  retry(): void {
    const cluster = this.cluster!;
    this.info.retries++;
    this.ctx.upstreamStats.cluster(cluster.name).requestRetry.inc();
    cluster.resources.retries.inc();
    const base = 25 * 2 ** Math.min(this.info.retries - 1, 4);
    const delay = base * this.ctx.random();
    setTimeout(() => {
      cluster.resources.retries.dec();
      this.#attempt(false);
    }, delay);
  }

  /** A reused keep-alive connection failed before any response byte: try a fresh one, free. */
  retryFresh(): boolean {
    if (this.done || this.responseStarted || !this.replayable) return false;
    this.attempts--;
    this.triedHosts?.delete(this.upstream!.host);
    this.#attempt(true);
    return true;
  }

  /** The attempt failed for good: answer with the status that fits the failure. */
  failUpstream(flag: ResponseFlagCode, status: number, text: string): void {
    if (this.done) return;
    this.info.setFlag(flag);
    if (this.info.retries > 0 && this.route?.retryPolicy) {
      this.info.setFlag(ResponseFlag.UpstreamRetryLimitExceeded);
    }
    if (this.responseStarted) {
      this.trace?.setError("upstream_reset");
      this.stream.reset("remote_reset");
      this.#finish();
      return;
    }
    this.#localReply(status, text, this.route);
  }

  #onGlobalTimeout(): void {
    this.#globalTimer = undefined;
    if (this.done) return;
    const up = this.upstream;
    if (this.cluster) this.ctx.upstreamStats.cluster(this.cluster.name).requestTimeout.inc();
    if (up?.hostStats) up.hostStats.requestTimeout.inc();
    up?.trace?.setError("timeout");
    up?.cancel();
    this.info.setFlag(ResponseFlag.UpstreamRequestTimeout);
    if (this.responseStarted) {
      this.trace?.setError("timeout");
      this.stream.reset("local_reset");
      this.#finish();
    } else {
      this.#localReply(504, "upstream request timeout\n", this.route);
    }
  }

  // ---- response path ----

  sendResponseHeaders(resp: ResponseMessage, endStream: boolean): void {
    if (this.done) return;
    this.responseStarted = true;
    this.route?.applyResponseHeaders(resp.headers);
    if (this.#senders) {
      for (const f of this.#senders) {
        if (
          f.onResponseHeaders &&
          f.onResponseHeaders(this, resp.headers, endStream) === StreamFilterStatus.Stop
        ) {
          break;
        }
      }
    }
    this.info.responseCode = resp.status;
    this.info.responseHeaders = resp.headers;
    // gRPC trailers-only answers carry grpc-status in the headers.
    const g = this.trace && resp.headers.get("grpc-status");
    if (g) this.trace!.setGrpcStatus(g);
    this.stream.sendResponseHeaders(resp, endStream);
    if (endStream) this.#finish();
  }

  sendResponseData(chunk: Uint8Array, endStream: boolean): Promise<unknown> | undefined {
    if (this.done) return undefined;
    if (this.#senders) {
      for (const f of this.#senders) f.onResponseData?.(this, chunk, endStream);
    }
    this.info.bytesSent += chunk.byteLength;
    const p = this.stream.sendResponseData(chunk, endStream);
    if (endStream) this.#finish();
    return p;
  }

  sendResponseTrailers(trailers: HeaderMap): void {
    if (this.done) return;
    const g = this.trace && trailers.get("grpc-status");
    if (g) this.trace!.setGrpcStatus(g);
    this.stream.sendResponseTrailers(trailers);
    this.#finish();
  }

  /** After 101: the exchange became a byte tunnel; account for it as a finished request. */
  finishTunnel(): void {
    this.#finish();
  }

  #localReply(
    status: number,
    body: string,
    route?: RouteView,
    headers?: Record<string, string>,
  ): void {
    if (this.done) return;
    if (this.responseStarted) {
      this.stream.reset("local_reset");
      this.#finish();
      return;
    }
    this.upstream?.cancel();
    if (this.req && isGrpc(this.req.headers)) {
      // gRPC clients read the outcome from grpc-status, never from the HTTP status.
      const timedOut = this.info.hasFlag(ResponseFlag.UpstreamRequestTimeout);
      const resp = grpcLocalReply(grpcStatusFor(status, timedOut), body, headers);
      route?.applyResponseHeaders(resp.headers);
      this.sendResponseHeaders(resp, true);
      return;
    }
    const r = localReply(status, this.req.method === "HEAD" ? "" : body, headers);
    route?.applyResponseHeaders(r.resp.headers);
    const end = r.body.byteLength === 0;
    this.sendResponseHeaders(r.resp, end);
    if (!end) this.sendResponseData(r.body, true);
  }

  #internalError(e: unknown): void {
    log.error("proxy: stream filter failed", { err: e });
    this.#localReply(500, "internal error\n");
  }

  #runReceivers(
    phase: "BeforeRoute" | "AfterRoute" | "AfterChooseHost",
    endStream: boolean,
    from = 0,
  ): StreamFilterStatus | Promise<StreamFilterStatus> {
    const list = this.#receivers;
    if (!list) return StreamFilterStatus.Continue;
    for (let i = from; i < list.length; i++) {
      const f = list[i]!;
      if ((f.phase ?? "BeforeRoute") !== phase || !f.onRequestHeaders) continue;
      const r = f.onRequestHeaders(this, endStream);
      if (r === StreamFilterStatus.Continue) {
        if (this.done) return StreamFilterStatus.Stop;
        continue;
      }
      if (r === StreamFilterStatus.Stop) return r;
      return r.then((s) =>
        s === StreamFilterStatus.Continue && !this.done
          ? this.#runReceivers(phase, endStream, i + 1)
          : StreamFilterStatus.Stop
      );
    }
    return StreamFilterStatus.Continue;
  }

  #finish(): void {
    if (this.done) return;
    this.done = true;
    timers.cancel(this.#globalTimer);
    const hold = this.#holdForUpstream;
    this.#holdForUpstream = undefined;
    hold?.resolve();
    if (this.#countedRequest) this.cluster!.resources.requests.dec();
    const info = this.info;
    info.finish();
    const ds = this.ctx.downstreamStats;
    ds.requestActive.dec();
    ds.requestTime.record(info.durationMs);
    if (info.responseCode > 0) ds.byCode(info.responseCode).inc();
    if (info.responseCode >= 500 || info.responseCode === 0) ds.requestFailed.inc();
    const rs = this.ctx.routeStats.get(info.protocol, info.routeName, info.upstreamCluster);
    rs.requestTotal.inc();
    rs.requestTime.record(info.durationMs);
    const cls = Math.floor(info.responseCode / 100);
    rs.byClass[cls >= 1 && cls <= 5 ? cls : 0]!.inc();
    if (info.retries > 0) rs.requestRetry.inc(info.retries);
    if (info.hasFlag(ResponseFlag.UpstreamRequestTimeout)) rs.requestTimeout.inc();
    if (
      info.hasFlag(ResponseFlag.UpstreamRemoteReset) ||
      info.hasFlag(ResponseFlag.UpstreamConnectionTermination) ||
      info.hasFlag(ResponseFlag.DownstreamConnectionTermination) ||
      info.hasFlag(ResponseFlag.LocalReset)
    ) rs.requestReset.inc();
    this.trace?.end(info);
    for (const l of this.ctx.accessLogs) l.log(info);
  }
}
