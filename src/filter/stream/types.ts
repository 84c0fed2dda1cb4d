/**
 * Stream (L7) filter contract, named after MOSN's request phases. A receiver filter runs on the
 * request, a sender filter on the response. Every hook is optional; filters that keep no
 * per-request state may be shared by all requests.
 */

import type { ObjReader } from "../../config/reader.ts";
import type { HeaderMap } from "../../protocol/header_map.ts";
import type { StreamInfo } from "../../stream/stream_info.ts";

export const enum StreamFilterStatus {
  /** Go on with the next filter / phase. */
  Continue = 0,
  /** Stop here: the filter has answered (sendLocalReply) and the request goes no further. */
  Stop = 1,
}

/** MOSN's receive-filter phases: before routing, after routing, after a host was chosen. */
export type StreamFilterPhase = "BeforeRoute" | "AfterRoute" | "AfterChooseHost";

/** What a filter can see and do for the request it runs on. */
export interface StreamFilterCallbacks {
  readonly info: StreamInfo;
  /** The request headers (mutable: changes are forwarded upstream). */
  readonly requestHeaders: HeaderMap;
  /**
   * Answers the request locally (no upstream) with `status`, optional body and headers; the
   * proxy then ignores the rest of the request.
   */
  sendLocalReply(status: number, body?: string, headers?: Record<string, string>): void;
}

export interface StreamReceiverFilter {
  /** Default "BeforeRoute". */
  readonly phase?: StreamFilterPhase;
  onRequestHeaders?(
    cb: StreamFilterCallbacks,
    endStream: boolean,
  ): StreamFilterStatus | Promise<StreamFilterStatus>;
  /** Body chunks as they stream; `chunk` is lent (valid during the call). */
  onRequestData?(
    cb: StreamFilterCallbacks,
    chunk: Uint8Array,
    endStream: boolean,
  ): StreamFilterStatus;
}

export interface StreamSenderFilter {
  /** Response headers before they go downstream (mutable). */
  onResponseHeaders?(
    cb: StreamFilterCallbacks,
    headers: HeaderMap,
    endStream: boolean,
  ): StreamFilterStatus;
  onResponseData?(
    cb: StreamFilterCallbacks,
    chunk: Uint8Array,
    endStream: boolean,
  ): StreamFilterStatus;
}

/** The filters one request gets from one configured filter. */
export interface StreamFilterPair {
  receiver?: StreamReceiverFilter;
  sender?: StreamSenderFilter;
}

export interface StreamFilterFactory<C = unknown> {
  /** The config `type` string in `stream_filters[]`, e.g. "fault". */
  readonly type: string;
  /** Reads `config`; problems go to `r.ctx` with their JSON paths. */
  parseConfig(r: ObjReader): C;
  /**
   * Called once per listener with the parsed config; returns a function that gives each new
   * request its filters (return the same objects every time when they keep no state).
   */
  prepare(config: C, deps: { random: () => number }): () => StreamFilterPair;
}
