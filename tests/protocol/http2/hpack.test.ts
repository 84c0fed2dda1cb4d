import assert from "node:assert/strict";
import { HpackDecoder } from "../../../src/protocol/http2/hpack/decoder.ts";
import { HpackEncoder } from "../../../src/protocol/http2/hpack/encoder.ts";
import { huffmanDecode } from "../../../src/protocol/http2/hpack/huffman.ts";
import { HpackError } from "../../../src/protocol/http2/errors.ts";

const hex = (s: string) =>
  Uint8Array.from(s.replace(/\s+/g, "").match(/../g)!.map((b) => parseInt(b, 16)));
const pairs = (flat: string[]) => {
  const out: [string, string][] = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
};

const REQ1: [string, string][] = [
  [":method", "GET"],
  [":scheme", "http"],
  [":path", "/"],
  [":authority", "www.example.com"],
];
const REQ2: [string, string][] = [...REQ1, ["cache-control", "no-cache"]];
const REQ3: [string, string][] = [
  [":method", "GET"],
  [":scheme", "https"],
  [":path", "/index.html"],
  [":authority", "www.example.com"],
  ["custom-key", "custom-value"],
];

Deno.test("hpack: RFC 7541 C.3 requests without Huffman share one dynamic table", () => {
  const d = new HpackDecoder();
  assert.deepEqual(pairs(d.decode(hex("828684410f7777772e6578616d706c652e636f6d"))), REQ1);
  assert.equal(d.tableSize, 57);
  assert.deepEqual(pairs(d.decode(hex("828684be58086e6f2d6361636865"))), REQ2);
  assert.equal(d.tableSize, 110);
  assert.deepEqual(
    pairs(d.decode(hex("828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565"))),
    REQ3,
  );
  assert.equal(d.tableSize, 164);
});

Deno.test("hpack: RFC 7541 C.4 requests with Huffman", () => {
  const d = new HpackDecoder();
  assert.deepEqual(pairs(d.decode(hex("828684418cf1e3c2e5f23a6ba0ab90f4ff"))), REQ1);
  assert.deepEqual(pairs(d.decode(hex("828684be5886a8eb10649cbf"))), REQ2);
  assert.deepEqual(
    pairs(d.decode(hex("828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf"))),
    REQ3,
  );
  assert.equal(d.tableSize, 164);
});

Deno.test("hpack: RFC 7541 C.6 responses with Huffman and eviction (table size 256)", () => {
  const d = new HpackDecoder(256);
  const date1 = "Mon, 21 Oct 2013 20:13:21 GMT";
  const loc = "https://www.example.com";
  assert.deepEqual(
    pairs(d.decode(hex(
      "488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863c78f0b97c8e9ae82ae43d3",
    ))),
    [[":status", "302"], ["cache-control", "private"], ["date", date1], ["location", loc]],
  );
  assert.equal(d.tableSize, 222);
  assert.deepEqual(
    pairs(d.decode(hex("4883640effc1c0bf"))),
    [[":status", "307"], ["cache-control", "private"], ["date", date1], ["location", loc]],
  );
  assert.equal(d.tableSize, 222);
  const third = d.decode(hex(
    "88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821dd7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007",
  ));
  assert.deepEqual(pairs(third), [
    [":status", "200"],
    ["cache-control", "private"],
    ["date", "Mon, 21 Oct 2013 20:13:22 GMT"],
    ["location", loc],
    ["content-encoding", "gzip"],
    ["set-cookie", "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"],
  ]);
  assert.equal(d.tableSize, 215);
});

Deno.test("hpack: encoder output decodes back, repeated fields become indexed", () => {
  const e = new HpackEncoder();
  const d = new HpackDecoder();
  const fields = [
    ":method",
    "POST",
    ":scheme",
    "http",
    ":path",
    "/pkg.Svc/Method",
    ":authority",
    "a:1",
    "content-type",
    "application/grpc",
    "te",
    "trailers",
    "x-custom",
    "v".repeat(300),
    "authorization",
    "secret",
  ];
  e.begin();
  for (let i = 0; i < fields.length; i += 2) e.field(fields[i]!, fields[i + 1]!);
  const first = e.finish();
  assert.deepEqual(d.decode(first), fields);
  e.begin();
  for (let i = 0; i < fields.length; i += 2) e.field(fields[i]!, fields[i + 1]!);
  const second = e.finish();
  assert.deepEqual(d.decode(second), fields);
  // Only the unindexed long value and the never-indexed secret are literals the second time.
  assert.ok(second.byteLength < 330, `second block ${second.byteLength} bytes`);
});

Deno.test("hpack: table size updates are honoured and entries evicted", () => {
  const e = new HpackEncoder();
  const d = new HpackDecoder();
  for (let i = 0; i < 200; i++) {
    e.begin();
    e.field("x-n", `value-${i}`);
    e.field(":path", `/p/${i % 7}`);
    const block = e.finish();
    assert.deepEqual(d.decode(block), ["x-n", `value-${i}`, ":path", `/p/${i % 7}`]);
    if (i === 100) e.setMaxTableSize(64);
  }
  assert.ok(d.tableSize <= 64);
});

Deno.test("hpack: malformed blocks are compression errors", () => {
  const d = new HpackDecoder();
  assert.throws(() => d.decode(hex("80")), HpackError); // index 0
  assert.throws(() => d.decode(hex("be")), HpackError); // empty dynamic table
  assert.throws(() => d.decode(hex("410f7777")), HpackError); // string past the end
  assert.throws(() => d.decode(hex("3fe21f")), HpackError); // size update above the limit
  // EOS / bad padding in a Huffman string.
  assert.throws(() => huffmanDecode(hex("ffffffff"), 0, 4), HpackError);
  assert.throws(() => huffmanDecode(hex("00"), 0, 1), HpackError);
});

Deno.test("hpack: every byte value survives Huffman-free literals (latin-1)", () => {
  const e = new HpackEncoder();
  const d = new HpackDecoder();
  let v = "";
  for (let c = 0x20; c < 0x100; c++) if (c !== 0x7f) v += String.fromCharCode(c);
  e.begin();
  e.field("x-bytes", v);
  assert.deepEqual(d.decode(e.finish()), ["x-bytes", v]);
});
