/**
 * What is known about one request as it passes the proxy (MOSN's RequestInfo, Envoy's
 * StreamInfo): read by stream filters, the access log, stats and tracing.
 */

import type { TlsInfo } from "../network/raw_conn.ts";
import type { HeaderMap } from "../protocol/header_map.ts";

/** Envoy's response flags, short codes as in its access logs. */
export const ResponseFlag = {
  NoHealthyUpstream: "UH",
  UpstreamConnectionFailure: "UF",
  UpstreamOverflow: "UO",
  NoRouteFound: "NR",
  UpstreamRetryLimitExceeded: "URX",
  UpstreamRequestTimeout: "UT",
  LocalReset: "LR",
  UpstreamRemoteReset: "UR",
  UpstreamConnectionTermination: "UC",
  DownstreamConnectionTermination: "DC",
  DelayInjected: "DI",
  FaultInjected: "FI",
  DownstreamProtocolError: "DPE",
  UpstreamProtocolError: "UPE",
  RequestEntityTooLarge: "RTL",
} as const;
export type ResponseFlagCode = typeof ResponseFlag[keyof typeof ResponseFlag];

export class StreamInfo {
  /** Wall-clock start, ms since the epoch. Durations use Date.now() too: it is a V8 builtin,
   * while performance.now() is a runtime op that costs several times more per call. */
  readonly startTime: number = Date.now();
  protocol = "";
  method = "";
  /** Request target as received (before rewrites). */
  path = "";
  authority = "";
  listenerName = "";
  downstreamRemoteAddress = "";
  downstreamLocalAddress = "";
  /** Peer certificate identity (first SAN URI) when the downstream used mTLS. */
  downstreamPeerIdentity = "";
  /** The downstream connection's TLS details; undefined for plain text. */
  downstreamTls: TlsInfo | undefined;
  requestHeaders: HeaderMap | undefined;
  responseHeaders: HeaderMap | undefined;
  /** Body bytes received from downstream / sent to downstream. */
  bytesReceived = 0;
  bytesSent = 0;
  /** 0 until a response status is known. */
  responseCode = 0;
  routeName = "";
  virtualHostName = "";
  upstreamCluster = "";
  upstreamHost = "";
  upstreamLocalAddress = "";
  /** Upstream attempts beyond the first. */
  retries = 0;
  /** Time of the first upstream response byte, ms after start; -1 when none. */
  firstUpstreamByteMs = -1;
  /** OpenTelemetry ids of the request's SERVER span; "" when the request is not traced. */
  traceId = "";
  spanId = "";
  /** Total duration in ms, set when the stream ends; -1 while it runs. */
  durationMs = -1;
  #flags: ResponseFlagCode[] | undefined;

  setFlag(f: ResponseFlagCode): void {
    (this.#flags ??= []).includes(f) || this.#flags.push(f);
  }

  hasFlag(f: ResponseFlagCode): boolean {
    return this.#flags?.includes(f) ?? false;
  }

  /** "UF,URX" or "-" as in Envoy's access log. */
  flagsText(): string {
    return this.#flags && this.#flags.length > 0 ? this.#flags.join(",") : "-";
  }

  finish(): void {
    if (this.durationMs < 0) this.durationMs = Date.now() - this.startTime;
  }
}
