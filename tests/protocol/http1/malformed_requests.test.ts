import assert from "node:assert/strict";
import type { Http1ErrorCode, ParserLimits } from "../../../src/protocol/http1/types.ts";
import { collect, cut, enc } from "./_collect.ts";

interface Case {
  name: string;
  input: string;
  code: Http1ErrorCode;
  status: number;
  limits?: Partial<ParserLimits>;
}

const H = "Host: a\r\n";
const CHUNKED = `POST /u HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n`;

const CASES: Case[] = [
  // request line
  {
    name: "two spaces after the method",
    input: `GET  / HTTP/1.1\r\n${H}\r\n`,
    code: "BAD_REQUEST_LINE",
    status: 400,
  },
  {
    name: "space inside the target",
    input: `GET /a b HTTP/1.1\r\n${H}\r\n`,
    code: "BAD_REQUEST_LINE",
    status: 400,
  },
  {
    name: "leading space before the method",
    input: ` GET / HTTP/1.1\r\n${H}\r\n`,
    code: "BAD_REQUEST_LINE",
    status: 400,
  },
  {
    name: "lower-case method",
    input: `get / HTTP/1.1\r\n${H}\r\n`,
    code: "BAD_METHOD",
    status: 400,
  },
  {
    name: "invalid character in the method",
    input: `G@T / HTTP/1.1\r\n${H}\r\n`,
    code: "BAD_METHOD",
    status: 400,
  },
  {
    name: "missing version (HTTP/0.9 style)",
    input: `GET /\r\n${H}\r\n`,
    code: "BAD_REQUEST_LINE",
    status: 400,
  },
  { name: "method alone", input: `GET\r\n${H}\r\n`, code: "BAD_REQUEST_LINE", status: 400 },
  {
    name: "control character in the target",
    input: `GET /\x01 HTTP/1.1\r\n${H}\r\n`,
    code: "BAD_REQUEST_LINE",
    status: 400,
  },
  {
    name: "HTTP/2.0 version",
    input: `GET / HTTP/2.0\r\n${H}\r\n`,
    code: "BAD_VERSION",
    status: 400,
  },
  {
    name: "HTTP/1.2 version",
    input: `GET / HTTP/1.2\r\n${H}\r\n`,
    code: "BAD_VERSION",
    status: 400,
  },
  {
    name: "lower-case version",
    input: `GET / http/1.1\r\n${H}\r\n`,
    code: "BAD_VERSION",
    status: 400,
  },
  { name: "garbage version", input: `GET / FOO\r\n${H}\r\n`, code: "BAD_VERSION", status: 400 },
  {
    name: "bare CR in the request line",
    input: `GET /\r HTTP/1.1\r\n${H}\r\n`,
    code: "BAD_LINE_ENDING",
    status: 400,
  },
  {
    name: "bare LF after the request line",
    input: `GET / HTTP/1.1\n${H}\r\n`,
    code: "BAD_LINE_ENDING",
    status: 400,
  },
  {
    name: "request line longer than maxRequestLineBytes",
    input: `GET /${"a".repeat(100)} HTTP/1.1\r\n${H}\r\n`,
    code: "URI_TOO_LONG",
    status: 414,
    limits: { maxRequestLineBytes: 64 },
  },
  // fields
  {
    name: "field without a colon",
    input: `GET / HTTP/1.1\r\n${H}Foo\r\n\r\n`,
    code: "BAD_HEADER",
    status: 400,
  },
  {
    name: "space before the colon",
    input: `GET / HTTP/1.1\r\nHost : a\r\n\r\n`,
    code: "BAD_HEADER",
    status: 400,
  },
  {
    name: "obs-fold continuation line",
    input: `GET / HTTP/1.1\r\n${H}X: a\r\n b\r\n\r\n`,
    code: "BAD_HEADER",
    status: 400,
  },
  {
    name: "whitespace before the first field",
    input: `GET / HTTP/1.1\r\n ${H}\r\n`,
    code: "BAD_HEADER",
    status: 400,
  },
  {
    name: "empty field name",
    input: `GET / HTTP/1.1\r\n${H}: x\r\n\r\n`,
    code: "BAD_HEADER",
    status: 400,
  },
  {
    name: "invalid character in a field name",
    input: `GET / HTTP/1.1\r\n${H}X@Y: a\r\n\r\n`,
    code: "BAD_HEADER",
    status: 400,
  },
  {
    name: "bare CR inside a value",
    input: `GET / HTTP/1.1\r\n${H}X: a\rb\r\n\r\n`,
    code: "BAD_LINE_ENDING",
    status: 400,
  },
  {
    name: "bare LF ending a field",
    input: `GET / HTTP/1.1\r\n${H}X: a\n\r\n`,
    code: "BAD_LINE_ENDING",
    status: 400,
  },
  {
    name: "bare LF ending the head",
    input: `GET / HTTP/1.1\r\n${H}\n`,
    code: "BAD_LINE_ENDING",
    status: 400,
  },
  {
    name: "NUL in a value",
    input: `GET / HTTP/1.1\r\n${H}X: a\x00b\r\n\r\n`,
    code: "BAD_HEADER",
    status: 400,
  },
  {
    name: "DEL in a value",
    input: `GET / HTTP/1.1\r\n${H}X: a\x7fb\r\n\r\n`,
    code: "BAD_HEADER",
    status: 400,
  },
  {
    name: "header block larger than maxHeaderBytes",
    input: `GET / HTTP/1.1\r\n${H}X: ${"v".repeat(2000)}\r\n\r\n`,
    code: "HEADERS_TOO_LARGE",
    status: 431,
    limits: { maxHeaderBytes: 1024 },
  },
  {
    name: "more fields than maxHeaderCount",
    input: `GET / HTTP/1.1\r\n${H}${"X: 1\r\n".repeat(10)}\r\n`,
    code: "HEADERS_TOO_LARGE",
    status: 431,
    limits: { maxHeaderCount: 10 },
  },
  {
    name: "HTTP/1.1 without Host",
    input: `GET / HTTP/1.1\r\nX: 1\r\n\r\n`,
    code: "MISSING_HOST",
    status: 400,
  },
  {
    name: "two Host fields",
    input: `GET / HTTP/1.1\r\n${H}Host: b\r\n\r\n`,
    code: "BAD_HEADER",
    status: 400,
  },
  // framing
  {
    name: "two different Content-Length fields",
    input: `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!`,
    code: "CONFLICTING_CONTENT_LENGTH",
    status: 400,
  },
  {
    name: "a Content-Length list of different values",
    input: `POST / HTTP/1.1\r\n${H}Content-Length: 5, 6\r\n\r\nhello!`,
    code: "CONFLICTING_CONTENT_LENGTH",
    status: 400,
  },
  {
    name: "non-numeric Content-Length",
    input: `POST / HTTP/1.1\r\n${H}Content-Length: abc\r\n\r\n`,
    code: "BAD_CONTENT_LENGTH",
    status: 400,
  },
  {
    name: "negative Content-Length",
    input: `POST / HTTP/1.1\r\n${H}Content-Length: -1\r\n\r\n`,
    code: "BAD_CONTENT_LENGTH",
    status: 400,
  },
  {
    name: "signed Content-Length",
    input: `POST / HTTP/1.1\r\n${H}Content-Length: +5\r\n\r\n`,
    code: "BAD_CONTENT_LENGTH",
    status: 400,
  },
  {
    name: "empty Content-Length",
    input: `POST / HTTP/1.1\r\n${H}Content-Length:\r\n\r\n`,
    code: "BAD_CONTENT_LENGTH",
    status: 400,
  },
  {
    name: "hex Content-Length",
    input: `POST / HTTP/1.1\r\n${H}Content-Length: 0x5\r\n\r\n`,
    code: "BAD_CONTENT_LENGTH",
    status: 400,
  },
  {
    name: "Content-Length beyond 2^53",
    input: `POST / HTTP/1.1\r\n${H}Content-Length: 99999999999999999999\r\n\r\n`,
    code: "BODY_TOO_LARGE",
    status: 413,
  },
  {
    name: "Content-Length above maxBodyBytes",
    input: `POST / HTTP/1.1\r\n${H}Content-Length: 1001\r\n\r\n`,
    code: "BODY_TOO_LARGE",
    status: 413,
    limits: { maxBodyBytes: 1000 },
  },
  {
    name: "Content-Length together with Transfer-Encoding",
    input:
      `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    code: "CONTENT_LENGTH_AND_CHUNKED",
    status: 400,
  },
  {
    name: "Transfer-Encoding without chunked",
    input: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip\r\n\r\n`,
    code: "BAD_TRANSFER_ENCODING",
    status: 400,
  },
  {
    name: "Transfer-Encoding not ending in chunked",
    input: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, gzip\r\n\r\n`,
    code: "BAD_TRANSFER_ENCODING",
    status: 400,
  },
  {
    name: "chunked applied twice",
    input:
      `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n`,
    code: "BAD_TRANSFER_ENCODING",
    status: 400,
  },
  {
    name: "Transfer-Encoding in an HTTP/1.0 request",
    input: `POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    code: "BAD_TRANSFER_ENCODING",
    status: 400,
  },
  { name: "non-hex chunk size", input: `${CHUNKED}zz\r\n`, code: "BAD_CHUNK", status: 400 },
  { name: "empty chunk size", input: `${CHUNKED}\r\nhello\r\n`, code: "BAD_CHUNK", status: 400 },
  {
    name: "chunk size of 17 hex digits",
    input: `${CHUNKED}00000000000000001\r\nx\r\n`,
    code: "BAD_CHUNK",
    status: 400,
  },
  {
    name: "chunk size beyond 2^53",
    input: `${CHUNKED}40000000000000\r\n`,
    code: "BAD_CHUNK",
    status: 400,
  },
  {
    name: "chunk data not followed by CRLF",
    input: `${CHUNKED}5\r\nhelloX\r\n0\r\n\r\n`,
    code: "BAD_CHUNK",
    status: 400,
  },
  {
    name: "bare LF after a chunk size",
    input: `${CHUNKED}5\nhello\r\n0\r\n\r\n`,
    code: "BAD_CHUNK",
    status: 400,
  },
  {
    name: "CR without LF after a chunk size",
    input: `${CHUNKED}5\rhello\r\n0\r\n\r\n`,
    code: "BAD_CHUNK",
    status: 400,
  },
  {
    name: "whitespace after a chunk size without extension",
    input: `${CHUNKED}5 \r\nhello\r\n0\r\n\r\n`,
    code: "BAD_CHUNK",
    status: 400,
  },
  {
    name: "control character in a chunk extension",
    input: `${CHUNKED}5;a=\x01\r\nhello\r\n0\r\n\r\n`,
    code: "BAD_CHUNK",
    status: 400,
  },
  {
    name: "chunked body above maxBodyBytes",
    input: `${CHUNKED}8\r\n12345678\r\n8\r\n12345678\r\n0\r\n\r\n`,
    code: "BODY_TOO_LARGE",
    status: 413,
    limits: { maxBodyBytes: 10 },
  },
  {
    name: "obs-fold in trailers",
    input: `${CHUNKED}0\r\nX: a\r\n b\r\n\r\n`,
    code: "BAD_HEADER",
    status: 400,
  },
  {
    name: "trailer block larger than maxHeaderBytes",
    input: `${CHUNKED}0\r\nX: ${"v".repeat(300)}\r\n\r\n`,
    code: "HEADERS_TOO_LARGE",
    status: 431,
    limits: { maxHeaderBytes: 200 },
  },
];

Deno.test("malformed requests table has at least 25 distinct kinds", () => {
  assert.ok(CASES.length >= 25);
  assert.equal(new Set(CASES.map((c) => c.name)).size, CASES.length);
});

for (const c of CASES) {
  Deno.test(`malformed request: ${c.name} → ${c.status} ${c.code}, however it is split`, () => {
    const bytes = enc(c.input);
    const opts = c.limits ? { limits: c.limits } : {};
    const feedings: [string, Uint8Array[]][] = [
      ["whole", [bytes]],
      ["byte by byte", cut(bytes, Array.from({ length: bytes.length - 1 }, (_, i) => i + 1))],
    ];
    for (let i = 1; i < bytes.length; i += Math.max(1, Math.floor(bytes.length / 40))) {
      feedings.push([`split at ${i}`, cut(bytes, [i])]);
    }
    for (const [how, chunks] of feedings) {
      const evs = collect("request", chunks, opts);
      const last = evs[evs.length - 1];
      assert.deepEqual(last, { type: "error", code: c.code, status: c.status }, how);
      assert.ok(!evs.some((e) => e.type === "complete"), `${how}: no message completed`);
    }
  });
}
