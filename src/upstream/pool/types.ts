/** Connection pool contract: hand the proxy a client stream to one host, or say why not. */

import type { ClientStream, ResponseReceiver } from "../../stream/types.ts";

export type PoolFailureReason = "overflow" | "connection_failure" | "timeout" | "closed";

export interface PoolReadyInfo {
  /** The stream runs on a connection that served an earlier request. */
  readonly reused: boolean;
  readonly localAddress: string;
}

export interface PoolCallbacks {
  onPoolReady(stream: ClientStream, info: PoolReadyInfo): void;
  onPoolFailure(reason: PoolFailureReason, detail?: string): void;
}

/** Returned by newStream while the request waits for a connection; cancel() withdraws it. */
export interface PoolCancel {
  cancel(): void;
}

export interface ConnectionPool {
  readonly protocol: string;
  /**
   * Gets a stream at once when an idle connection exists (onPoolReady runs before newStream
   * returns, and undefined is returned), else queues and returns a cancel handle.
   * `fresh` forces a new connection (used after a reused one failed before responding).
   */
  newStream(receiver: ResponseReceiver, cb: PoolCallbacks, fresh?: boolean): PoolCancel | undefined;
  /** Closes idle connections now and busy ones when their exchange ends. */
  drain(): void;
  close(): void;
  readonly activeConnections: number;
}
