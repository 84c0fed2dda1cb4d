/**
 * Helpers of the HTTP/2 flow control tests (h2c and over TLS): an origin that would stream 1 GiB,
 * a raw client that asks for it and then never reads, and a wait for the origin to stall.
 */

import assert from "node:assert/strict";
import type http2 from "node:http2";
import { type MosnProcess, rssKiB } from "../_support/mosn.ts";
import { h2Origin } from "../_support/h2.ts";
import { writeAll } from "../_support/net.ts";
import {
  encodeHeaderBlock,
  encodeSettings,
  encodeWindowUpdate,
  PREFACE,
  Setting,
} from "../../src/protocol/http2/frame.ts";
import { HpackEncoder } from "../../src/protocol/http2/hpack/encoder.ts";

const CHUNK = new Uint8Array(64 * 1024).fill(120);
const TOTAL = 1024 * 1024 * 1024;

/**
 * An origin streaming up to 1 GiB per request, honouring backpressure; counts bytes written.
 * h2c, or h2 over TLS with `tls`.
 */
export async function bigOrigin(tls?: http2.SecureServerOptions) {
  const state = { written: 0 };
  const o = await h2Origin(
    (stream) => {
      stream.respond({ ":status": 200 });
      const pump = () => {
        while (state.written < TOTAL && !stream.destroyed) {
          state.written += CHUNK.byteLength;
          if (!stream.write(CHUNK)) return void stream.once("drain", pump);
        }
        stream.end();
      };
      pump();
    },
    {},
    tls,
  );
  return Object.assign(o, { state });
}

/**
 * Speaks HTTP/2 on `c`: the preface with `window` as the initial stream window (and the
 * connection window opened to the maximum when it is larger than the default), then GET /big on
 * streams 1 and 3. The caller then never reads.
 */
export async function requestBigAndStall(
  c: Deno.Conn,
  window: number,
  scheme: "http" | "https",
): Promise<void> {
  await writeAll(c, PREFACE);
  await writeAll(c, encodeSettings([[Setting.INITIAL_WINDOW_SIZE, window]]));
  if (window > 65535) await writeAll(c, encodeWindowUpdate(0, 0x7fffffff - 65535));
  const enc = new HpackEncoder();
  for (const sid of [1, 3]) {
    enc.begin();
    enc.field(":method", "GET");
    enc.field(":scheme", scheme);
    enc.field(":path", "/big");
    enc.field(":authority", "t");
    await writeAll(c, encodeHeaderBlock(sid, enc.finish(), true, 16384));
  }
}

/** Waits until `read()` stops changing (the origin blocked by flow control); returns it. */
async function settle(read: () => number): Promise<number> {
  let last = -1;
  for (let i = 0; i < 100; i++) {
    await new Promise((r) => setTimeout(r, 200));
    const now = read();
    if (now === last) return now;
    last = now;
  }
  return read();
}

/**
 * Waits for the origin to stall, then asserts that the response started, that windows and
 * watermarks stopped the origin long before 1 GiB, and that the proxy's RSS grew by less than
 * 64 MiB over `beforeKiB` (its RSS before the request).
 */
async function assertHeldBack(
  origin: { state: { written: number } },
  proxyPid: number,
  beforeKiB: number,
): Promise<void> {
  const written = await settle(() => origin.state.written);
  const after = await rssKiB(proxyPid);
  assert.ok(written > 128 * 1024, `the response never started (${written} bytes)`);
  assert.ok(written < 64 * 1024 * 1024, `origin wrote ${written} bytes`);
  assert.ok(
    after - beforeKiB < 64 * 1024,
    `RSS grew ${after - beforeKiB} KiB (${beforeKiB} → ${after})`,
  );
}

/**
 * The whole stall scenario against `mosn` (a proxy process in front of `origin`): its RSS before,
 * then `stall()` opens a client connection, asks for the big response and never reads;
 * assertHeldBack; finally the connection, the proxy and the origin are closed.
 */
export async function assertStallBounded(
  origin: { state: { written: number }; close(): Promise<void> },
  mosn: MosnProcess,
  stall: () => Promise<Deno.Conn>,
): Promise<void> {
  let c: Deno.Conn | undefined;
  try {
    const before = await rssKiB(mosn.child.pid);
    c = await stall();
    await assertHeldBack(origin, mosn.child.pid, before);
  } finally {
    c?.close();
    mosn.kill("SIGKILL");
    await mosn.exited;
    await origin.close();
  }
}
