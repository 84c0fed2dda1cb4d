/**
 * One attempt of a request against one upstream host: gets a stream from the host's pool,
 * relays the response to the downstream request, and decides on failure whether the
 * downstream request retries or answers 502/503/504.
 */

import { type TimerHandle, timers } from "../common/timers.ts";
import type { HeaderMap } from "../protocol/header_map.ts";
import { ResponseFlag } from "../stream/stream_info.ts";
import type {
  ClientStream,
  ResponseMessage,
  ResponseReceiver,
  StreamResetReason,
} from "../stream/types.ts";
import type {
  PoolCallbacks,
  PoolCancel,
  PoolFailureReason,
  PoolReadyInfo,
} from "../upstream/pool/types.ts";
import type { Host, UpstreamResult } from "../upstream/types.ts";
import type { DownstreamRequest } from "./downstream_request.ts";
import type { UpstreamRequestStats } from "./stats.ts";
import type { ClientTrace } from "../observability/otel/types.ts";

const CONNECT_FAILURE: UpstreamResult = { kind: "connect_failure" };
const RESET: UpstreamResult = { kind: "reset" };
const TIMEOUT: UpstreamResult = { kind: "timeout" };
/** One frozen result per HTTP status, made on first use: no result object per response. */
const STATUS_RESULTS: UpstreamResult[] = [];
function statusResult(status: number): UpstreamResult {
  return STATUS_RESULTS[status] ??= Object.freeze({ kind: "status", status });
}

export class UpstreamRequest implements ResponseReceiver, PoolCallbacks {
  readonly host: Host;
  readonly #down: DownstreamRequest;
  readonly #perTryTimeoutMs: number;
  stream: (ClientStream & { readonly responseStarted?: boolean }) | undefined;
  /** Downstream body bytes already handed to this attempt's stream. */
  sentBodyTo = 0;
  sentEnd = false;
  hostStats: UpstreamRequestStats | undefined;
  /** This attempt's CLIENT span (when the request is traced). */
  trace: ClientTrace | undefined;
  #clusterStats: UpstreamRequestStats | undefined;
  #cancelPool: PoolCancel | undefined;
  #reused = false;
  #done = false;
  #started = 0;
  #tryTimer: TimerHandle | undefined;
  /** A retriable 5xx is being swallowed: its body is dropped, then the retry starts. */
  #discarding = false;

  constructor(down: DownstreamRequest, host: Host, perTryTimeoutMs: number) {
    this.#down = down;
    this.host = host;
    this.#perTryTimeoutMs = perTryTimeoutMs;
  }

  start(fresh: boolean): void {
    const cluster = this.#down.cluster!;
    const stats = this.#down.ctx.upstreamStats;
    this.#clusterStats = stats.cluster(cluster.name);
    this.hostStats = stats.host(this.host);
    this.#started = Date.now();
    this.trace = this.#down.trace?.startClient(
      this.host.addressText,
      cluster.name,
      this.#down.attempts,
    );
    if (this.#perTryTimeoutMs > 0) {
      this.#tryTimer = timers.schedule(this.#perTryTimeoutMs, () => this.#onTryTimeout());
    }
    // HTTP routes may pick the upstream protocol (HTTP/1.1 ↔ HTTP/2 conversion); RPC may not.
    const ctxProto = this.#down.ctx.upstreamProtocol;
    const routeProto = this.#down.route?.upstreamProtocol;
    const proto = routeProto && (ctxProto === "Http1" || ctxProto === "Http2")
      ? routeProto
      : ctxProto;
    this.#cancelPool = cluster.pool(this.host, proto).newStream(
      this,
      this,
      fresh,
    );
  }

  // ---- PoolCallbacks ----

  onPoolReady(stream: ClientStream, info: PoolReadyInfo): void {
    this.#cancelPool = undefined;
    if (this.#done) {
      stream.reset("local_reset");
      return;
    }
    this.stream = stream;
    this.#reused = info.reused;
    this.#down.info.upstreamLocalAddress = info.localAddress;
    this.host.activeRequests++;
    this.#clusterStats!.requestTotal.inc();
    this.#clusterStats!.requestActive.inc();
    this.hostStats!.requestTotal.inc();
    this.hostStats!.requestActive.inc();
    this.#down.onUpstreamReady(this);
  }

  onPoolFailure(reason: PoolFailureReason, _detail?: string): void {
    this.#cancelPool = undefined;
    if (this.#done) return;
    this.trace?.setError(reason);
    this.#end();
    const down = this.#down;
    if (reason === "overflow") {
      this.#clusterStats!.requestPendingOverflow.inc();
      this.hostStats!.requestPendingOverflow.inc();
      down.failUpstream(ResponseFlag.UpstreamOverflow, 503, "upstream overflow\n");
      return;
    }
    if (reason === "connection_failure") down.cluster!.reportResult(this.host, CONNECT_FAILURE);
    if (down.canRetry("connect-failure")) {
      down.retry();
      return;
    }
    down.failUpstream(ResponseFlag.UpstreamConnectionFailure, 502, "upstream connect error\n");
  }

  // ---- ResponseReceiver ----

  onResponseHeaders(resp: ResponseMessage, endStream: boolean): void {
    if (this.#done) return;
    const down = this.#down;
    if (down.info.firstUpstreamByteMs < 0) {
      down.info.firstUpstreamByteMs = Date.now() - down.info.startTime;
    }
    down.cluster!.reportResult(this.host, statusResult(resp.status));
    const trace = this.trace;
    if (trace) {
      trace.setStatus(resp.status);
      const g = resp.headers.get("grpc-status");
      if (g) trace.setGrpcStatus(g);
    }
    if (resp.status >= 500 || down.route?.retryPolicy?.retriableStatusCodes.has(resp.status)) {
      if (down.canRetry("status", resp.status)) {
        // Swallow this answer and try again; the connection is not reusable mid-body.
        this.#countResponse(false);
        this.#end();
        this.stream?.reset("local_reset");
        down.retry();
        this.#discarding = true;
        return;
      }
    }
    if (endStream && resp.status === 200) {
      // gRPC trailers-only answer: retried on the listed grpc-status codes.
      const gs = resp.headers.get("grpc-status");
      if (gs !== undefined && gs !== "0" && down.canRetry("grpc", Number(gs))) {
        this.#countResponse(false);
        this.#end();
        down.retry();
        return;
      }
    }
    this.#countResponse(resp.status < 500);
    if (endStream) this.#end();
    down.sendResponseHeaders(resp, endStream);
    // The codec switches to tunnel mode once it has finished the 101 head.
    if (resp.status === 101) queueMicrotask(() => this.#tunnel());
  }

  onResponseData(chunk: Uint8Array, endStream: boolean): Promise<unknown> | undefined {
    if (this.#done || this.#discarding) return undefined;
    if (endStream) this.#end();
    return this.#down.sendResponseData(chunk, endStream);
  }

  onResponseTrailers(trailers: HeaderMap): void {
    if (this.#done) return;
    const g = this.trace && trailers.get("grpc-status");
    if (g) this.trace!.setGrpcStatus(g);
    this.#end();
    this.#down.sendResponseTrailers(trailers);
  }

  onResetStream(reason: StreamResetReason): void {
    if (this.#done || this.#discarding) return;
    this.trace?.setError(reason);
    this.#end();
    const down = this.#down;
    if (!down.responseStarted) {
      // A keep-alive connection the upstream had just closed: not the request's fault (and
      // not the host's: outlier detection is not told).
      if (this.#reused && !this.stream?.responseStarted && reason === "connection_termination") {
        if (down.retryFresh()) return;
      }
      down.cluster!.reportResult(this.host, RESET);
      this.#countResponse(false);
      if (down.canRetry("reset")) {
        down.retry();
        return;
      }
    } else {
      down.cluster!.reportResult(this.host, RESET);
      this.#countResponse(false);
    }
    if (reason === "protocol_error") {
      down.failUpstream(ResponseFlag.UpstreamProtocolError, 502, "upstream protocol error\n");
    } else {
      down.failUpstream(
        reason === "remote_reset"
          ? ResponseFlag.UpstreamRemoteReset
          : ResponseFlag.UpstreamConnectionTermination,
        502,
        "upstream connect error or disconnect/reset before headers\n",
      );
    }
  }

  /** The downstream went away or timed out: drop the attempt. */
  cancel(): void {
    if (this.#done) return;
    this.trace?.setError("cancelled");
    this.#end();
    this.#cancelPool?.cancel();
    this.#cancelPool = undefined;
    this.stream?.reset("local_reset");
  }

  #onTryTimeout(): void {
    this.#tryTimer = undefined;
    if (this.#done) return;
    const down = this.#down;
    this.trace?.setError("per_try_timeout");
    this.#clusterStats!.requestTimeout.inc();
    this.hostStats!.requestTimeout.inc();
    down.cluster!.reportResult(this.host, TIMEOUT);
    this.cancel();
    down.info.setFlag(ResponseFlag.UpstreamRequestTimeout);
    if (down.canRetry("per-try-timeout")) down.retry();
    else down.failUpstream(ResponseFlag.UpstreamRequestTimeout, 504, "upstream request timeout\n");
  }

  #countResponse(success: boolean): void {
    if (!this.stream) return;
    const d = Date.now() - this.#started;
    const cs = this.#clusterStats!;
    const hs = this.hostStats!;
    if (success) {
      cs.responseSuccess.inc();
      hs.responseSuccess.inc();
    } else {
      cs.responseFailed.inc();
      hs.responseFailed.inc();
    }
    cs.requestDurationTime.record(d);
    hs.requestDurationTime.record(d);
  }

  #end(): void {
    if (this.#done) return;
    this.#done = true;
    timers.cancel(this.#tryTimer);
    this.trace?.end();
    if (this.stream) {
      this.host.activeRequests--;
      this.#clusterStats!.requestActive.dec();
      this.hostStats!.requestActive.dec();
    }
  }

  /** 101 Switching Protocols: both connections become one byte pipe. */
  #tunnel(): void {
    this.#end();
    this.#down.finishTunnel();
    const downEnd = this.#down.stream.upgradeTunnel?.();
    const upEnd = this.stream?.upgradeTunnel?.();
    if (!downEnd || !upEnd) {
      this.#down.stream.reset("protocol_error");
      this.stream?.reset("protocol_error");
      return;
    }
    if (downEnd.buffered.byteLength > 0) upEnd.conn.write(downEnd.buffered);
    if (upEnd.buffered.byteLength > 0) downEnd.conn.write(upEnd.buffered);
    upEnd.pipeTo(downEnd.conn);
    downEnd.pipeTo(upEnd.conn);
    downEnd.conn.onClose((r) => upEnd.conn.close(r === "reset" ? "now" : "flush"));
    upEnd.conn.onClose((r) => downEnd.conn.close(r === "reset" ? "now" : "flush"));
  }
}
