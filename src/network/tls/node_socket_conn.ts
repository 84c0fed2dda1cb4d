/**
 * A RawConn over a node:net Socket or node:tls TLSSocket, so a Connection can run over
 * node:tls (server-side mTLS, SNI, peeking) with the same read/write loop as Deno sockets.
 *
 * Reads: 'data' chunks are copied into the reader's buffer; chunks that arrive with no read
 * waiting are queued, and the socket is paused once QUEUE_HIGH bytes wait (backpressure: the
 * Connection's reader stops reading when its filters are slow, so the peer is throttled).
 * Writes: one write in flight (the Connection serialises them); it resolves on node's write
 * callback, i.e. once the bytes left node's buffers, so a lent buffer can be reused then.
 */

import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { RawConn } from "../raw_conn.ts";

/** Queued unread bytes beyond which the socket is paused. */
const QUEUE_HIGH = 64 * 1024;

/** Deno's error for operations on a closed resource, so callers treat both kinds alike. */
function closedError(): Error {
  return new Deno.errors.BadResource("socket closed");
}

export function socketAddr(host: string | undefined, port: number | undefined): Deno.Addr {
  if (host === undefined) return { transport: "unix", path: "" };
  return { transport: "tcp", hostname: host, port: port ?? 0 };
}

export class NodeSocketConn implements RawConn {
  readonly localAddr: Deno.Addr;
  readonly remoteAddr: Deno.Addr;
  readonly #sock: Duplex;

  #chunks: Uint8Array[] = [];
  /** Read offset into #chunks[0]. */
  #head = 0;
  #queued = 0;
  #paused = false;
  #ended = false;
  #closed = false;
  #error: Error | undefined;

  #readBuf: Uint8Array | undefined;
  #readResolve: ((n: number | null) => void) | undefined;
  #readReject: ((e: Error) => void) | undefined;

  #writeLen = 0;
  #writeResolve: ((n: number) => void) | undefined;
  #writeReject: ((e: Error) => void) | undefined;

  /**
   * `addrs` overrides the addresses (a TLSSocket over a peeked socket reports them through its
   * parent; passing them avoids asking on every access).
   */
  constructor(sock: Duplex, addrs?: { local: Deno.Addr; remote: Deno.Addr }) {
    this.#sock = sock;
    const s = sock as Partial<Socket>;
    this.localAddr = addrs?.local ?? socketAddr(s.localAddress, s.localPort);
    this.remoteAddr = addrs?.remote ?? socketAddr(s.remoteAddress, s.remotePort);
    sock.on("data", this.#onData);
    sock.on("end", this.#onEnd);
    sock.on("error", this.#onError);
    sock.on("close", this.#onClose);
  }

  readonly #onData = (chunk: Uint8Array): void => {
    const resolve = this.#readResolve;
    if (resolve !== undefined && this.#queued === 0) {
      const buf = this.#readBuf!;
      this.#clearRead();
      const n = chunk.byteLength <= buf.byteLength ? chunk.byteLength : buf.byteLength;
      buf.set(n === chunk.byteLength ? chunk : chunk.subarray(0, n));
      if (n < chunk.byteLength) this.#enqueue(chunk.subarray(n));
      resolve(n);
      return;
    }
    this.#enqueue(chunk);
  };

  #enqueue(chunk: Uint8Array): void {
    this.#chunks.push(chunk);
    this.#queued += chunk.byteLength;
    if (!this.#paused && this.#queued >= QUEUE_HIGH) {
      this.#paused = true;
      this.#sock.pause();
    }
  }

  readonly #onEnd = (): void => {
    this.#ended = true;
    const resolve = this.#readResolve;
    if (resolve !== undefined && this.#queued === 0) {
      this.#clearRead();
      resolve(null);
    }
  };

  readonly #onError = (e: Error): void => {
    this.#error ??= e;
    this.#failPending(e);
  };

  readonly #onClose = (): void => {
    this.#closed = true;
    // Without a prior 'end' this is a reset (or our destroy): waiters fail, later reads reject.
    // The error object is made only when someone waits (a stack trace per closed connection
    // adds up).
    if (this.#readReject !== undefined || this.#writeReject !== undefined) {
      this.#error ??= closedError();
      this.#failPending(this.#error);
    }
  };

  #failPending(e: Error): void {
    const rr = this.#readReject;
    if (rr !== undefined) {
      this.#clearRead();
      rr(e);
    }
    const wr = this.#writeReject;
    if (wr !== undefined) {
      this.#writeResolve = this.#writeReject = undefined;
      wr(e);
    }
  }

  #clearRead(): void {
    this.#readBuf = undefined;
    this.#readResolve = undefined;
    this.#readReject = undefined;
  }

  readonly #readExecutor = (
    resolve: (n: number | null) => void,
    reject: (e: Error) => void,
  ): void => {
    this.#readResolve = resolve;
    this.#readReject = reject;
  };

  read(p: Uint8Array): Promise<number | null> {
    if (this.#queued > 0) return Promise.resolve(this.#drainInto(p));
    if (this.#error) return Promise.reject(this.#error);
    if (this.#ended) return Promise.resolve(null);
    if (this.#closed) return Promise.reject(this.#error = closedError());
    this.#readBuf = p;
    return new Promise(this.#readExecutor);
  }

  /** Copies queued bytes into `p`; resumes the socket once the queue is short again. */
  #drainInto(p: Uint8Array): number {
    let n = 0;
    const chunks = this.#chunks;
    while (n < p.byteLength && chunks.length > 0) {
      const c = chunks[0]!;
      const avail = c.byteLength - this.#head;
      const take = avail <= p.byteLength - n ? avail : p.byteLength - n;
      p.set(c.subarray(this.#head, this.#head + take), n);
      n += take;
      if (take === avail) {
        chunks.shift();
        this.#head = 0;
      } else this.#head += take;
    }
    this.#queued -= n;
    if (this.#paused && this.#queued < QUEUE_HIGH / 2) {
      this.#paused = false;
      this.#sock.resume();
    }
    return n;
  }

  readonly #writeExecutor = (resolve: (n: number) => void, reject: (e: Error) => void): void => {
    this.#writeResolve = resolve;
    this.#writeReject = reject;
  };

  readonly #onWritten = (err?: Error | null): void => {
    const resolve = this.#writeResolve;
    const reject = this.#writeReject;
    this.#writeResolve = this.#writeReject = undefined;
    if (err) reject?.(err);
    else resolve?.(this.#writeLen);
  };

  write(p: Uint8Array): Promise<number> {
    if (this.#closed || this.#sock.destroyed) return Promise.reject(this.#error ?? closedError());
    const promise = new Promise(this.#writeExecutor);
    this.#writeLen = p.byteLength;
    this.#sock.write(p, this.#onWritten);
    return promise;
  }

  closeWrite(): Promise<void> {
    const sock = this.#sock;
    if (this.#closed || sock.destroyed || sock.writableEnded) return Promise.resolve();
    return new Promise<void>((resolve) => {
      // 'finish' (close_notify / FIN handed over) or 'close', whichever comes first.
      const done = () => {
        sock.off("close", done);
        resolve();
      };
      sock.once("close", done);
      sock.end(done);
    });
  }

  close(): void {
    if (!this.#closed) {
      this.#closed = true;
      if (this.#readReject !== undefined || this.#writeReject !== undefined) {
        this.#error ??= closedError();
        this.#failPending(this.#error);
      }
    }
    this.#sock.destroy();
  }

  setNoDelay(noDelay = true): void {
    (this.#sock as Partial<Socket>).setNoDelay?.(noDelay);
  }
}
