import assert from "node:assert/strict";
import { HeaderMap } from "../../../src/protocol/header_map.ts";
import { createExample } from "../../../src/protocol/xprotocol/example/codec.ts";
import type { ExampleMeta } from "../../../src/protocol/xprotocol/example/types.ts";
import { type XFrame, XProtocolError } from "../../../src/protocol/xprotocol/types.ts";
import { runConformance } from "./_conformance.ts";
import { hexToBytes } from "./_golden.ts";

const example = createExample();

const request = hexToBytes("ee 00000005 00000007 00 68656c6c6f"); // id 7, "hello"
const response = hexToBytes("ee 00000002 00000007 01 6f6b"); // id 7, "ok"
const empty = hexToBytes("ee 00000000 ffffffff 00");

runConformance(example, [
  { name: "request", bytes: request },
  { name: "response", bytes: response },
  { name: "empty request", bytes: empty },
]);

function frame(kind: XFrame["kind"], id: number, body: string): XFrame<ExampleMeta> {
  return {
    kind,
    requestId: id,
    headers: new HeaderMap(),
    body: new TextEncoder().encode(body),
    raw: new Uint8Array(0),
    timeoutMs: 0,
    status: 0,
    meta: {},
  };
}

Deno.test("example: encode builds the documented layout and decode reads it back", () => {
  assert.deepEqual([...example.encode(frame("request", 7, "hello"))], [...request]);
  assert.deepEqual([...example.encode(frame("response", 7, "ok"))], [...response]);
  const r = example.decode(request);
  assert.ok(r !== "again");
  assert.equal(r.frame.kind, "request");
  assert.equal(new TextDecoder().decode(r.frame.body), "hello");
});

Deno.test("example: bad magic, bad type and oversize frames throw", () => {
  const codes = (fn: () => unknown, code: string) =>
    assert.throws(fn, (e: unknown) => e instanceof XProtocolError && e.code === code);
  codes(() => example.decode(hexToBytes("01")), "BAD_MAGIC");
  codes(() => example.decode(hexToBytes("ee 00000000 00000001 05")), "BAD_TYPE");
  codes(
    () => createExample({ maxFrameBytes: 14 }).decode(request.subarray(0, 10)),
    "FRAME_TOO_LARGE",
  );
  assert.equal(example.match(request), "match");
  assert.equal(example.match(hexToBytes("01")), "fail");
  assert.throws(() => example.encode(frame("heartbeat", 1, "")), XProtocolError);
});

Deno.test("example: hijack answers the request id with the status in the payload", () => {
  const r = example.decode(request);
  assert.ok(r !== "again");
  const h = example.hijack(r.frame, 503);
  const back = example.decode(h.raw);
  assert.ok(back !== "again");
  assert.equal(back.frame.kind, "response");
  assert.equal(back.frame.requestId, 7);
  assert.equal(new TextDecoder().decode(back.frame.body), "error 503");
  assert.equal(example.statusToHttp(h.status), 503);
  assert.equal(example.statusToHttp(0), 200);
});
