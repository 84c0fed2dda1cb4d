/**
 * Idle keep-alive connections for the memory measurement: raw TCP connections that each send one
 * `GET <path> HTTP/1.1`, read the whole response and then stay open, idle, until closed. The
 * resident-memory growth of the proxy divided by the count is its memory per idle connection.
 */

import { readRssKiB } from "./procstat.ts";
import { sleep } from "./proc.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Open idle connections; `close()` closes them all. */
export interface IdleSet {
  readonly conns: Deno.TcpConn[];
  /** Connections that failed to connect or answer. */
  readonly failed: number;
  /** First failure message, if any. */
  readonly firstError?: string;
  close(): void;
}

function indexOfCrlfCrlf(buf: Uint8Array, len: number): number {
  for (let i = 3; i < len; i++) {
    if (buf[i] === 10 && buf[i - 1] === 13 && buf[i - 2] === 10 && buf[i - 3] === 13) return i + 1;
  }
  return -1;
}

/**
 * Sends one request on `conn` and reads its response completely (Content-Length framing; the
 * origin answers with it). Throws on a non-200 status, EOF or a malformed response.
 */
export async function oneRequest(conn: Deno.TcpConn, path: string): Promise<string> {
  const req = encoder.encode(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
  let off = 0;
  while (off < req.length) off += await conn.write(req.subarray(off));
  let buf = new Uint8Array(4096);
  let len = 0;
  let headEnd = -1;
  let need = -1;
  for (let reads = 0; reads < 100_000; reads++) {
    if (len === buf.length) {
      const bigger = new Uint8Array(buf.length * 2);
      bigger.set(buf);
      buf = bigger;
    }
    const n = await conn.read(buf.subarray(len));
    if (n === null) throw new Error("connection closed before the response was complete");
    len += n;
    if (headEnd < 0) {
      headEnd = indexOfCrlfCrlf(buf, len);
      if (headEnd < 0) continue;
      const head = decoder.decode(buf.subarray(0, headEnd));
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(head);
      if (!status) throw new Error(`malformed response: ${JSON.stringify(head.slice(0, 80))}`);
      if (status[1] !== "200") throw new Error(`status ${status[1]}`);
      const cl = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      if (!cl) throw new Error("response without Content-Length");
      need = headEnd + Number(cl[1]);
    }
    if (len >= need) return decoder.decode(buf.subarray(headEnd, need));
  }
  throw new Error("response too long");
}

/**
 * Opens `count` connections to 127.0.0.1:`port`, `batch` at a time; each makes one request on
 * `path` and is then left open. Each batch is bounded by `batchTimeoutMs`.
 */
export async function openIdle(
  port: number,
  count: number,
  path = "/hello",
  batch = 100,
  batchTimeoutMs = 10_000,
): Promise<IdleSet> {
  const conns: Deno.TcpConn[] = [];
  let failed = 0;
  let firstError: string | undefined;
  for (let done = 0; done < count; done += batch) {
    const n = Math.min(batch, count - done);
    const pending: Deno.TcpConn[] = [];
    let abandoned = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((r) => {
      timer = setTimeout(() => r("timeout"), batchTimeoutMs);
    });
    const one = async (): Promise<Deno.TcpConn> => {
      const c = await Deno.connect({ hostname: "127.0.0.1", port });
      if (abandoned) {
        c.close();
        throw new Error("abandoned");
      }
      pending.push(c);
      await oneRequest(c, path);
      return c;
    };
    const results = await Promise.race([
      Promise.allSettled(Array.from({ length: n }, one)),
      timeout,
    ]);
    clearTimeout(timer);
    if (results === "timeout") {
      abandoned = true;
      // close this batch: pending reads then fail and settle
      for (const c of pending) {
        try {
          c.close();
        } catch {
          // closed
        }
      }
      failed += n;
      firstError ??= `batch timed out after ${batchTimeoutMs} ms`;
      break;
    }
    for (const r of results) {
      if (r.status === "fulfilled") conns.push(r.value);
      else {
        failed++;
        firstError ??= String(r.reason?.message ?? r.reason);
      }
    }
    // close the sockets of failed requests
    for (const c of pending) {
      if (!conns.includes(c)) {
        try {
          c.close();
        } catch {
          // closed
        }
      }
    }
  }
  return {
    conns,
    failed,
    firstError,
    close() {
      for (const c of conns) {
        try {
          c.close();
        } catch {
          // closed
        }
      }
      conns.length = 0;
    },
  };
}

/** Result of {@link measureIdleMemory}. */
export interface IdleMemory {
  rssBeforeKiB: number;
  rssIdleKiB: number;
  opened: number;
  failed: number;
  firstError?: string;
  /** (rssIdle - rssBefore) / opened. */
  kibPerConn: number;
}

/**
 * Reads the RSS of `pid` (summed over the processes when an array: nginx master + workers), opens `count` idle connections through `port` (each after one request
 * for `path`), waits `settleMs`, reads
 * the RSS again, closes the connections and waits `afterCloseMs` for the proxy to release them.
 */
export async function measureIdleMemory(
  pid: number | readonly number[],
  port: number,
  count: number,
  path = "/hello",
  settleMs = 1500,
  afterCloseMs = 1000,
): Promise<IdleMemory> {
  const pids = typeof pid === "number" ? [pid] : pid;
  const rss = () => pids.reduce((t, p) => t + readRssKiB(p), 0);
  const rssBeforeKiB = rss();
  const set = await openIdle(port, count, path);
  try {
    await sleep(settleMs);
    const rssIdleKiB = rss();
    const opened = set.conns.length;
    return {
      rssBeforeKiB,
      rssIdleKiB,
      opened,
      failed: set.failed,
      firstError: set.firstError,
      kibPerConn: opened > 0 ? (rssIdleKiB - rssBeforeKiB) / opened : NaN,
    };
  } finally {
    set.close();
    await sleep(afterCloseMs);
  }
}
