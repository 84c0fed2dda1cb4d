/**
 * What the proxy layer sees of tracing: a per-listener `RequestTracing` that, for each sampled
 * request, opens a SERVER span (`ServerTrace`) and one CLIENT span per upstream attempt
 * (`ClientTrace`). Protocol-agnostic: it reads `RequestMessage` (HTTP/1, HTTP/2, gRPC, bolt,
 * dubbo) and writes the propagation headers into the request's header map (RPC frames are
 * marked for re-encoding). Unsampled requests get `undefined` and cost no objects.
 */

import type { StreamInfo } from "../../stream/stream_info.ts";
import type { RequestMessage } from "../../stream/types.ts";

/** A span context as carried between processes. */
export interface TraceContext {
  /** 32 lowercase hex digits. */
  readonly traceId: string;
  /** 16 lowercase hex digits. */
  readonly spanId: string;
  /** true/false from the carrier's flags; undefined when the carrier has none (SOFA). */
  readonly sampled: boolean | undefined;
  /** W3C tracestate, passed through untouched ("" when absent). */
  readonly traceState: string;
}

export interface RequestTracing {
  /**
   * Decides sampling (parent-based ratio) and, when sampled, starts the request's SERVER span
   * and records its ids in `info`. Cheap when not sampled: no span is created.
   */
  startServer(req: RequestMessage, info: StreamInfo): ServerTrace | undefined;
}

export interface ServerTrace {
  readonly traceId: string;
  readonly spanId: string;
  /** Starts the CLIENT span of upstream attempt `attempt` (1-based) to `host` ("ip:port"). */
  startClient(host: string, cluster: string, attempt: number): ClientTrace;
  /** gRPC's status (`grpc-status`, from trailers or a trailers-only answer) as sent down. */
  setGrpcStatus(code: string): void;
  /**
   * Why the exchange ended abnormally after the response had started (a downstream or upstream
   * stream reset, a timeout): the status code alone would read as a success.
   */
  setError(reason: string): void;
  /** Ends the SERVER span with what `info` knows (status, route, cluster, retries, flags). */
  end(info: StreamInfo): void;
}

export interface ClientTrace {
  /** Writes this span's context into the request about to be sent upstream. */
  inject(req: RequestMessage): void;
  /** The upstream's status (HTTP, or the RPC status mapped to HTTP). */
  setStatus(status: number): void;
  /** gRPC's status from the upstream (`grpc-status`). */
  setGrpcStatus(code: string): void;
  /** Why the attempt failed (connect failure, reset, timeout…), when it did. */
  setError(reason: string): void;
  end(): void;
}
