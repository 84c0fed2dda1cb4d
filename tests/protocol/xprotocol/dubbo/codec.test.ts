import assert from "node:assert/strict";
import { createDubbo, dubbo } from "../../../../src/protocol/xprotocol/dubbo/codec.ts";
import type { DubboMeta } from "../../../../src/protocol/xprotocol/dubbo/types.ts";
import {
  isHeartbeat,
  type XFrame,
  type XProtocol,
  XProtocolError,
} from "../../../../src/protocol/xprotocol/types.ts";
import { allGolden, fromHex, golden, toHex } from "./_golden.ts";

function decodeOne(bytes: Uint8Array): XFrame<DubboMeta> {
  const r = dubbo.decode(bytes);
  assert.notEqual(r, "again");
  if (r === "again") throw new Error("unreachable");
  assert.equal(r.consumed, bytes.length);
  return r.frame;
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof XProtocolError, `expected XProtocolError, got ${e}`);
    return e.code;
  }
  throw new Error("did not throw");
}

const EXPECTED_KIND: Record<string, string> = {
  apache_heartbeat_req_id100: "heartbeat",
  apache_heartbeat_resp_NONSTANDARD_flag62_status0_id0: "heartbeat_ack",
  heartbeat_req_dubbo2js_id0: "heartbeat",
  heartbeat_req_id100: "heartbeat",
  heartbeat_resp_id0: "heartbeat_ack",
  heartbeat_resp_id100: "heartbeat_ack",
};

Deno.test("dubbo is usable as a protocol-neutral XProtocol", () => {
  const p: XProtocol = dubbo;
  assert.equal(p.name, "dubbo");
  assert.equal(p.poolMode, "multiplex");
});

Deno.test("every golden frame decodes, raw is the input and encode reproduces it byte for byte", () => {
  const all = allGolden();
  assert.ok(all.length >= 25);
  for (const { name, bytes } of all) {
    const f = decodeOne(bytes);
    assert.equal(toHex(f.raw), toHex(bytes), name);
    assert.equal(f.body.length, bytes.length - 16, name);
    const want = EXPECTED_KIND[name] ?? (name.includes("req") ? "request" : "response");
    assert.equal(f.kind, want, name);
    assert.equal(toHex(dubbo.encode(f)), toHex(bytes), `${name}: encode`);
    assert.equal(f.meta.bodyError, undefined, name);
  }
});

Deno.test("sayHello from dubbo-remoting: service, method, version, group and attachments", () => {
  const f = decodeOne(golden("apache_req_sayHello_group_SOFA"));
  assert.equal(f.requestId, 1);
  const h = f.headers;
  assert.equal(h.get("service"), "org.apache.dubbo.demo.DemoService");
  assert.equal(h.get("method"), "sayHello");
  assert.equal(h.get("version"), "1.0.0");
  assert.equal(h.get("group"), "SOFA");
  assert.equal(h.get("dubbo"), "5.3.0");
  assert.equal(h.get("interface"), "org.apache.dubbo.demo.DemoService");
  assert.equal(h.get("path"), "org.apache.dubbo.demo.DemoService");
  assert.equal(h.getAll("service").length, 1);
  assert.deepEqual(f.meta.attachments, [
    ["dubbo", "5.3.0"],
    ["group", "SOFA"],
    ["path", "org.apache.dubbo.demo.DemoService"],
    ["service", "org.apache.dubbo.demo.DemoService:1.0.0"],
    ["version", "1.0.0"],
  ]);
  assert.equal(f.timeoutMs, 0);
});

Deno.test("sayHello from dubbo2.js: no group, body fields fill the gaps", () => {
  const f = decodeOne(golden("req_sayHello_dubbo2js"));
  const h = f.headers.toObject();
  assert.deepEqual(h, {
    application: "dubbo2.js",
    interface: "org.apache.dubbo.demo.DemoService",
    path: "org.apache.dubbo.demo.DemoService",
    version: "1.0.0",
    service: "org.apache.dubbo.demo.DemoService",
    method: "sayHello",
    dubbo: "2.0.2",
  });
  assert.equal(f.headers.has("group"), false);
});

Deno.test("plus(1, 2) requests skip the two int arguments to reach the attachments", () => {
  for (
    const name of [
      "req_plus_1_2_dubbo-remoting",
      "req_plus_1_2_dubbo2js",
      "apache_req_plus_group_empty",
    ]
  ) {
    const f = decodeOne(golden(name));
    assert.equal(f.requestId, 2, name);
    assert.equal(f.headers.get("method"), "plus", name);
    assert.equal(f.headers.get("service"), "org.apache.dubbo.demo.DemoService", name);
    assert.equal(f.headers.get("version"), "1.0.0", name);
  }
  assert.equal(decodeOne(golden("req_plus_1_2_dubbo-remoting")).headers.get("group"), "SOFA");
  assert.equal(decodeOne(golden("apache_req_plus_group_empty")).headers.get("group"), "");
});

Deno.test("a method with no parameters (empty descriptor) reads its attachments", () => {
  const f = decodeOne(golden("req_noSuchMethod_id101"));
  assert.equal(f.requestId, 101);
  assert.equal(f.headers.get("method"), "noSuchMethod");
  assert.equal(f.headers.get("group"), "");
});

Deno.test("responses: status, response type, attachments and error messages", () => {
  const ok = decodeOne(golden("resp_plus_3"));
  assert.equal(ok.status, 20);
  assert.equal(ok.meta.responseType, 1);
  assert.equal(dubbo.statusToHttp(ok.status), 200);

  const withAtt = decodeOne(golden("apache_resp_value_with_attachments_flag4"));
  assert.equal(withAtt.meta.responseType, 4);
  assert.equal(withAtt.headers.get("dubbo"), "2.0.2");

  const notFound = decodeOne(golden("apache_resp_service_not_found_status60"));
  assert.equal(notFound.status, 60);
  assert.equal(dubbo.statusToHttp(notFound.status), 404);
  assert.match(notFound.meta.errorMessage ?? "", /^SERVICE_NOT_FOUND#Service not found/);

  const serverError = decodeOne(golden("resp_server_error_status80_id101"));
  assert.equal(serverError.requestId, 101);
  assert.equal(dubbo.statusToHttp(serverError.status), 500);
  assert.match(serverError.meta.errorMessage ?? "", /noSuchMethod/);
});

Deno.test("the BUG response (value '1[object Object]' with attachments) decodes", () => {
  const f = decodeOne(golden("apache_resp_plus_BUG_1objectObject"));
  assert.equal(f.kind, "response");
  assert.equal(f.requestId, 2);
  assert.equal(f.meta.responseType, 4);
  assert.equal(f.headers.get("dubbo"), "2.0.2");
});

Deno.test("the NONSTANDARD heartbeat answer (flag 0x62, status 0) is a heartbeat ack, not an error", () => {
  const f = decodeOne(golden("apache_heartbeat_resp_NONSTANDARD_flag62_status0_id0"));
  assert.equal(f.kind, "heartbeat_ack");
  assert.equal(f.status, 0);
  assert.equal(f.requestId, 0);
  assert.equal(isHeartbeat(f), false); // the proxy does not answer an ack
});

Deno.test("heartbeat requests are detected and the reply matches what peers send", () => {
  const req = decodeOne(golden("heartbeat_req_id100"));
  assert.equal(isHeartbeat(req), true);
  const reply = dubbo.heartbeatReply(req);
  assert.equal(reply.kind, "heartbeat_ack");
  assert.equal(toHex(reply.raw), toHex(golden("heartbeat_resp_id100")));
  assert.equal(toHex(dubbo.encode(reply)), toHex(reply.raw));
  const back = decodeOne(reply.raw);
  assert.equal(back.kind, "heartbeat_ack");
  assert.equal(back.status, 20);
  assert.equal(back.requestId, 100);
  const js = dubbo.heartbeatReply(decodeOne(golden("heartbeat_req_dubbo2js_id0")));
  assert.equal(toHex(js.raw), toHex(golden("heartbeat_resp_id0")));
});

Deno.test("partial input at every split point gives 'again', then the whole frame decodes", () => {
  for (const { name, bytes } of allGolden()) {
    for (let n = 0; n < bytes.length; n++) {
      assert.equal(dubbo.decode(bytes.subarray(0, n)), "again", `${name} cut at ${n}`);
    }
  }
});

Deno.test("two concatenated frames decode one after the other", () => {
  const a = golden("req_sayHello_dubbo2js");
  const b = golden("heartbeat_req_id100");
  const buf = new Uint8Array(a.length + b.length + 3);
  buf.set(a);
  buf.set(b, a.length);
  buf.set([0xda, 0xbb, 0xc2], a.length + b.length);
  const r1 = dubbo.decode(buf);
  assert.ok(r1 !== "again");
  assert.equal(r1.consumed, a.length);
  assert.equal(r1.frame.headers.get("method"), "sayHello");
  const r2 = dubbo.decode(buf.subarray(r1.consumed));
  assert.ok(r2 !== "again");
  assert.equal(r2.frame.kind, "heartbeat");
  assert.equal(r2.frame.requestId, 100);
  assert.equal(dubbo.decode(buf.subarray(r1.consumed + r2.consumed)), "again");
});

Deno.test("setRequestId patches the 8 id bytes of raw in place", () => {
  const bytes = golden("req_sayHello_mosn_dubbo-remoting");
  const f = decodeOne(bytes);
  dubbo.setRequestId(f, 0x1234_5678_9abc);
  assert.equal(f.requestId, 0x1234_5678_9abc);
  assert.equal(toHex(bytes.subarray(4, 12)), "000012345678" + "9abc");
  assert.equal(decodeOne(bytes).requestId, 0x1234_5678_9abc);
  assert.equal(toHex(dubbo.encode(f)), toHex(bytes));
  dubbo.setRequestId(f, 7);
  assert.equal(toHex(bytes.subarray(4, 12)), "0000000000000007");
  assert.equal(codeOf(() => dubbo.setRequestId(f, -1)), "ENCODE_FAILED");
  assert.equal(codeOf(() => dubbo.setRequestId(f, 2 ** 53)), "ENCODE_FAILED");
});

Deno.test("ids above 2^53 - 1 are rejected; 2^53 - 1 is exact", () => {
  const bytes = golden("heartbeat_req_id100");
  bytes.set([0x00, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 4);
  assert.equal(decodeOne(bytes).requestId, Number.MAX_SAFE_INTEGER);
  bytes[5] = 0x20;
  assert.equal(codeOf(() => dubbo.decode(bytes)), "BAD_FIELD");
});

Deno.test("hijack builds an error response with the mapped status and a message", () => {
  const req = decodeOne(golden("req_sayHello_dubbo2js"));
  const cases: [number, number][] = [
    [404, 60],
    [502, 70],
    [503, 100],
    [504, 31],
    [500, 80],
    [400, 40],
    [408, 30],
    [429, 100],
  ];
  for (const [http, status] of cases) {
    const resp = dubbo.hijack(req, http);
    assert.equal(resp.kind, "response");
    assert.equal(resp.status, status, `http ${http}`);
    assert.equal(resp.requestId, 1);
    const back = decodeOne(resp.raw);
    assert.equal(back.status, status);
    assert.equal(back.kind, "response");
    assert.equal(back.requestId, 1);
    assert.match(back.meta.errorMessage ?? "", /service=org\.apache\.dubbo\.demo\.DemoService/);
    assert.match(back.meta.errorMessage ?? "", /method=sayHello/);
    assert.equal(toHex(dubbo.encode(resp)), toHex(resp.raw));
  }
  assert.equal(dubbo.statusToHttp(dubbo.hijack(req, 504).status), 504);
  assert.equal(dubbo.statusToHttp(dubbo.hijack(req, 503).status), 503);
  assert.equal(dubbo.statusToHttp(dubbo.hijack(req, 502).status), 502);
});

Deno.test("match: 0xda 0xbb", () => {
  assert.equal(dubbo.match(new Uint8Array([])), "again");
  assert.equal(dubbo.match(new Uint8Array([0xda])), "again");
  assert.equal(dubbo.match(new Uint8Array([0xda, 0xbb])), "match");
  assert.equal(dubbo.match(new Uint8Array([0xda, 0xbc])), "fail");
  assert.equal(dubbo.match(new Uint8Array([0x01])), "fail");
  assert.equal(dubbo.match(new TextEncoder().encode("GET / HTTP/1.1")), "fail");
});

Deno.test("bad magic, a length above the limit and a request body cut short give error codes", () => {
  assert.equal(codeOf(() => dubbo.decode(fromHex("dabc"))), "BAD_MAGIC");
  assert.equal(codeOf(() => dubbo.decode(fromHex("01"))), "BAD_MAGIC");

  const big = golden("heartbeat_req_id100");
  new DataView(big.buffer).setUint32(12, 16 * 1024 * 1024);
  assert.equal(codeOf(() => dubbo.decode(big)), "FRAME_TOO_LARGE");
  const small = createDubbo({ maxFrameBytes: 64 });
  assert.equal(codeOf(() => small.decode(golden("req_sayHello_dubbo2js"))), "FRAME_TOO_LARGE");
  assert.notEqual(small.decode(golden("heartbeat_req_id100")), "again");

  // The length field says the body ends in the middle of the attachments map.
  const full = golden("req_sayHello_dubbo2js");
  const cut = full.slice(0, full.length - 10);
  new DataView(cut.buffer).setUint32(12, cut.length - 16);
  assert.equal(codeOf(() => dubbo.decode(cut)), "TRUNCATED");

  // A parameter descriptor that is not one.
  const bad = golden("req_plus_1_2_dubbo2js");
  const at = toHex(bad).indexOf("024949") / 2;
  bad[at + 1] = 0x51; // "QI"
  assert.equal(codeOf(() => dubbo.decode(bad)), "BAD_FIELD");
});

Deno.test("an unreadable response body is kept and forwarded, not an error", () => {
  const bytes = fromHex("dabb021400000000000000090000000494480564");
  const f = decodeOne(bytes);
  assert.equal(f.kind, "response");
  assert.ok(f.meta.bodyError);
  assert.equal(toHex(dubbo.encode(f)), toHex(bytes));
});

Deno.test("non-hessian2 requests are framed without reading the body", () => {
  const bytes = fromHex("dabbc6000000000000000003000000037b7d0a"); // fastjson, id 3
  const f = decodeOne(bytes);
  assert.equal(f.kind, "request");
  assert.equal(f.meta.serialization, 6);
  assert.equal(f.headers.size, 0);
  assert.equal(toHex(dubbo.encode(f)), toHex(bytes));
});

Deno.test("a request without the two-way bit is oneway", () => {
  const bytes = golden("req_sayHello_dubbo2js");
  bytes[2] = 0x82;
  assert.equal(decodeOne(bytes).kind, "oneway");
});

Deno.test("changed attachment headers are re-encoded into the body; untouched ones are not", () => {
  const f = decodeOne(golden("req_sayHello_mosn_dubbo-remoting"));
  f.headers.set("group", "BLUE");
  f.headers.add("x-trace", "abc");
  const out = dubbo.encode(f);
  const back = decodeOne(out);
  assert.equal(back.headers.get("group"), "BLUE");
  assert.equal(back.headers.get("x-trace"), "abc");
  assert.equal(back.headers.get("service"), "org.apache.dubbo.demo.DemoService");
  assert.deepEqual(
    back.meta.attachments.find(([k]) => k === "service"),
    ["service", "org.apache.dubbo.demo.DemoService:1.0.0"],
  );
  assert.equal(back.headers.get("method"), "sayHello");
  // Arguments are untouched: same bytes up to the attachments map.
  assert.equal(
    toHex(back.body.subarray(0, back.meta.attachmentsAt)),
    toHex(f.body.subarray(0, f.meta.attachmentsAt)),
  );
});
