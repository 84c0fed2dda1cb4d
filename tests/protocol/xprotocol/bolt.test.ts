import assert from "node:assert/strict";
import {
  boltStatusToHttp,
  boltV1,
  boltV2,
  createBoltV1,
  createBoltV2,
  httpToBoltStatus,
} from "../../../src/protocol/xprotocol/bolt/codec.ts";
import { BoltStatus } from "../../../src/protocol/xprotocol/bolt/types.ts";
import { HeaderMap } from "../../../src/protocol/header_map.ts";
import { crc32 } from "../../../src/protocol/xprotocol/crc32.ts";
import type { BoltMeta } from "../../../src/protocol/xprotocol/bolt/types.ts";
import {
  isHeartbeat,
  type XFrame,
  XProtocolError,
  type XProtocolErrorCode,
} from "../../../src/protocol/xprotocol/types.ts";
import { allGolden, golden } from "./_golden.ts";
import { runConformance } from "./_conformance.ts";

const frames = allGolden("bolt");
const v1 = frames.filter((f) => f.name.startsWith("v1_"));
const v2 = frames.filter((f) => f.name.startsWith("v2crc_"));

runConformance(boltV1, v1);
runConformance(boltV2, v2);

function decode(p: typeof boltV1, bytes: Uint8Array): XFrame<BoltMeta> {
  const r = p.decode(bytes);
  if (r === "again") throw new Error("expected a frame");
  return r.frame;
}

function throwsCode(fn: () => unknown, code: XProtocolErrorCode): void {
  assert.throws(fn, (e: unknown) => e instanceof XProtocolError && e.code === code);
}

Deno.test("bolt: every golden file is covered by v1 or v2", () => {
  assert.equal(v1.length + v2.length, frames.length);
  assert.ok(v1.length >= 12 && v2.length >= 5);
});

Deno.test("bolt: sayHello request exposes service, class name, timeout and kind", () => {
  for (
    const [p, name] of [[boltV1, "v1_req_sayHello_peter"], [
      boltV2,
      "v2crc_req_sayHello_peter",
    ]] as const
  ) {
    const f = decode(p, golden("bolt", name));
    assert.equal(f.kind, "request");
    assert.equal(f.requestId, 1);
    assert.equal(f.timeoutMs, 3000);
    assert.equal(f.headers.get("service"), "com.alipay.test.HelloService:1.0");
    assert.equal(f.meta.className, "com.alipay.sofa.rpc.core.request.SofaRequest");
    assert.equal(f.meta.codec, 1);
    assert.equal(f.body.length, 0xda);
  }
  const mosn = decode(boltV1, golden("bolt", "v1_req_sayHello_mosn"));
  assert.equal(mosn.headers.get("service"), "com.alipay.test.HelloService:1.0");
});

Deno.test("bolt: a header map with sofa_head_method_name round-trips", () => {
  const f = decode(boltV1, golden("bolt", "v1_req_sayHello_peter"));
  f.headers.add("sofa_head_method_name", "sayHello");
  f.headers.add("nullable", "");
  f.meta.nullHeaders = ["nullable"];
  const bytes = boltV1.encode(f);
  const g = decode(boltV1, bytes);
  assert.equal(g.headers.get("sofa_head_method_name"), "sayHello");
  assert.equal(g.headers.get("nullable"), "");
  assert.deepEqual(g.meta.nullHeaders, ["nullable"]);
  assert.deepEqual([...boltV1.encode(g)], [...bytes]);
  assert.deepEqual([...g.body], [...f.body]);
});

Deno.test("bolt: responses, oneway and v2 switch/ver1 decode", () => {
  const r = decode(boltV1, golden("bolt", "v1_resp_hello_peter"));
  assert.equal(r.kind, "response");
  assert.equal(r.status, 0);
  assert.equal(r.meta.className, "com.alipay.sofa.rpc.core.response.SofaResponse");
  assert.equal(decode(boltV1, golden("bolt", "v1_req_oneway")).kind, "oneway");
  const o2 = decode(boltV2, golden("bolt", "v2crc_req_oneway"));
  assert.equal(o2.kind, "oneway");
  assert.equal(o2.meta.ver1, 2);
  assert.equal(o2.meta.switchCode, 1);
});

Deno.test("bolt v2: the CRC32 trailer covers every byte before it", () => {
  for (const { name, bytes } of v2) {
    const dv = new DataView(bytes.buffer);
    assert.equal(dv.getUint32(bytes.length - 4), crc32(bytes, 0, bytes.length - 4), name);
  }
});

Deno.test("bolt v2: setRequestId recomputes the CRC so the frame stays valid", () => {
  const bytes = golden("bolt", "v2crc_req_sayHello_peter");
  const f = decode(boltV2, bytes);
  boltV2.setRequestId(f, 77);
  assert.equal(decode(boltV2, bytes).requestId, 77); // raw is a view: the input was patched
  f.requestId = 1;
  assert.notDeepEqual([...boltV2.encode(f)], [...bytes]);
});

Deno.test("bolt: heartbeat is detected and its reply equals the golden ack", () => {
  for (
    const [p, hb, ack] of [
      [boltV1, "v1_heartbeat", "v1_heartbeat_ack"],
      [boltV2, "v2crc_heartbeat", "v2crc_heartbeat_ack"],
    ] as const
  ) {
    const f = decode(p, golden("bolt", hb));
    assert.equal(f.kind, "heartbeat");
    assert.ok(isHeartbeat(f));
    const reply = p.heartbeatReply(f);
    assert.equal(reply.kind, "heartbeat_ack");
    assert.deepEqual([...reply.raw], [...golden("bolt", ack)]);
    assert.equal(decode(p, golden("bolt", ack)).kind, "heartbeat_ack");
    assert.ok(!isHeartbeat(decode(p, golden("bolt", ack))));
    // modulo requestId: another id gives the same bytes with that id
    f.requestId = 9;
    const r9 = decode(p, p.heartbeatReply(f).raw);
    assert.equal(r9.requestId, 9);
  }
  // A heartbeat built from scratch equals the captured one (v2 with the CRC switch on).
  assert.deepEqual([...boltV1.heartbeat(2).raw], [...golden("bolt", "v1_heartbeat")]);
  assert.deepEqual(
    [...boltV2.heartbeat(2, { switchCode: 1 }).raw],
    [...golden("bolt", "v2crc_heartbeat")],
  );
});

Deno.test("bolt: hijack builds a valid response with the mapped status", () => {
  const cases: [number, number][] = [
    [404, BoltStatus.NO_PROCESSOR],
    [502, BoltStatus.CONNECTION_CLOSED],
    [503, BoltStatus.SERVER_THREADPOOL_BUSY],
    [504, BoltStatus.TIMEOUT],
    [500, BoltStatus.SERVER_EXCEPTION],
    [400, BoltStatus.CODEC_EXCEPTION],
  ];
  for (
    const [p, name] of [[boltV1, "v1_req_sayHello_peter"], [
      boltV2,
      "v2crc_req_sayHello_peter",
    ]] as const
  ) {
    const req = decode(p, golden("bolt", name));
    for (const [http, bolt] of cases) {
      const h = p.hijack(req, http);
      const back = decode(p, h.raw);
      assert.equal(back.kind, "response");
      assert.equal(back.requestId, req.requestId);
      assert.equal(back.status, bolt);
      assert.equal(back.meta.codec, req.meta.codec);
      assert.equal(back.meta.switchCode, req.meta.switchCode);
      assert.equal(p.statusToHttp(back.status), http);
    }
  }
  assert.equal(httpToBoltStatus(418), BoltStatus.UNKNOWN);
  assert.equal(httpToBoltStatus(599), BoltStatus.SERVER_EXCEPTION);
  assert.equal(boltStatusToHttp(BoltStatus.CLIENT_SEND_ERROR), 502);
  assert.equal(boltStatusToHttp(BoltStatus.SERVER_DESERIAL_EXCEPTION), 500);
});

Deno.test("bolt: bad magic, unknown type or cmdcode throw", () => {
  throwsCode(() => boltV1.decode(golden("bolt", "v2crc_heartbeat")), "BAD_MAGIC");
  throwsCode(() => boltV2.decode(golden("bolt", "v1_heartbeat")), "BAD_MAGIC");
  const badType = golden("bolt", "v1_heartbeat");
  badType[1] = 7;
  throwsCode(() => boltV1.decode(badType), "BAD_TYPE");
  const badCmd = golden("bolt", "v1_heartbeat");
  badCmd[3] = 9;
  throwsCode(() => boltV1.decode(badCmd), "BAD_TYPE");
  assert.equal(boltV1.match(badCmd), "fail");
});

Deno.test("bolt: a declared length above maxFrameBytes throws before the body arrives", () => {
  const bytes = golden("bolt", "v1_req_sayHello_peter");
  const small = createBoltV1({ maxFrameBytes: bytes.length - 1 });
  throwsCode(() => small.decode(bytes.subarray(0, 22)), "FRAME_TOO_LARGE");
  assert.equal(
    createBoltV1({ maxFrameBytes: bytes.length }).decode(bytes.subarray(0, 22)),
    "again",
  );
  // default limit 16 MiB: contentLen 0xFFFFFFFF is refused from the header alone
  const huge = golden("bolt", "v1_heartbeat");
  new DataView(huge.buffer).setUint32(18, 0xffffffff);
  throwsCode(() => boltV1.decode(huge), "FRAME_TOO_LARGE");
  const v2small = createBoltV2({ maxFrameBytes: 27 });
  throwsCode(() => v2small.decode(golden("bolt", "v2crc_heartbeat")), "FRAME_TOO_LARGE");
});

Deno.test("bolt: a header map entry running past headerLen throws TRUNCATED", () => {
  const f = decode(boltV1, golden("bolt", "v1_req_sayHello_peter"));
  const bytes = boltV1.encode(f);
  // headerLen is 0x2f: the value length of "service" (at 22+44+4+7) claims one byte more
  const dv = new DataView(bytes.buffer);
  const at = 22 + 44 + 4 + 7;
  dv.setUint32(at, dv.getUint32(at) + 1);
  throwsCode(() => boltV1.decode(bytes), "TRUNCATED");
  dv.setUint32(at, 0xfffffff0);
  throwsCode(() => boltV1.decode(bytes), "TRUNCATED");
  // a null key is refused
  dv.setUint32(22 + 44, 0xffffffff);
  throwsCode(() => boltV1.decode(bytes), "BAD_FIELD");
});

Deno.test("bolt v2: a flipped bit anywhere fails the CRC", () => {
  const bytes = golden("bolt", "v2crc_req_sayHello_peter");
  for (const i of [30, bytes.length - 5, bytes.length - 1]) {
    const b = bytes.slice();
    b[i]! ^= 0x10;
    throwsCode(() => boltV2.decode(b), "BAD_CRC");
  }
  // without the CRC switch the same frame has no trailer and needs no check
  const f = decode(boltV2, bytes);
  f.meta.switchCode = 0;
  const plain = boltV2.encode(f);
  assert.equal(plain.length, bytes.length - 4);
  assert.equal(decode(boltV2, plain).headers.get("service"), "com.alipay.test.HelloService:1.0");
});

Deno.test("bolt: match needs the proto code and a known type/cmdcode", () => {
  const hb = golden("bolt", "v1_heartbeat");
  assert.equal(boltV1.match(new Uint8Array(0)), "again");
  assert.equal(boltV1.match(hb.subarray(0, 3)), "again");
  assert.equal(boltV1.match(hb.subarray(0, 4)), "match");
  assert.equal(boltV2.match(hb), "fail");
  assert.equal(boltV1.match(new TextEncoder().encode("GET / HTTP/1.1")), "fail");
  assert.equal(boltV2.match(golden("bolt", "v2crc_heartbeat").subarray(0, 5)), "match");
});

Deno.test("bolt: encode refuses fields that do not fit", () => {
  const f = decode(boltV1, golden("bolt", "v1_req_sayHello_peter"));
  f.requestId = 2 ** 32;
  assert.throws(
    () => boltV1.encode(f),
    (e: unknown) => e instanceof XProtocolError && e.code === "ENCODE_FAILED",
  );
  f.requestId = 1;
  f.headers = new HeaderMap(["k", "x".repeat(70000)]);
  assert.throws(
    () => boltV1.encode(f),
    (e: unknown) => e instanceof XProtocolError && e.code === "ENCODE_FAILED",
  );
  assert.throws(() => boltV1.setRequestId(f, -1), XProtocolError);
});
