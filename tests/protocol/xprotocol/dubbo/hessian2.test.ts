import assert from "node:assert/strict";
import {
  Hessian2Reader,
  Hessian2Writer,
  HessianError,
} from "../../../../src/protocol/xprotocol/dubbo/hessian2.ts";
import { fromHex } from "./_golden.ts";

const ascii = (s: string) => Array.from(s, (c) => c.charCodeAt(0));
const bytes = (...parts: (number | number[])[]) => new Uint8Array(parts.flat());

function readStr(b: Uint8Array): string | null {
  const r = new Hessian2Reader(b);
  const s = r.readString();
  assert.equal(r.pos, b.length, "reads exactly the string");
  // skip() must stop at the same place.
  const r2 = new Hessian2Reader(b);
  r2.skip();
  assert.equal(r2.pos, b.length, "skips exactly the string");
  return s;
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof HessianError, `expected HessianError, got ${e}`);
    return e.code;
  }
  throw new Error("did not throw");
}

Deno.test("hessian2 strings: short 0x00-0x1f", () => {
  assert.equal(readStr(bytes(0x00)), "");
  assert.equal(readStr(bytes(0x05, ascii("hello"))), "hello");
  assert.equal(readStr(bytes(0x1f, ascii("a".repeat(31)))), "a".repeat(31));
});

Deno.test("hessian2 strings: medium 0x30-0x33 with a second length byte", () => {
  assert.equal(readStr(bytes(0x30, 0x28, ascii("b".repeat(40)))), "b".repeat(40));
  assert.equal(readStr(bytes(0x33, 0xff, ascii("c".repeat(1023)))), "c".repeat(1023));
});

Deno.test("hessian2 strings: 'S' final chunk and 'R' chunks ending in any string form", () => {
  assert.equal(readStr(bytes(0x53, 0x00, 0x05, ascii("hello"))), "hello");
  assert.equal(
    readStr(bytes(0x52, 0x00, 0x03, ascii("abc"), 0x53, 0x00, 0x02, ascii("de"))),
    "abcde",
  );
  assert.equal(
    readStr(bytes(0x52, 0x00, 0x01, ascii("x"), 0x52, 0x00, 0x01, ascii("y"), 0x01, ascii("z"))),
    "xyz",
  );
  assert.equal(readStr(bytes(0x52, 0x00, 0x01, ascii("x"), 0x30, 0x02, ascii("yz"))), "xyz");
});

Deno.test("hessian2 strings: lengths count UTF-16 code units, not bytes", () => {
  assert.equal(readStr(fromHex("02c3a9e4b8ad")), "é中");
  // A 4-byte UTF-8 sequence (JS peers) is one character of two code units.
  assert.equal(readStr(fromHex("03f09f988041")), "😀A");
  // Java writes each surrogate as its own 3-byte sequence (CESU-8); each counts 1.
  assert.equal(readStr(fromHex("02eda0bdedb880")), "😀");
  assert.equal(codeOf(() => new Hessian2Reader(fromHex("01ff")).readString()), "HESSIAN_BAD_UTF8");
  assert.equal(
    codeOf(() => new Hessian2Reader(fromHex("01c341")).readString()),
    "HESSIAN_BAD_UTF8",
  );
});

Deno.test("hessian2 strings: null, wrong tag and truncation", () => {
  assert.equal(readStr(bytes(0x4e)), null);
  assert.equal(codeOf(() => new Hessian2Reader(bytes(0x91)).readString()), "HESSIAN_BAD_TAG");
  assert.equal(
    codeOf(() => new Hessian2Reader(bytes(0x05, ascii("hel"))).readString()),
    "HESSIAN_TRUNCATED",
  );
  assert.equal(
    codeOf(() => new Hessian2Reader(bytes(0x53, 0x00)).readString()),
    "HESSIAN_TRUNCATED",
  );
  assert.equal(
    codeOf(() => new Hessian2Reader(bytes(0x52, 0x00, 0x01, 0x41)).readString()),
    "HESSIAN_TRUNCATED",
  );
});

Deno.test("hessian2 writer: strings of every size round-trip through the reader", () => {
  const samples = [
    "",
    "a".repeat(31),
    "a".repeat(32),
    "é".repeat(1023),
    "x".repeat(1024),
    "中".repeat(0x8000),
    "y".repeat(0x8001),
    "😀".repeat(40000),
  ];
  for (const s of samples) {
    const b = new Hessian2Writer().writeString(s).toBytes();
    assert.equal(readStr(b), s, `length ${s.length}`);
  }
  assert.deepEqual(Array.from(new Hessian2Writer().writeString("hi").toBytes()), [
    0x02,
    0x68,
    0x69,
  ]);
  assert.equal(new Hessian2Writer().writeString("b".repeat(40)).toBytes()[0], 0x30);
});

Deno.test("hessian2 writer: ints, null and string maps", () => {
  for (
    const v of [0, -16, 47, 48, -2048, 2047, 2048, -262144, 262143, 262144, -(2 ** 31), 2 ** 31 - 1]
  ) {
    const b = new Hessian2Writer().writeInt(v).toBytes();
    const r = new Hessian2Reader(b);
    assert.equal(r.readInt(), v);
    assert.equal(r.remaining, 0);
  }
  assert.deepEqual(Array.from(new Hessian2Writer().writeNull().toBytes()), [0x4e]);
  const m = new Hessian2Writer().writeStringMap([["dubbo", "2.0.2"], ["k", ""]]).toBytes();
  assert.deepEqual(new Hessian2Reader(m).readStringMap(), [["dubbo", "2.0.2"], ["k", ""]]);
});

// One of every kind of value, then a marker byte the skipper must stop in front of.
const EVERY_VALUE: number[][] = [
  [0x90],
  [0xc8, 0x01],
  [0xd4, 0x00, 0x01],
  [0x49, 0, 0, 0, 1], // ints
  [0xe0],
  [0xf8, 0x01],
  [0x3c, 0x00, 0x01],
  [0x59, 0, 0, 0, 1],
  [0x4c, 0, 0, 0, 0, 0, 0, 0, 1], // longs
  [0x5b],
  [0x5c],
  [0x5d, 0x01],
  [0x5e, 0x00, 0x01],
  [0x5f, 0, 0, 0, 1],
  [0x44, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0], // doubles
  [0x54],
  [0x46],
  [0x4e], // booleans, null
  [0x4a, 0, 0, 0, 0, 0, 0, 0, 1],
  [0x4b, 0, 0, 0, 1], // dates
  [0x23, 1, 2, 3],
  [0x34, 0x03, 1, 2, 3],
  [0x41, 0x00, 0x01, 0xaa, 0x42, 0x00, 0x01, 0xbb], // binary
  [0x55, 0x04, ...ascii("[int"), 0x91, 0x92, 0x5a], // typed variable list (type becomes ref 0)
  [0x56, 0x90, 0x92, 0x91, 0x92], // typed fixed list, type by reference
  [0x57, 0x91, 0x01, 0x41, 0x5a], // untyped variable list
  [0x58, 0x92, 0x91, 0x92], // untyped fixed list
  [0x72, 0x90, 0x91, 0x92], // short typed fixed list
  [0x79, 0x91], // short untyped fixed list
  [0x48, 0x01, 0x61, 0x91, 0x01, 0x62, 0x57, 0x91, 0x48, 0x5a, 0x5a, 0x5a], // nested maps and lists
  [0x4d, 0x03, ...ascii("Foo"), 0x01, 0x61, 0x4e, 0x5a], // typed map
  [0x43, 0x0a, ...ascii("demo.Point"), 0x92, 0x01, 0x78, 0x01, 0x79, 0x60, 0x91, 0x92], // class def + object
  [0x4f, 0x90, 0x93, 0x60, 0x94, 0x95], // object 'O' of def 0 whose x is another Point
  [0x51, 0x90], // back-reference
  [0x53, 0x00, 0x02, ...ascii("ok")],
];

Deno.test("hessian2 skip: every value kind, nested lists, maps and objects", () => {
  const b = bytes(...EVERY_VALUE, 0x5a);
  const r = new Hessian2Reader(b);
  for (const v of EVERY_VALUE) {
    const start = r.pos;
    r.skip();
    assert.equal(r.pos - start, v.length, `value ${v.map((x) => x.toString(16)).join(" ")}`);
  }
  assert.equal(r.peek(), 0x5a);
});

Deno.test("hessian2 skip: undefined class or type references, unknown tags, depth, truncation", () => {
  assert.equal(codeOf(() => new Hessian2Reader(bytes(0x61)).skip()), "HESSIAN_BAD_REF");
  assert.equal(codeOf(() => new Hessian2Reader(bytes(0x4f, 0x90)).skip()), "HESSIAN_BAD_REF");
  assert.equal(codeOf(() => new Hessian2Reader(bytes(0x56, 0x90, 0x90)).skip()), "HESSIAN_BAD_REF");
  assert.equal(codeOf(() => new Hessian2Reader(bytes(0x5a)).skip()), "HESSIAN_BAD_TAG");
  assert.equal(codeOf(() => new Hessian2Reader(bytes(0x40)).skip()), "HESSIAN_BAD_TAG");
  const deep = new Uint8Array(300).fill(0x57);
  assert.equal(codeOf(() => new Hessian2Reader(deep).skip()), "HESSIAN_TOO_DEEP");
  assert.equal(codeOf(() => new Hessian2Reader(bytes(0x57, 0x91)).skip()), "HESSIAN_TRUNCATED");
  assert.equal(codeOf(() => new Hessian2Reader(bytes(0x4c, 0, 0)).skip()), "HESSIAN_TRUNCATED");
  // The reader stops at `end`, not at the end of the buffer.
  assert.equal(
    codeOf(() => new Hessian2Reader(bytes(0x49, 0, 0, 0, 1), 0, 3).skip()),
    "HESSIAN_TRUNCATED",
  );
});

Deno.test("hessian2 readScalar decodes numbers and skips compound values", () => {
  const r = new Hessian2Reader(bytes(
    0x90,
    0xc7,
    0x00,
    0xd3,
    0x00,
    0x00,
    0xe1,
    0xf7,
    0xff,
    0x3b,
    0x00,
    0x00,
    0x4c,
    0x7f,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0x5d,
    0xff,
    0x5f,
    0x00,
    0x00,
    0x05,
    0xdc,
    0x44,
    0x3f,
    0xf8,
    0,
    0,
    0,
    0,
    0,
    0,
    0x54,
    0x4e,
    0x58,
    0x91,
    0x91,
  ));
  const got = [];
  while (r.remaining > 0) got.push(r.readScalar());
  assert.deepEqual(got, [
    0,
    -256,
    -65536,
    1,
    -1,
    -65536,
    2n ** 63n - 1n,
    -1,
    1.5,
    1.5,
    true,
    null,
    undefined,
  ]);
});

Deno.test("hessian2 readStringMap: strings kept, scalars stringified, null and compound dropped", () => {
  const m = bytes(
    0x48,
    0x01,
    ascii("a"),
    0x01,
    ascii("x"),
    0x01,
    ascii("n"),
    0x95,
    0x01,
    ascii("t"),
    0x54,
    0x01,
    ascii("l"),
    0x4c,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    123,
    0x01,
    ascii("z"),
    0x4e,
    0x01,
    ascii("v"),
    0x57,
    0x91,
    0x5a,
    0x91,
    0x01,
    ascii("k"),
    0x4e,
    0x07,
    ascii("dropped"),
    0x5a,
    0x91,
  );
  const r = new Hessian2Reader(m);
  assert.deepEqual(r.readStringMap(), [["a", "x"], ["n", "5"], ["t", "true"], ["l", "123"], [
    "1",
    "k",
  ]]);
  assert.equal(r.readInt(), 1);
  assert.deepEqual(new Hessian2Reader(bytes(0x4e)).readStringMap(), []);
  assert.deepEqual(
    new Hessian2Reader(bytes(0x4d, 0x03, ascii("Map"), 0x01, ascii("a"), 0x01, ascii("b"), 0x5a))
      .readStringMap(),
    [["a", "b"]],
  );
  assert.equal(
    codeOf(() => new Hessian2Reader(bytes(0x57, 0x5a)).readStringMap()),
    "HESSIAN_BAD_TAG",
  );
  assert.equal(
    codeOf(() => new Hessian2Reader(bytes(0x48, 0x01, 0x61)).readStringMap()),
    "HESSIAN_TRUNCATED",
  );
});
