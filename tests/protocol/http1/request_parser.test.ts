import assert from "node:assert/strict";
import type { HeaderMap } from "../../../src/protocol/header_map.ts";
import { Http1Parser } from "../../../src/protocol/http1/parser.ts";
import { Http1ParseError, type RequestHead } from "../../../src/protocol/http1/types.ts";
import { collect, dec, enc, type Ev, feedings } from "./_collect.ts";

const WRK = "GET /hello HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n";

function heads(evs: Ev[]): Record<string, unknown>[] {
  return evs.flatMap((e) => (e.type === "head" ? [e.head] : []));
}

function only(evs: Ev[]): Record<string, unknown> {
  const hs = heads(evs);
  assert.equal(hs.length, 1, JSON.stringify(evs));
  return hs[0]!;
}

/** A parser whose events are recorded in `log`; `onEvent` may pause it. */
function recording(onEvent?: (type: string, p: Http1Parser<RequestHead>) => void) {
  const log: string[] = [];
  const parser: Http1Parser<RequestHead> = Http1Parser.request({
    onHead(h) {
      log.push(`head ${h.method} ${h.target}`);
      onEvent?.("head", parser);
    },
    onBody(c) {
      log.push(`body ${dec(c)}`);
      onEvent?.("body", parser);
    },
    onTrailers(t: HeaderMap) {
      log.push(`trailers ${t.raw.join(",")}`);
      onEvent?.("trailers", parser);
    },
    onMessageComplete() {
      log.push("complete");
      onEvent?.("complete", parser);
    },
  });
  return { parser, log };
}

Deno.test("a wrk GET yields method, target, version, original-case fields and framing", () => {
  const evs = collect("request", [enc(WRK)]);
  assert.deepEqual(evs, [
    {
      type: "head",
      head: {
        method: "GET",
        target: "/hello",
        minorVersion: 1,
        headers: ["Host", "127.0.0.1:8080"],
        bodyKind: "none",
        contentLength: -1,
        keepAlive: true,
        upgrade: "",
        expectContinue: false,
      },
    },
    { type: "complete" },
  ]);
});

Deno.test("header names keep their case and values lose surrounding whitespace only", () => {
  const h = only(collect("request", [
    enc(
      "GET / HTTP/1.1\r\nhOsT:a\r\nX-Empty:\r\nX-Pad: \t v  a \t\r\nX-Latin1: caf\xe9 \x80\xff\r\n\r\n",
    ),
  ]));
  assert.deepEqual(h.headers, [
    "hOsT",
    "a",
    "X-Empty",
    "",
    "X-Pad",
    "v  a",
    "X-Latin1",
    "caf\xe9 \x80\xff",
  ]);
});

Deno.test("the parsed HeaderMap looks names up case-insensitively", () => {
  let got: RequestHead | undefined;
  const p = Http1Parser.request({
    onHead(h) {
      got = h;
    },
    onBody() {},
    onTrailers() {},
    onMessageComplete() {},
  });
  p.execute(enc("GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 1.2.3.4\r\n\r\n"));
  assert.equal(got?.headers.get("x-forwarded-for"), "1.2.3.4");
  assert.equal(got?.headers.get("HOST"), "a");
});

const MESSAGES: Record<string, string> = {
  "a browser-like GET": "GET /a?b=c HTTP/1.1\r\nHost: example.com\r\nUser-Agent: test/1.0\r\n" +
    "Accept: */*\r\nAccept-Encoding: gzip, br\r\nCookie: a=b; c=d\r\n\r\n",
  "a POST with a Content-Length body": "POST /submit HTTP/1.1\r\nHost: a\r\n" +
    "Content-Length: 11\r\n\r\nhello world",
  "a chunked POST with extensions and trailers": "POST /up HTTP/1.1\r\nHost: a\r\n" +
    "Transfer-Encoding: gzip, chunked\r\nTrailer: X-Sum\r\n\r\n" +
    '5;name=value;q="quoted"\r\nhello\r\nA ; ext\r\n, world!!!\r\n0\r\nX-Sum: 42\r\nx-other: b\r\n\r\n',
  "a chunked body without trailers": "PUT /x HTTP/1.1\r\nHost: a\r\n" +
    "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
  "three pipelined requests": "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n" +
    "POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nxyz" +
    "GET /3 HTTP/1.0\r\n\r\n",
  "empty lines before the request line": "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
  "a websocket upgrade followed by tunnel bytes": "GET /ws HTTP/1.1\r\nHost: a\r\n" +
    "Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x05hello-frame",
  "a CONNECT followed by tunnel bytes": "CONNECT example.com:443 HTTP/1.1\r\n" +
    "Host: example.com:443\r\n\r\n\x16\x03\x01 client hello",
};

for (const [name, text] of Object.entries(MESSAGES)) {
  Deno.test(`${name} gives the same events however the bytes are split`, () => {
    const bytes = enc(text);
    const expected = collect("request", [bytes]);
    assert.ok(!expected.some((e) => e.type === "error"), JSON.stringify(expected));
    for (const [how, chunks] of feedings(bytes)) {
      assert.deepEqual(collect("request", chunks), expected, how);
    }
  });
}

Deno.test("a chunked body delivers its data and trailers, extensions ignored", () => {
  const evs = collect("request", [enc(MESSAGES["a chunked POST with extensions and trailers"]!)]);
  assert.equal(only(evs).bodyKind, "chunked");
  assert.deepEqual(evs.slice(1), [
    { type: "body", data: "hello, world!!!" },
    { type: "trailers", raw: ["X-Sum", "42", "x-other", "b"] },
    { type: "complete" },
  ]);
});

Deno.test("a Content-Length body is delivered exactly, the next request follows", () => {
  const evs = collect("request", [enc(MESSAGES["three pipelined requests"]!)]);
  assert.deepEqual(evs.map((e) => e.type), [
    "head",
    "complete",
    "head",
    "body",
    "complete",
    "head",
    "complete",
  ]);
  assert.deepEqual(evs[3], { type: "body", data: "xyz" });
  const h = heads(evs)[1]!;
  assert.equal(h.bodyKind, "length");
  assert.equal(h.contentLength, 3);
});

Deno.test("identical repeated Content-Length values are accepted", () => {
  for (
    const fields of [
      "Content-Length: 5, 5\r\n",
      "Content-Length: 5\r\nContent-Length: 5\r\n",
      "Content-Length: 5 ,5\r\n",
    ]
  ) {
    const evs = collect("request", [enc(`POST / HTTP/1.1\r\nHost: a\r\n${fields}\r\nhello`)]);
    assert.equal(only(evs).contentLength, 5, fields);
    assert.deepEqual(evs.slice(1), [{ type: "body", data: "hello" }, { type: "complete" }]);
  }
});

Deno.test("Content-Length 0 means no body", () => {
  const h = only(
    collect("request", [enc("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n")]),
  );
  assert.equal(h.bodyKind, "none");
  assert.equal(h.contentLength, -1);
});

Deno.test("keep-alive follows the version and the Connection tokens", () => {
  const cases: [string, string, boolean][] = [
    ["HTTP/1.1", "", true],
    ["HTTP/1.1", "Connection: close\r\n", false],
    ["HTTP/1.1", "Connection: CLOSE\r\n", false],
    ["HTTP/1.1", "Connection: keep-alive, close\r\n", false],
    ["HTTP/1.1", "Connection: foo\r\nConnection: Close\r\n", false],
    ["HTTP/1.1", "Connection: closed\r\n", true],
    ["HTTP/1.0", "", false],
    ["HTTP/1.0", "Connection: keep-alive\r\n", true],
    ["HTTP/1.0", "Connection: Keep-Alive\r\n", true],
    ["HTTP/1.0", "Connection: keep-alive, close\r\n", false],
  ];
  for (const [version, fields, keepAlive] of cases) {
    const h = only(collect("request", [enc(`GET / ${version}\r\nHost: a\r\n${fields}\r\n`)]));
    assert.equal(h.keepAlive, keepAlive, `${version} ${JSON.stringify(fields)}`);
  }
});

Deno.test("HTTP/1.0 needs no Host", () => {
  const h = only(collect("request", [enc("GET / HTTP/1.0\r\n\r\n")]));
  assert.equal(h.minorVersion, 0);
});

Deno.test("Expect: 100-continue is flagged (any case), other expectations and HTTP/1.0 are not", () => {
  const expect = (version: string, value: string) =>
    only(collect("request", [
      enc(`POST / ${version}\r\nHost: a\r\nExpect: ${value}\r\nContent-Length: 1\r\n\r\nx`),
    ])).expectContinue;
  assert.equal(expect("HTTP/1.1", "100-continue"), true);
  assert.equal(expect("HTTP/1.1", "100-Continue"), true);
  assert.equal(expect("HTTP/1.1", "something-else"), false);
  assert.equal(expect("HTTP/1.0", "100-continue"), false);
});

Deno.test("pipelined requests are handed over one at a time when the handler pauses", () => {
  const { parser, log } = recording((type, p) => {
    if (type === "complete") p.pause();
  });
  const bytes = enc(MESSAGES["three pipelined requests"]!);
  const first = parser.execute(bytes);
  assert.equal(first, "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n".length);
  assert.deepEqual(log, ["head GET /1", "complete"]);
  const second = parser.execute(bytes.subarray(first));
  assert.deepEqual(log.slice(2), ["head POST /2", "body xyz", "complete"]);
  const third = parser.execute(bytes.subarray(first + second));
  assert.equal(first + second + third, bytes.length);
  assert.deepEqual(log.slice(5), ["head GET /3", "complete"]);
  assert.equal(parser.execute(new Uint8Array(0)), 0);
});

Deno.test("pausing in onBody stops before the next byte; execute continues with the rest", () => {
  const { parser, log } = recording((type, p) => {
    if (type === "body") p.pause();
  });
  const bytes = enc(
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" +
      "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
  );
  const n1 = parser.execute(bytes);
  assert.deepEqual(log, ["head POST /", "body abc"]);
  const n2 = parser.execute(bytes.subarray(n1));
  assert.deepEqual(log.slice(2), ["body de"]);
  const n3 = parser.execute(bytes.subarray(n1 + n2));
  assert.equal(n1 + n2 + n3, bytes.length);
  assert.deepEqual(log.slice(3), ["complete"]);
});

Deno.test("pausing on the last byte of a message still delivers onMessageComplete", () => {
  const { parser, log } = recording((type, p) => {
    if (type === "head" || type === "body") p.pause();
  });
  const get = enc("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  assert.equal(parser.execute(get), get.length);
  assert.deepEqual(log, ["head GET /", "complete"]);
  const post = enc("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nok");
  const n = parser.execute(post);
  assert.deepEqual(log.slice(2), ["head POST /"]);
  assert.equal(parser.execute(post.subarray(n)), post.length - n);
  assert.deepEqual(log.slice(3), ["body ok", "complete"]);
});

Deno.test("an upgrade request stops the parser after its head and leaves the rest unconsumed", () => {
  const { parser, log } = recording();
  const text = MESSAGES["a websocket upgrade followed by tunnel bytes"]!;
  const bytes = enc(text);
  const n = parser.execute(bytes);
  assert.equal(dec(bytes.subarray(n)), "\x81\x05hello-frame");
  assert.equal(parser.upgraded, true);
  assert.deepEqual(log, ["head GET /ws", "complete"]);
  assert.equal(parser.execute(enc("more tunnel bytes")), 0);
  const h = only(collect("request", [bytes]));
  assert.equal(h.upgrade, "websocket");
  assert.equal(h.bodyKind, "none");
});

Deno.test("upgraded is already true when onMessageComplete of the upgrade request runs", () => {
  let seen: boolean | undefined;
  const p: Http1Parser<RequestHead> = Http1Parser.request({
    onHead() {},
    onBody() {},
    onTrailers() {},
    onMessageComplete() {
      seen = p.upgraded;
    },
  });
  p.execute(enc("GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: h2c\r\n\r\n"));
  assert.equal(seen, true);
});

Deno.test("Upgrade without Connection: upgrade, or in HTTP/1.0, is not an upgrade", () => {
  for (
    const text of [
      "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n",
      "GET / HTTP/1.0\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\nGET /next HTTP/1.0\r\n\r\n",
    ]
  ) {
    const evs = collect("request", [enc(text)]);
    assert.equal(heads(evs).length, 2, text);
    assert.equal(heads(evs)[0]!.upgrade, "");
  }
});

Deno.test("a declined upgrade lets the parser read HTTP/1 again", () => {
  const { parser, log } = recording();
  const bytes = enc(
    "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n" +
      "GET /after HTTP/1.1\r\nHost: a\r\n\r\n",
  );
  const n = parser.execute(bytes);
  assert.equal(parser.upgraded, true);
  parser.declineUpgrade();
  assert.equal(parser.upgraded, false);
  assert.equal(parser.execute(bytes.subarray(n)), bytes.length - n);
  assert.deepEqual(log, ["head GET /ws", "complete", "head GET /after", "complete"]);
});

Deno.test("a CONNECT request becomes a tunnel after its head, ignoring any body framing", () => {
  const evs = collect("request", [enc(MESSAGES["a CONNECT followed by tunnel bytes"]!)]);
  assert.deepEqual(evs.map((e) => e.type), ["head", "complete", "tunnel"]);
  assert.equal(only(evs).method, "CONNECT");
  assert.equal(only(evs).target, "example.com:443");
});

Deno.test("an upgrade request with a body is upgraded after the body", () => {
  const evs = collect("request", [
    enc(
      "POST / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n" +
        "Content-Length: 3\r\n\r\nabcPRI * HTTP/2.0",
    ),
  ]);
  assert.deepEqual(evs.slice(1), [
    { type: "body", data: "abc" },
    { type: "complete" },
    { type: "tunnel", data: "PRI * HTTP/2.0" },
  ]);
});

Deno.test("limits are inclusive: a request exactly at every limit is accepted", () => {
  const limits = { maxRequestLineBytes: 32, maxHeaderCount: 3, maxHeaderBytes: 100 };
  const line = `GET /${"a".repeat(32 - 14)} HTTP/1.1`;
  assert.equal(line.length, 32);
  const fields = "Host: a\r\nB: 1\r\n";
  const pad = 100 - (line.length + 2 + fields.length + "C: \r\n".length + 2);
  const text = `${line}\r\n${fields}C: ${"c".repeat(pad)}\r\n\r\n`;
  assert.equal(text.length, 100);
  for (const [how, chunks] of feedings(enc(text), 10)) {
    const evs = collect("request", chunks, { limits });
    assert.equal(evs[evs.length - 1]!.type, "complete", how);
  }
  const over = collect("request", [enc(`${line}\r\n${fields}C: ${"c".repeat(pad + 1)}\r\n\r\n`)], {
    limits,
  });
  assert.deepEqual(over[over.length - 1], {
    type: "error",
    code: "HEADERS_TOO_LARGE",
    status: 431,
  });
});

Deno.test("common methods and any upper-case token method are accepted", () => {
  for (
    const m of ["GET", "PUT", "POST", "HEAD", "DELETE", "OPTIONS", "PATCH", "TRACE", "M-SEARCH"]
  ) {
    const h = only(collect("request", [enc(`${m} * HTTP/1.1\r\nHost: a\r\n\r\n`)]));
    assert.equal(h.method, m);
  }
});

Deno.test("finish() between messages is quiet; mid-message it reports a truncated request", () => {
  assert.deepEqual(collect("request", [enc(WRK)], { finish: true }).slice(-1), [{
    type: "finish",
  }]);
  assert.deepEqual(collect("request", [], { finish: true }), [{ type: "finish" }]);
  for (
    const partial of [
      "GET / HTT",
      "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhel",
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello",
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: 1\r\n",
    ]
  ) {
    const evs = collect("request", [enc(partial)], { finish: true });
    assert.deepEqual(
      evs[evs.length - 1],
      { type: "error", code: "TRUNCATED", status: 400 },
      partial,
    );
  }
});

Deno.test("after a parse error the parser stays dead and rethrows the same error", () => {
  const { parser } = recording();
  let first: unknown;
  try {
    parser.execute(enc("BAD REQUEST\r\n\r\n"));
  } catch (e) {
    first = e;
  }
  assert.ok(first instanceof Http1ParseError);
  assert.throws(() => parser.execute(enc(WRK)), (e) => e === first);
  assert.throws(() => parser.finish(), (e) => e === first);
});

Deno.test("error messages name the offending value", () => {
  const { parser } = recording();
  assert.throws(
    () => parser.execute(enc("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 12abc\r\n\r\n")),
    (e) => e instanceof Http1ParseError && e.message.includes('"12abc"'),
  );
});

Deno.test("reset() makes a parser reusable after an error", () => {
  const { parser, log } = recording();
  assert.throws(() => parser.execute(enc("get / HTTP/1.1\r\n\r\n")), Http1ParseError);
  parser.reset();
  parser.execute(enc(WRK));
  assert.deepEqual(log, ["head GET /hello", "complete"]);
});

Deno.test("a 40 KiB head fed byte by byte parses (the split path stays linear)", () => {
  const fields = Array.from({ length: 100 }, (_, i) => `X-Field-${i}: ${"v".repeat(400)}\r\n`);
  const text = `GET / HTTP/1.1\r\nHost: a\r\n${fields.join("")}\r\n`;
  const bytes = enc(text);
  const chunks = Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1));
  const evs = collect("request", chunks);
  assert.deepEqual(evs.map((e) => e.type), ["head", "complete"]);
  assert.equal((only(evs).headers as string[]).length, 202);
});

Deno.test("field names and tokens of framing fields match case-insensitively", () => {
  const h = only(collect("request", [
    enc(
      "POST / HTTP/1.1\r\nHOST: a\r\nTRANSFER-ENCODING: Chunked\r\nCONNECTION: Close\r\n\r\n0\r\n\r\n",
    ),
  ]));
  assert.equal(h.bodyKind, "chunked");
  assert.equal(h.keepAlive, false);
});
