/**
 * One TCP or unix connection with a read filter chain, a batched write queue with watermarks,
 * half-close and graceful close. TLS, HTTP/1, HTTP/2 and RPC layers sit on this interface.
 *
 * Reads run in one loop per connection on Deno-native sockets (see docs/design/io_backend.md):
 * the read buffer is lent to the filter chain and reused only after the filter's returned
 * promise settles, so forwarding is zero-copy and a slow writer stops the reader (backpressure).
 */

import { log } from "../common/logger.ts";
import type { Address } from "../config/model.ts";
import { formatNetAddr } from "./address.ts";
import { MIN_READ_SIZE, nextReadSize, releaseBuffer, takeBuffer } from "./buffer_pool.ts";
import { idleSweeper } from "./idle_sweeper.ts";
import type { RawConn, TlsInfo } from "./raw_conn.ts";

export const enum FilterStatus {
  Continue = 0,
  Stop = 1,
}

/**
 * A network read filter. `data` is lent: valid until onData returns, or, when it returns a
 * promise, until that promise settles (the read loop does not read again before).
 * `endStream` is true once the peer has half-closed (then `data` is empty).
 */
export interface ReadFilter {
  onNewConnection?(): FilterStatus;
  onData(data: Uint8Array, endStream: boolean): FilterStatus | Promise<unknown>;
}

export type CloseReason =
  | "local_close" // we closed it
  | "remote_close" // peer closed both directions
  | "reset" // read/write error from the socket
  | "idle_timeout"
  | "buffer_overflow";

export interface ConnectionCounters {
  onRead?(bytes: number): void;
  onWrite?(bytes: number): void;
}

export interface ConnectionOptions {
  /** Close after this long without reads or writes; 0 = never. */
  idleTimeoutMs?: number;
  /** Write-queue high watermark; low watermark is half of it. */
  bufferLimitBytes?: number;
  counters?: ConnectionCounters;
}

let nextId = 1;

const DEFAULT_BUFFER_LIMIT = 1 << 20;
const BATCH_LIMIT = 64 * 1024;

export class Connection {
  readonly id: number = nextId++;
  readonly remoteHost: string;
  readonly remotePort: number;
  readonly localHost: string;
  readonly localPort: number;
  readonly startTime: number = Date.now();
  /** Set by I/O, cleared by the idle sweeper (src/network/idle_sweeper.ts). */
  active = true;
  idleMs = 0;
  bytesRead = 0;
  bytesWritten = 0;
  idleTimeoutMs: number;
  /**
   * Set by a protocol layer that can end the connection politely (HTTP/1: `Connection: close`
   * on the next response); called when the listener drains.
   */
  drainHandler?: () => void;
  /** Where a redirected (iptables REDIRECT/TPROXY) connection was originally headed. */
  originalDestination?: Address;
  /** Set when the bytes run over TLS: negotiated version, ALPN, SNI and the peer's identity. */
  tls?: TlsInfo;
  /**
   * Accepted by a listener that has TLS configured, even when this connection is plain text
   * (an inspector port): client-supplied identity headers must not be trusted on it.
   */
  fromTlsListener = false;

  readonly #conn: RawConn;
  readonly #filters: ReadFilter[] = [];
  readonly #counters: ConnectionCounters | undefined;
  readonly #bufferLimit: number;
  // Allocated on first use: an idle connection should carry as little as possible.
  #closeListeners: ((reason: CloseReason) => void)[] | undefined;
  #watermarkListeners: ((above: boolean) => void)[] | undefined;

  #readDisabled = 0;
  #resumeRead: (() => void) | undefined;
  #readEnded = false;
  #reading = false;

  #queue: Uint8Array[] = [];
  #queuedBytes = 0;
  #flushing = false;
  #aboveHigh = false;
  #writeEndRequested = false;
  #writeEnded = false;
  #drainWaiters: (() => void)[] | undefined;
  #writableWaiters: (() => void)[] | undefined;
  /** The chunk being written and how much of it the kernel has taken. */
  #writing: Uint8Array | undefined;
  #writeOff = 0;

  #closed = false;
  #closeReason: CloseReason | undefined;

  constructor(conn: RawConn, options: ConnectionOptions = {}) {
    this.#conn = conn;
    this.#counters = options.counters;
    this.#bufferLimit = options.bufferLimitBytes || DEFAULT_BUFFER_LIMIT;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 0;
    const r = conn.remoteAddr as Deno.NetAddr;
    const l = conn.localAddr as Deno.NetAddr;
    this.remoteHost = r.hostname ?? "";
    this.remotePort = r.port ?? 0;
    this.localHost = l.hostname ?? "";
    this.localPort = l.port ?? 0;
    if (conn.remoteAddr.transport === "tcp") conn.setNoDelay?.(true);
    if (this.idleTimeoutMs > 0) idleSweeper.add(this);
  }

  // Formatted on first use: most connections (tcp_proxy, keep-alive between requests) never ask,
  // and two strings per connection are a measurable part of an idle connection's heap.
  #localAddress: string | undefined;
  #remoteAddress: string | undefined;

  /** "host:port" (or the unix path) of our end. */
  get localAddress(): string {
    return this.#localAddress ??= formatNetAddr(this.#conn.localAddr);
  }

  /** "host:port" (or the unix path) of the peer. */
  get remoteAddress(): string {
    return this.#remoteAddress ??= formatNetAddr(this.#conn.remoteAddr);
  }

  /** The underlying transport, for layers (TLS, original-dst) that need it. */
  get raw(): RawConn {
    return this.#conn;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get closeReason(): CloseReason | undefined {
    return this.#closeReason;
  }

  /** Bytes queued for writing and not yet handed to the kernel. */
  get bufferedBytes(): number {
    return this.#queuedBytes;
  }

  get aboveHighWatermark(): boolean {
    return this.#aboveHigh;
  }

  /** Changes the idle timeout (0 = none), e.g. to tcp_proxy's own idle_timeout. */
  setIdleTimeout(ms: number): void {
    // Staying in the sweeper's set with 0 (= none) avoids set churn when a pooled connection
    // flips between idle and busy on every request.
    this.idleTimeoutMs = ms;
    this.idleMs = 0;
    this.active = true;
    if (!this.#closed && ms > 0) idleSweeper.add(this);
  }

  addReadFilter(f: ReadFilter): void {
    this.#filters.push(f);
  }

  onClose(cb: (reason: CloseReason) => void): void {
    if (this.#closed) queueMicrotask(() => cb(this.#closeReason!));
    else (this.#closeListeners ??= []).push(cb);
  }

  /** Told when the write queue crosses the high watermark (true) or drains below low (false). */
  onWatermark(cb: (above: boolean) => void): void {
    (this.#watermarkListeners ??= []).push(cb);
  }

  /** Runs onNewConnection on the filters, then starts reading. */
  start(): void {
    for (const f of this.#filters) {
      if (f.onNewConnection && f.onNewConnection() === FilterStatus.Stop) break;
    }
    if (!this.#closed && !this.#reading) {
      this.#reading = true;
      this.#readLoop();
    }
  }

  /** Pauses reading; calls nest, each disable needs one enable (Envoy's readDisable). */
  readDisable(disable: boolean): void {
    if (disable) {
      this.#readDisabled++;
    } else if (this.#readDisabled > 0 && --this.#readDisabled === 0) {
      const r = this.#resumeRead;
      this.#resumeRead = undefined;
      r?.();
    }
  }

  async #readLoop(): Promise<void> {
    let size: number = MIN_READ_SIZE;
    let buf = takeBuffer(size);
    const conn = this.#conn;
    try {
      while (!this.#closed) {
        if (this.#readDisabled > 0) {
          await new Promise<void>((r) => (this.#resumeRead = r));
          if (this.#closed) break;
        }
        const n = await conn.read(buf);
        if (n === null) {
          this.#readEnded = true;
          this.#dispatch(new Uint8Array(0), true);
          if (this.#writeEnded) this.close("flush", "remote_close");
          break;
        }
        this.bytesRead += n;
        this.active = true;
        this.#counters?.onRead?.(n);
        const r = this.#dispatch(buf.subarray(0, n), false);
        if (r !== undefined) await r;
        const next = nextReadSize(size, n);
        if (next !== size) {
          releaseBuffer(buf);
          size = next;
          buf = takeBuffer(size);
        }
      }
    } catch (e) {
      if (!this.#closed) {
        log.debug("connection read failed", { conn: this.id, err: e });
        this.close("now", "reset");
      }
    } finally {
      this.#reading = false;
      // The buffer is no longer lent once the loop exits (filters awaited above).
      releaseBuffer(buf);
    }
  }

  /**
   * A filter that will not handle this connection (a protocol sniffer that recognised nothing)
   * hands it to the filters after it, with the bytes it held (Envoy's continueReading): they
   * start now (onNewConnection) and receive every later read; `from` and those before it are
   * dropped from the chain.
   */
  handOff(from: ReadFilter, data: Uint8Array): Promise<unknown> | undefined {
    const i = this.#filters.indexOf(from);
    if (i < 0) return undefined;
    this.#filters.splice(0, i + 1);
    for (const f of this.#filters) {
      if (f.onNewConnection && f.onNewConnection() === FilterStatus.Stop) break;
    }
    return data.byteLength > 0 ? this.#dispatch(data, false) : undefined;
  }

  #dispatch(data: Uint8Array, end: boolean): Promise<unknown> | undefined {
    for (const f of this.#filters) {
      const s = f.onData(data, end);
      if (s === FilterStatus.Continue) continue;
      if (s === FilterStatus.Stop) return undefined;
      return s;
    }
    return undefined;
  }

  /**
   * Queues `data` for writing and takes ownership of it: the caller must not change it later.
   * Writes issued while one is in flight are coalesced into one syscall.
   */
  write(data: Uint8Array): void {
    if (this.#closed || this.#writeEndRequested || data.byteLength === 0) return;
    this.#queue.push(data);
    this.#queuedBytes += data.byteLength;
    if (!this.#aboveHigh && this.#queuedBytes > this.#bufferLimit) {
      this.#aboveHigh = true;
      if (this.#watermarkListeners) { for (const cb of this.#watermarkListeners) cb(true); }
    }
    if (!this.#flushing && !this.#corked) this.#flush();
  }

  #corked = false;
  /**
   * Holds writes in the queue until uncork(), so that frames produced in one pass (HTTP/2
   * answering many streams from one read) leave in one syscall instead of two or more.
   */
  cork(): void {
    this.#corked = true;
  }

  uncork(): void {
    if (!this.#corked) return;
    this.#corked = false;
    if (!this.#flushing && this.#queue.length > 0) this.#flush();
  }

  /**
   * Writes a lent buffer (one the caller will reuse): zero-copy when the queue is idle, copied
   * when not. The promise settles once the bytes are handed to the kernel or the connection
   * closed; it never rejects.
   */
  writeLent(data: Uint8Array): Promise<void> {
    if (this.#closed || this.#writeEndRequested || data.byteLength === 0) return Promise.resolve();
    if (!this.#flushing) {
      this.write(data);
      return this.#whenDrained();
    }
    this.write(data.slice());
    return this.#whenDrained();
  }

  /**
   * Settles once the write queue is back under the low watermark (at once when it is not above
   * the high one) or the connection closed: how callers that copy small chunks into the queue
   * still get backpressure.
   */
  whenWritable(): Promise<void> {
    if (!this.#aboveHigh || this.#closed) return Promise.resolve();
    return new Promise<void>((r) => (this.#writableWaiters ??= []).push(r));
  }

  #releaseWritable(): void {
    const w = this.#writableWaiters;
    if (!w) return;
    this.#writableWaiters = undefined;
    for (const r of w) r();
  }

  #whenDrained(): Promise<void> {
    if (!this.#flushing) return Promise.resolve();
    return new Promise<void>((r) => (this.#drainWaiters ??= []).push(r));
  }

  /**
   * Starts the next write, or finishes flushing when the queue is empty. Written with bound
   * callbacks rather than an async function: one promise per syscall, nothing more.
   */
  #flush(): void {
    const q = this.#queue;
    if (q.length === 0 || this.#closed) {
      this.#flushing = false;
      const waiters = this.#drainWaiters;
      if (waiters) {
        this.#drainWaiters = undefined;
        for (const w of waiters) w();
      }
      if (this.#writeEndRequested && !this.#writeEnded && !this.#closed) this.#endWrite();
      return;
    }
    this.#flushing = true;
    const chunk = q.length === 1 ? q.pop()! : this.#batch();
    this.#writing = chunk;
    this.#writeOff = 0;
    this.#issue(chunk);
  }

  #issue(bytes: Uint8Array): void {
    let p: Promise<number>;
    try {
      p = this.#conn.write(bytes);
    } catch (e) {
      this.#onWriteError(e);
      return;
    }
    p.then(this.#onWritten, this.#onWriteError);
  }

  readonly #onWritten = (n: number): void => {
    const chunk = this.#writing!;
    const off = this.#writeOff + n;
    const len = chunk.byteLength;
    if (off < len && !this.#closed) {
      this.#writeOff = off; // partial write: the kernel took only part of it
      this.#issue(chunk.subarray(off));
      return;
    }
    this.#writing = undefined;
    this.#queuedBytes -= len;
    this.bytesWritten += len;
    this.active = true;
    this.#counters?.onWrite?.(len);
    if (this.#aboveHigh && this.#queuedBytes <= this.#bufferLimit / 2) {
      this.#aboveHigh = false;
      if (this.#watermarkListeners) { for (const cb of this.#watermarkListeners) cb(false); }
      this.#releaseWritable();
    }
    this.#flush();
  };

  readonly #onWriteError = (e: unknown): void => {
    this.#writing = undefined;
    if (!this.#closed) {
      log.debug("connection write failed", { conn: this.id, err: e });
      this.close("now", "reset");
    }
    this.#flush();
  };

  /** Joins queued chunks (up to BATCH_LIMIT, or the first chunk alone if larger) into one. */
  #batch(): Uint8Array {
    const q = this.#queue;
    let total = 0;
    let count = 0;
    while (count < q.length && (count === 0 || total + q[count]!.byteLength <= BATCH_LIMIT)) {
      total += q[count]!.byteLength;
      count++;
    }
    if (count === 1) return q.shift()!;
    const out = new Uint8Array(total);
    let off = 0;
    for (let i = 0; i < count; i++) {
      out.set(q[i]!, off);
      off += q[i]!.byteLength;
    }
    q.splice(0, count);
    return out;
  }

  /** Half-close: shuts our write side once everything queued has been written. */
  closeWrite(): void {
    if (this.#closed || this.#writeEndRequested) return;
    this.#writeEndRequested = true;
    if (!this.#flushing) this.#endWrite();
  }

  #endWrite(): void {
    this.#writeEnded = true;
    this.#conn.closeWrite().then(() => {
      if (this.#readEnded) this.close("now", "remote_close");
    }, () => this.close("now", "reset"));
  }

  /**
   * Closes the connection. "flush" writes what is queued first; "now" discards it.
   * Safe to call more than once; listeners run once with the first reason.
   */
  close(mode: "flush" | "now", reason: CloseReason = "local_close"): void {
    if (this.#closed) return;
    if (mode === "flush" && this.#corked) {
      this.#corked = false;
      if (!this.#flushing && this.#queue.length > 0) this.#flush();
    }
    if (mode === "flush" && this.#flushing) {
      this.#writeEndRequested = true;
      (this.#drainWaiters ??= []).push(() => this.close("now", reason));
      return;
    }
    this.#closed = true;
    this.#closeReason = reason;
    idleSweeper.delete(this);
    try {
      this.#conn.close();
    } catch {
      // already closed by the runtime
    }
    const r = this.#resumeRead;
    this.#resumeRead = undefined;
    r?.();
    const waiters = this.#drainWaiters;
    this.#drainWaiters = undefined;
    if (waiters) { for (const w of waiters) w(); }
    this.#releaseWritable();
    const listeners = this.#closeListeners ?? [];
    this.#closeListeners = undefined;
    for (const cb of listeners) {
      try {
        cb(reason);
      } catch (e) {
        log.error("close listener failed", { conn: this.id, err: e });
      }
    }
  }
}
