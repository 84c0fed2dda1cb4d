import assert from "node:assert/strict";
import { rssKiB, startProcess } from "../_support/mosn.ts";
import { httpDoc, simpleRouter } from "../_support/http.ts";
import { h2Origin } from "../_support/h2.ts";
import { freePort, writeAll } from "../_support/net.ts";
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

/** An origin streaming up to 1 GiB per request, honouring backpressure; counts bytes written. */
async function bigOrigin() {
  const state = { written: 0 };
  const o = await h2Origin((stream) => {
    stream.respond({ ":status": 200 });
    const pump = () => {
      while (state.written < TOTAL && !stream.destroyed) {
        state.written += CHUNK.byteLength;
        if (!stream.write(CHUNK)) return void stream.once("drain", pump);
      }
      stream.end();
    };
    pump();
  });
  return Object.assign(o, { state });
}

/** Opens an h2c connection, asks for `path` on stream 1 and 3, then never reads again. */
async function stalledClient(port: number, window: number): Promise<Deno.Conn> {
  const c = await Deno.connect({ hostname: "127.0.0.1", port });
  await writeAll(c, PREFACE);
  await writeAll(c, encodeSettings([[Setting.INITIAL_WINDOW_SIZE, window]]));
  if (window > 65535) await writeAll(c, encodeWindowUpdate(0, 0x7fffffff - 65535));
  const enc = new HpackEncoder();
  for (const sid of [1, 3]) {
    enc.begin();
    for (
      const [n, v] of [[":method", "GET"], [":scheme", "http"], [":path", "/big"], [
        ":authority",
        "t",
      ]]
    ) {
      enc.field(n!, v!);
    }
    await writeAll(c, encodeHeaderBlock(sid, enc.finish(), true, 16384));
  }
  return c;
}

async function settle(read: () => number): Promise<number> {
  // Wait until the origin has stopped making progress (blocked by flow control).
  let last = -1;
  for (let i = 0; i < 100; i++) {
    await new Promise((r) => setTimeout(r, 200));
    const now = read();
    if (now === last) return now;
    last = now;
  }
  return read();
}

for (const [name, window] of [["small window", 65535], ["huge window", 0x7fffffff]] as const) {
  Deno.test(`http2 flow control: a client that stops reading (${name}) keeps the proxy's RSS bounded`, async () => {
    const o = await bigOrigin();
    const port = freePort();
    const doc = httpDoc({
      clusters: [{ name: "o", hosts: [{ address: o.address }] }],
      routers: [
        simpleRouter([{ match: { prefix: "/" }, route: { cluster_name: "o", timeout: "0s" } }]),
      ],
      proxy: { downstream_protocol: "Http2", upstream_protocol: "Http2" },
      listener: { address: `127.0.0.1:${port}` },
    });
    const mosn = await startProcess(doc);
    let c: Deno.Conn | undefined;
    try {
      const before = await rssKiB(mosn.child.pid);
      c = await stalledClient(port, window);
      const written = await settle(() => o.state.written);
      const after = await rssKiB(mosn.child.pid);
      assert.ok(written > 128 * 1024, `the response never started (${written} bytes)`);
      // The origin was stopped long before 1 GiB: windows and watermarks held it back.
      assert.ok(written < 64 * 1024 * 1024, `origin wrote ${written} bytes`);
      assert.ok(
        after - before < 64 * 1024,
        `RSS grew ${after - before} KiB (${before} → ${after})`,
      );
    } finally {
      c?.close();
      mosn.kill("SIGKILL");
      await mosn.exited;
      await o.close();
    }
  });
}

Deno.test("http2 flow control: an HTTP/1.1 client that stops reading an h2c upstream's response", async () => {
  const o = await bigOrigin();
  const port = freePort();
  const doc = httpDoc({
    clusters: [{ name: "o", hosts: [{ address: o.address }] }],
    routers: [
      simpleRouter([{ match: { prefix: "/" }, route: { cluster_name: "o", timeout: "0s" } }]),
    ],
    proxy: { downstream_protocol: "Http1", upstream_protocol: "Http2" },
    listener: { address: `127.0.0.1:${port}` },
  });
  const mosn = await startProcess(doc);
  let c: Deno.Conn | undefined;
  try {
    const before = await rssKiB(mosn.child.pid);
    c = await Deno.connect({ hostname: "127.0.0.1", port });
    await writeAll(c, new TextEncoder().encode("GET /big HTTP/1.1\r\nHost: t\r\n\r\n"));
    const written = await settle(() => o.state.written);
    const after = await rssKiB(mosn.child.pid);
    assert.ok(written > 128 * 1024, `the response never started (${written} bytes)`);
    assert.ok(written < 64 * 1024 * 1024, `origin wrote ${written} bytes`);
    assert.ok(after - before < 64 * 1024, `RSS grew ${after - before} KiB (${before} → ${after})`);
  } finally {
    c?.close();
    mosn.kill("SIGKILL");
    await mosn.exited;
    await o.close();
  }
});
