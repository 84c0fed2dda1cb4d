import assert from "node:assert/strict";
import { HeaderMap } from "../../../src/protocol/header_map.ts";
import { boltV1 } from "../../../src/protocol/xprotocol/bolt/codec.ts";
import type { XFrame } from "../../../src/protocol/xprotocol/types.ts";
import { FrameReader } from "../../../src/stream/xprotocol/frame_reader.ts";

const GOLDEN = new URL("../../protocol/xprotocol/golden/bolt/", import.meta.url).pathname;
function golden(name: string): Uint8Array {
  const hex = Deno.readTextFileSync(`${GOLDEN}${name}.hex`).replace(/\s+/g, "");
  return new Uint8Array(hex.match(/../g)!.map((h) => parseInt(h, 16)));
}

/** Feeds `bytes` in pieces of `size` through one reused buffer, as a connection does. */
function feed(bytes: Uint8Array, size: number): XFrame[] {
  const reader = new FrameReader(boltV1);
  const out: XFrame[] = [];
  const lent = new Uint8Array(size);
  for (let off = 0; off < bytes.byteLength; off += size) {
    const piece = bytes.subarray(off, off + size);
    lent.set(piece);
    reader.push(lent.subarray(0, piece.byteLength), (f) => out.push(f));
    lent.fill(0xee); // the read buffer is reused: frames must not point into it
  }
  return out;
}

Deno.test("frame reader: frames split at every size come out whole and own their bytes", () => {
  const a = golden("v1_req_sayHello_peter");
  const b = golden("v1_heartbeat");
  const stream = new Uint8Array([...a, ...b, ...a]);
  for (const size of [1, 3, 7, 22, 64, stream.byteLength]) {
    const frames = feed(stream, size);
    assert.deepEqual(
      frames.map((f) => f.kind),
      ["request", "heartbeat", "request"],
      `size ${size}`,
    );
    assert.deepEqual(frames[0]!.raw, a);
    assert.deepEqual(frames[2]!.raw, a);
    assert.equal(frames[0]!.headers.get("service"), frames[2]!.headers.get("service"));
  }
});

Deno.test("frame reader: a 4 MiB frame arriving in 64 KiB reads decodes intact", () => {
  const body = new Uint8Array(4 << 20).map((_, i) => i & 0xff);
  const frame: XFrame = {
    ...boltV1.heartbeat(9),
    kind: "request",
    headers: HeaderMap.from({ service: "big" }),
    body,
    timeoutMs: 1000,
  };
  const bytes = boltV1.encode(frame as Parameters<typeof boltV1.encode>[0]);
  const frames = feed(bytes, 64 * 1024);
  assert.equal(frames.length, 1);
  assert.equal(frames[0]!.headers.get("service"), "big");
  assert.deepEqual(frames[0]!.body, body);
});
