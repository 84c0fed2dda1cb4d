/**
 * Bolt v1 load generator: `--conns` connections (default 5) to 127.0.0.1:`--port`, `--inflight`
 * calls in flight in total (default 50, spread evenly over the connections), each call a request
 * frame with the golden header map and a 1 KiB body (`requestFrame()`), for `--duration` seconds.
 * Every response is matched to its request by id; a connection sends its next calls as soon as
 * responses come in, all calls made free by one read in one write. After the duration it stops
 * sending, waits up to 2 s for the calls in flight, and prints one JSON line on stdout:
 * completed calls, calls/s, latency percentiles (ms), errors.
 *
 *   deno run --allow-net=127.0.0.1 --allow-read bench/lib/bolt_load.ts --port 29280 --duration 10
 *
 * Only 127.0.0.1; ends by itself (hard stop at duration + 5 s).
 */

import { parseArgs } from "node:util";
import { frameLength, OFF_TYPE, readId, requestFrame, writeAll, writeId } from "./bolt_frames.ts";

export interface BoltLoadResult {
  port: number;
  conns: number;
  inflight: number;
  durationSec: number;
  /** Calls answered within the measured window. */
  calls: number;
  seconds: number;
  callsPerSec: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Responses with an unknown id, non-response frames, connection errors. */
  errors: number;
  firstError?: string;
  /** Calls still unanswered when the generator gave up waiting. */
  unanswered: number;
}

/** Latency histogram: 1 µs buckets up to 100 ms, then one overflow bucket. */
const BUCKETS = 100_000;

class Histogram {
  readonly counts = new Uint32Array(BUCKETS + 1);
  total = 0;
  max = 0;
  add(ms: number): void {
    const us = Math.floor(ms * 1000);
    this.counts[us < BUCKETS ? us : BUCKETS]!++;
    this.total++;
    if (ms > this.max) this.max = ms;
  }
  percentile(p: number): number {
    if (this.total === 0) return NaN;
    const want = Math.ceil(this.total * p);
    let seen = 0;
    for (let i = 0; i <= BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= want) return i < BUCKETS ? (i + 0.5) / 1000 : this.max;
    }
    return this.max;
  }
}

interface Shared {
  hist: Histogram;
  calls: number;
  errors: number;
  firstError?: string;
  sending: boolean;
  measuring: boolean;
  nextId: number;
  /** Calls sent and not answered yet, all connections. */
  outstanding: number;
}

const READ_BYTES = 64 * 1024;
/** Ids on one connection are spread this far apart in the send-time ring. */
const RING = 4096;

async function driveConn(conn: Deno.Conn, inflight: number, req: Uint8Array, s: Shared) {
  const sentAt = new Float64Array(RING);
  const out = new Uint8Array(req.length * inflight);
  for (let i = 0; i < inflight; i++) out.set(req, i * req.length);
  const chunk = new Uint8Array(READ_BYTES);
  let pending = new Uint8Array(0);
  let outstanding = 0;
  // ids of this connection: its own counter, so that id % RING is unique among calls in flight
  let id = s.nextId;
  s.nextId += 1 << 24;
  const send = async (n: number) => {
    const now = performance.now();
    for (let i = 0; i < n; i++) {
      id = (id + 1) >>> 0;
      writeId(out, i * req.length, id);
      sentAt[id % RING] = now;
    }
    outstanding += n;
    s.outstanding += n;
    await writeAll(conn, out.subarray(0, n * req.length));
  };
  const fail = (msg: string) => {
    s.errors++;
    s.firstError ??= msg;
  };
  try {
    await send(inflight);
    while (outstanding > 0) {
      const n = await conn.read(chunk);
      if (n === null) {
        fail("connection closed by the peer");
        return;
      }
      let buf: Uint8Array;
      if (pending.length > 0) {
        buf = new Uint8Array(pending.length + n);
        buf.set(pending);
        buf.set(chunk.subarray(0, n), pending.length);
      } else {
        buf = chunk.subarray(0, n);
      }
      const now = performance.now();
      let off = 0;
      let done = 0;
      while (off < buf.length) {
        const len = frameLength(buf, off, buf.length);
        if (len < 0 || off + len > buf.length) break;
        if (buf[off + OFF_TYPE] !== 0) fail(`unexpected frame type ${buf[off + OFF_TYPE]}`);
        else {
          const rid = readId(buf, off);
          // a response id ahead of what was sent or older than the ring is not ours
          const age = (id - rid) >>> 0;
          if (age >= inflight) fail(`response with unknown id ${rid}`);
          else {
            done++;
            if (s.measuring) {
              s.calls++;
              s.hist.add(now - sentAt[rid % RING]!);
            }
          }
        }
        off += len;
      }
      pending = off < buf.length ? buf.slice(off) : new Uint8Array(0);
      outstanding -= done;
      s.outstanding -= done;
      if (done > 0 && s.sending) await send(done);
    }
  } catch (e) {
    if (s.sending) fail(String((e as Error).message ?? e));
  }
}

export async function runLoad(
  port: number,
  conns: number,
  inflight: number,
  durationSec: number,
): Promise<BoltLoadResult> {
  const req = requestFrame();
  const s: Shared = {
    hist: new Histogram(),
    calls: 0,
    errors: 0,
    sending: true,
    measuring: false,
    nextId: 1,
    outstanding: 0,
  };
  const sockets: Deno.TcpConn[] = [];
  for (let i = 0; i < conns; i++) {
    const c = await Deno.connect({ hostname: "127.0.0.1", port });
    c.setNoDelay(true);
    sockets.push(c);
  }
  const per = (i: number) => Math.floor(inflight / conns) + (i < inflight % conns ? 1 : 0);
  const drivers = sockets.map((c, i) => driveConn(c, per(i), req, s));
  const t0 = performance.now();
  s.measuring = true;
  await new Promise((r) => setTimeout(r, durationSec * 1000));
  s.measuring = false;
  const seconds = (performance.now() - t0) / 1000;
  s.sending = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    Promise.all(drivers),
    new Promise((r) => timer = setTimeout(r, 2000)),
  ]);
  clearTimeout(timer);
  const unanswered = s.outstanding;
  for (const c of sockets) {
    try {
      c.close();
    } catch {
      // closed
    }
  }
  return {
    port,
    conns,
    inflight,
    durationSec,
    calls: s.calls,
    seconds,
    callsPerSec: s.calls / seconds,
    p50Ms: s.hist.percentile(0.5),
    p90Ms: s.hist.percentile(0.9),
    p99Ms: s.hist.percentile(0.99),
    maxMs: s.hist.max,
    errors: s.errors,
    firstError: s.firstError,
    unanswered,
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      port: { type: "string", default: "29280" },
      conns: { type: "string", default: "5" },
      inflight: { type: "string", default: "50" },
      duration: { type: "string", default: "10" },
    },
  });
  const port = Number(values.port);
  const conns = Number(values.conns);
  const inflight = Number(values.inflight);
  const duration = Number(values.duration);
  if (![port, conns, inflight, duration].every((x) => Number.isFinite(x) && x > 0)) {
    console.error("bolt_load: --port, --conns, --inflight and --duration must be positive");
    Deno.exit(2);
  }
  if (inflight < conns) {
    console.error("bolt_load: --inflight must be at least --conns");
    Deno.exit(2);
  }
  // hard stop, whatever happens
  setTimeout(() => {
    console.error("bolt_load: hard stop");
    Deno.exit(3);
  }, (duration + 5) * 1000);
  const r = await runLoad(port, conns, inflight, duration);
  console.log(JSON.stringify(r));
  Deno.exit(0);
}
