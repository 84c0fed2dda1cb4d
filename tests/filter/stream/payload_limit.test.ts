import assert from "node:assert/strict";
import { payloadLimitFactory } from "../../../src/filter/stream/payload_limit/factory.ts";
import { StreamFilterStatus } from "../../../src/filter/stream/types.ts";
import { callbacks, CONFIG_PATH, parse, parseOk } from "./_support.ts";

const random = () => 0;

function receiverFor(config: unknown) {
  const cfg = parseOk(payloadLimitFactory, config);
  return payloadLimitFactory.prepare(cfg, { random })().receiver!;
}

Deno.test("payload_limit config: MOSN keys, status defaults to 413", () => {
  assert.deepEqual(parseOk(payloadLimitFactory, { max_entity_size: 1024 }), {
    maxEntitySize: 1024,
    httpStatus: 413,
  });
  assert.deepEqual(parseOk(payloadLimitFactory, { max_entity_size: 10, http_status: 400 }), {
    maxEntitySize: 10,
    httpStatus: 400,
  });
  // MOSN's struct tag has a trailing space; accept that spelling too
  assert.equal(parseOk(payloadLimitFactory, { "max_entity_size ": 7 }).maxEntitySize, 7);
});

Deno.test("payload_limit config: errors name the JSON path and the value", () => {
  const { ctx } = parse(payloadLimitFactory, { max_entity_size: -1, http_status: "413" });
  assert.deepEqual(ctx.issues, [
    { path: `${CONFIG_PATH}.max_entity_size`, message: "out of range 0-9007199254740991, got -1" },
    { path: `${CONFIG_PATH}.http_status`, message: 'expected an integer, got "413"' },
  ]);
});

Deno.test("payload_limit: Content-Length over the limit gets 413 at the headers (RTL)", () => {
  const f = receiverFor({ max_entity_size: 100 });
  const cb = callbacks({ "Content-Length": "101" });
  assert.equal(f.phase, "AfterRoute");
  assert.equal(f.onRequestHeaders!(cb, false), StreamFilterStatus.Stop);
  assert.deepEqual(cb.replies.map((r) => r.status), [413]);
  assert.ok(cb.info.hasFlag("RTL"));
});

Deno.test("payload_limit: a streamed body over the limit gets the status on the data", () => {
  const f = receiverFor({ max_entity_size: 100, http_status: 400 });
  const cb = callbacks({ "Transfer-Encoding": "chunked" });
  assert.equal(f.onRequestHeaders!(cb, false), StreamFilterStatus.Continue);
  assert.equal(f.onRequestData!(cb, new Uint8Array(60), false), StreamFilterStatus.Continue);
  assert.equal(f.onRequestData!(cb, new Uint8Array(40), false), StreamFilterStatus.Continue);
  assert.equal(cb.replies.length, 0);
  assert.equal(f.onRequestData!(cb, new Uint8Array(1), false), StreamFilterStatus.Stop);
  assert.deepEqual(cb.replies.map((r) => r.status), [400]);
  assert.ok(cb.info.hasFlag("RTL"));
  assert.equal(f.onRequestData!(cb, new Uint8Array(1), true), StreamFilterStatus.Stop);
  assert.equal(cb.replies.length, 1, "answers once");
});

Deno.test("payload_limit: bodies at or under the limit pass", () => {
  const f = receiverFor({ max_entity_size: 100 });
  const cb = callbacks({ "content-length": "100" });
  assert.equal(f.onRequestHeaders!(cb, false), StreamFilterStatus.Continue);
  assert.equal(f.onRequestData!(cb, new Uint8Array(100), true), StreamFilterStatus.Continue);
  assert.equal(cb.replies.length, 0);
  assert.equal(cb.info.flagsText(), "-");
});

Deno.test("payload_limit: each request counts its own bytes; size 0 installs nothing", () => {
  const cfg = parseOk(payloadLimitFactory, { max_entity_size: 10 });
  const next = payloadLimitFactory.prepare(cfg, { random });
  const a = next().receiver!;
  const b = next().receiver!;
  assert.notEqual(a, b);
  const cb = callbacks();
  assert.equal(a.onRequestData!(cb, new Uint8Array(8), false), StreamFilterStatus.Continue);
  assert.equal(b.onRequestData!(cb, new Uint8Array(8), false), StreamFilterStatus.Continue);
  const off = parseOk(payloadLimitFactory, {});
  assert.deepEqual(payloadLimitFactory.prepare(off, { random })(), {});
});
