import assert from "node:assert/strict";
import { startInProcess } from "../_support/mosn.ts";
import { httpDoc, origin, simpleRouter } from "../_support/http.ts";
import { run } from "../_support/h2.ts";
import { concat, readAll, writeAll } from "../_support/net.ts";
import {
  encodeFrame,
  encodeSettings,
  FrameReader,
  FrameType,
  PREFACE,
  readU32,
} from "../../src/protocol/http2/frame.ts";

/** Sends bytes on a fresh connection and collects the frames the proxy answers until it closes. */
async function exchange(
  port: number,
  bytes: Uint8Array,
): Promise<{ type: number; sid: number; p: Uint8Array }[]> {
  const c = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await writeAll(c, bytes);
    const all = await readAll(c);
    const frames: { type: number; sid: number; p: Uint8Array }[] = [];
    new FrameReader(1 << 24).push(
      all,
      (type, _f, sid, p) => frames.push({ type, sid, p: p.slice() }),
    );
    return frames;
  } finally {
    c.close();
  }
}

const goawayCode = (frames: { type: number; p: Uint8Array }[]) => {
  const g = frames.find((f) => f.type === FrameType.GOAWAY);
  return g ? readU32(g.p, 4) : -1;
};

/** An h2c listener proxying to an HTTP/1.1 origin that answers "fine". */
function h2ToH1Proxy() {
  const o = origin(() => new Response("fine"));
  const mosn = startInProcess(httpDoc({
    clusters: [{ name: "o", hosts: [{ address: o.address }] }],
    routers: [simpleRouter([{ match: { prefix: "/" }, route: { cluster_name: "o" } }])],
    proxy: { downstream_protocol: "Http2", upstream_protocol: "Http1" },
  }));
  return { o, mosn };
}

Deno.test("http2: malformed input closes only its connection, with GOAWAY and the right code", async () => {
  const { o, mosn } = h2ToH1Proxy();
  const port = mosn.listenerPort("http");
  const settings = encodeSettings([]);
  try {
    // A bad preface.
    assert.equal(
      goawayCode(await exchange(port, new TextEncoder().encode("GET / HTTP/1.1\r\n\r\n"))),
      1,
    );
    // DATA on stream 0: PROTOCOL_ERROR.
    assert.equal(
      goawayCode(
        await exchange(
          port,
          concat([PREFACE, settings, encodeFrame(FrameType.DATA, 0, 0, new Uint8Array(4))]),
        ),
      ),
      1,
    );
    // A frame larger than our SETTINGS_MAX_FRAME_SIZE: FRAME_SIZE_ERROR.
    const huge = new Uint8Array(9);
    huge.set([0x00, 0x80, 0x00, FrameType.DATA, 0, 0, 0, 0, 1]);
    assert.equal(goawayCode(await exchange(port, concat([PREFACE, settings, huge]))), 6);
    // A header block that is not valid HPACK: COMPRESSION_ERROR.
    assert.equal(
      goawayCode(
        await exchange(
          port,
          concat([
            PREFACE,
            settings,
            encodeFrame(FrameType.HEADERS, 0x5, 1, new Uint8Array([0x80])),
          ]),
        ),
      ),
      9,
    );
    // A PING of the wrong size: FRAME_SIZE_ERROR.
    assert.equal(
      goawayCode(
        await exchange(
          port,
          concat([PREFACE, settings, encodeFrame(FrameType.PING, 0, 0, new Uint8Array(3))]),
        ),
      ),
      6,
    );
    // The proxy still serves everyone else.
    const ok = await run("curl", ["-sS", "--http2-prior-knowledge", `http://127.0.0.1:${port}/`]);
    assert.equal(ok.stdout, "fine");
  } finally {
    await mosn.stop("fast");
    await o.close();
  }
});

Deno.test("http2: PING is answered and SETTINGS acknowledged", async () => {
  const { o, mosn } = h2ToH1Proxy();
  const port = mosn.listenerPort("http");
  try {
    const c = await Deno.connect({ hostname: "127.0.0.1", port });
    const ping = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
    await writeAll(
      c,
      concat([PREFACE, encodeSettings([]), encodeFrame(FrameType.PING, 0, 0, ping)]),
    );
    const frames: { type: number; flags: number; p: Uint8Array }[] = [];
    const reader = new FrameReader();
    const buf = new Uint8Array(65536);
    while (
      !frames.some((f) => f.type === FrameType.PING) ||
      !frames.some((f) => f.type === FrameType.SETTINGS && f.flags === 1)
    ) {
      const n = await c.read(buf);
      if (n === null) break;
      reader.push(
        buf.subarray(0, n),
        (type, flags, _sid, p) => frames.push({ type, flags, p: p.slice() }),
      );
    }
    c.close();
    const pong = frames.find((f) => f.type === FrameType.PING)!;
    assert.equal(pong.flags, 1);
    assert.deepEqual([...pong.p], [...ping]);
  } finally {
    await mosn.stop("fast");
    await o.close();
  }
});
