import assert from "node:assert/strict";
import { HeaderMap } from "../../../src/protocol/header_map.ts";
import {
  chunkPrefix,
  CONTINUE_100,
  CRLF,
  encodeChunk,
  encodeRequestHead,
  encodeResponseHead,
  encodeTrailers,
  LAST_CHUNK,
} from "../../../src/protocol/http1/encoder.ts";
import { collect, dec, enc } from "./_collect.ts";

const concat = (parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
};

Deno.test("a request head is encoded byte for byte, names in their original case", () => {
  const bytes = encodeRequestHead({
    method: "GET",
    target: "/hello?x=1",
    headers: new HeaderMap(["Host", "example.com", "x-Mixed-CASE", "v"]),
  });
  assert.equal(
    dec(bytes),
    "GET /hello?x=1 HTTP/1.1\r\nHost: example.com\r\nx-Mixed-CASE: v\r\n\r\n",
  );
  assert.equal(
    dec(
      encodeRequestHead({ method: "GET", target: "/", minorVersion: 0, headers: new HeaderMap() }),
    ),
    "GET / HTTP/1.0\r\n\r\n",
  );
});

Deno.test("a response head gets the standard reason phrase unless one is given", () => {
  const h = new HeaderMap(["Content-Length", "0"]);
  assert.equal(
    dec(encodeResponseHead({ status: 404, headers: h })),
    "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
  );
  assert.equal(
    dec(encodeResponseHead({ status: 200, reason: "", headers: h })).split("\r\n")[0],
    "HTTP/1.1 200 OK",
  );
  assert.equal(
    dec(encodeResponseHead({ status: 200, reason: "Fine", minorVersion: 0, headers: h })).split(
      "\r\n",
    )[0],
    "HTTP/1.0 200 Fine",
  );
  assert.equal(
    dec(encodeResponseHead({ status: 599, headers: h })).split("\r\n")[0],
    "HTTP/1.1 599 Unknown",
  );
  assert.equal(dec(CONTINUE_100), "HTTP/1.1 100 Continue\r\n\r\n");
});

Deno.test("latin1 values survive an encode/parse round trip unchanged", () => {
  const headers = new HeaderMap([
    "Host",
    "a.example",
    "X-Latin1",
    "caf\xe9 \x80\x9f\xff",
    "X-Empty",
    "",
    "Content-Length",
    "3",
  ]);
  const bytes = concat([
    encodeRequestHead({ method: "POST", target: "/r%20t?q", headers }),
    enc("abc"),
  ]);
  const evs = collect("request", [bytes]);
  assert.deepEqual(evs[0], {
    type: "head",
    head: {
      method: "POST",
      target: "/r%20t?q",
      minorVersion: 1,
      headers: headers.raw,
      bodyKind: "length",
      contentLength: 3,
      keepAlive: true,
      upgrade: "",
      expectContinue: false,
    },
  });
  assert.deepEqual(evs.slice(1), [{ type: "body", data: "abc" }, { type: "complete" }]);
});

Deno.test("a chunked response built from encoder parts parses back to the same body and trailers", () => {
  const body1 = enc("x".repeat(300));
  const body2 = enc("tail");
  const bytes = concat([
    encodeResponseHead({
      status: 200,
      headers: new HeaderMap(["Transfer-Encoding", "chunked", "Trailer", "X-Checksum"]),
    }),
    chunkPrefix(body1.length),
    body1,
    CRLF,
    encodeChunk(body2),
    encodeTrailers(new HeaderMap(["X-Checksum", "abc123"])),
    encodeResponseHead({ status: 204, headers: new HeaderMap() }),
    encodeResponseHead({ status: 200, headers: new HeaderMap(["Transfer-Encoding", "chunked"]) }),
    encodeChunk(enc("z")),
    LAST_CHUNK,
  ]);
  const evs = collect("response", [bytes]);
  assert.deepEqual(evs.filter((e) => e.type !== "head"), [
    { type: "body", data: "x".repeat(300) + "tail" },
    { type: "trailers", raw: ["X-Checksum", "abc123"] },
    { type: "complete" },
    { type: "complete" },
    { type: "body", data: "z" },
    { type: "complete" },
  ]);
});

Deno.test("chunk framing: hex size lines, whole chunks, the last chunk", () => {
  assert.equal(dec(chunkPrefix(1)), "1\r\n");
  assert.equal(dec(chunkPrefix(0x1a2b)), "1a2b\r\n");
  assert.equal(dec(chunkPrefix(16)), "10\r\n");
  assert.equal(dec(chunkPrefix(2 ** 40)), "10000000000\r\n");
  assert.equal(dec(encodeChunk(enc("hello"))), "5\r\nhello\r\n");
  assert.equal(encodeChunk(new Uint8Array(0)).length, 0);
  assert.equal(dec(LAST_CHUNK), "0\r\n\r\n");
  assert.equal(dec(encodeTrailers(new HeaderMap())), "0\r\n\r\n");
  assert.equal(
    dec(encodeTrailers(new HeaderMap(["A", "1", "b", "2"]))),
    "0\r\nA: 1\r\nb: 2\r\n\r\n",
  );
  assert.throws(() => chunkPrefix(0), RangeError);
  assert.throws(() => chunkPrefix(1.5), RangeError);
});

Deno.test("a large chunk is encoded outside the shared slab", () => {
  const big = new Uint8Array(100_000).fill(0x61);
  const out = encodeChunk(big);
  assert.equal(out.length, 5 + 2 + 100_000 + 2);
  assert.equal(dec(out.subarray(0, 7)), "186a0\r\n");
});

Deno.test("header injection and invalid heads are refused with a TypeError", () => {
  const h = (raw: string[]) => new HeaderMap(raw);
  const bad: (() => unknown)[] = [
    () => encodeResponseHead({ status: 200, headers: h(["X", "a\r\nSet-Cookie: evil"]) }),
    () => encodeResponseHead({ status: 200, headers: h(["X", "a\nb"]) }),
    () => encodeResponseHead({ status: 200, headers: h(["X", "a\x00b"]) }),
    () => encodeResponseHead({ status: 200, headers: h(["Bad Name", "v"]) }),
    () => encodeResponseHead({ status: 200, headers: h(["X:Y", "v"]) }),
    () => encodeResponseHead({ status: 200, headers: h(["", "v"]) }),
    () => encodeResponseHead({ status: 200, headers: h(["X", "snowman \u2603"]) }),
    () => encodeResponseHead({ status: 200, reason: "OK\r\nX: y", headers: h([]) }),
    () => encodeResponseHead({ status: 99, headers: h([]) }),
    () => encodeResponseHead({ status: 200.5, headers: h([]) }),
    () => encodeRequestHead({ method: "GET", target: "/a b", headers: h([]) }),
    () => encodeRequestHead({ method: "GET", target: "", headers: h([]) }),
    () => encodeRequestHead({ method: "G T", target: "/", headers: h([]) }),
    () => encodeTrailers(h(["X", "a\r\n"])),
  ];
  for (const f of bad) assert.throws(f, TypeError, f.toString());
});

Deno.test("results stay intact while many more heads are encoded", () => {
  const first = encodeResponseHead({ status: 200, headers: new HeaderMap(["A", "first"]) });
  const copy = first.slice();
  for (let i = 0; i < 5000; i++) {
    encodeResponseHead({ status: 200, headers: new HeaderMap(["B", String(i).repeat(10)]) });
  }
  assert.deepEqual(first, copy);
});
