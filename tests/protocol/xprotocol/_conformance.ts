/**
 * The conformance suite every xprotocol codec runs on its sample frames: byte-exact round trip,
 * partial input at every split point, several frames per buffer, in-place id re-stamping.
 */

import assert from "node:assert/strict";
import type { XFrame, XProtocol } from "../../../src/protocol/xprotocol/types.ts";

export interface Sample {
  name: string;
  bytes: Uint8Array;
}

function decodeOne(p: XProtocol, bytes: Uint8Array): XFrame {
  const r = p.decode(bytes);
  assert.notEqual(r, "again");
  if (r === "again") throw new Error("unreachable");
  assert.equal(r.consumed, bytes.length);
  return r.frame;
}

function comparable(f: XFrame) {
  return {
    kind: f.kind,
    requestId: f.requestId,
    headers: f.headers.raw,
    body: [...f.body],
    raw: [...f.raw],
    timeoutMs: f.timeoutMs,
    status: f.status,
    meta: f.meta,
  };
}

export function runConformance(p: XProtocol, samples: Sample[]): void {
  for (const { name, bytes } of samples) {
    Deno.test(`${p.name} conformance: ${name} decodes, raw is the input, encode gives it back`, () => {
      const f = decodeOne(p, bytes);
      assert.deepEqual([...f.raw], [...bytes]);
      assert.deepEqual([...p.encode(f)], [...bytes]);
      assert.equal(p.match(bytes), "match");
    });

    Deno.test(`${p.name} conformance: ${name} split at every byte is "again" then the same frame`, () => {
      const whole = comparable(decodeOne(p, bytes));
      for (let i = 0; i < bytes.length; i++) {
        assert.equal(p.decode(bytes.slice(0, i)), "again", `prefix of ${i} bytes`);
        assert.deepEqual(comparable(decodeOne(p, bytes.slice())), whole);
      }
    });

    Deno.test(`${p.name} conformance: ${name} twice in one buffer decodes as two frames`, () => {
      const buf = new Uint8Array(bytes.length * 2 + 3);
      buf.set(bytes, 0);
      buf.set(bytes, bytes.length);
      buf.set(bytes.subarray(0, 3), bytes.length * 2);
      const a = p.decode(buf);
      assert.notEqual(a, "again");
      if (a === "again") return;
      assert.equal(a.consumed, bytes.length);
      const b = p.decode(buf.subarray(a.consumed));
      assert.notEqual(b, "again");
      if (b === "again") return;
      assert.equal(b.consumed, bytes.length);
      assert.deepEqual(comparable(b.frame), comparable(a.frame));
      assert.equal(p.decode(buf.subarray(a.consumed + b.consumed)), "again");
    });

    Deno.test(`${p.name} conformance: ${name} setRequestId patches raw in place`, () => {
      const copy = bytes.slice();
      const f = decodeOne(p, copy);
      const before = comparable(f);
      p.setRequestId(f, 0xfedcba98);
      assert.equal(f.requestId, 0xfedcba98);
      assert.equal(f.raw.buffer, copy.buffer, "raw is still the input's memory");
      const again = decodeOne(p, f.raw);
      assert.equal(again.requestId, 0xfedcba98);
      assert.deepEqual([...p.encode(again)], [...f.raw]);
      assert.deepEqual({ ...comparable(again), requestId: 0, raw: [] }, {
        ...before,
        requestId: 0,
        raw: [],
      });
    });
  }
}
