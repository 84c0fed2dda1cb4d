import assert from "node:assert/strict";
import { Http1Parser } from "../../../src/protocol/http1/parser.ts";
import type { ResponseHead } from "../../../src/protocol/http1/types.ts";
import { collect, dec, enc, type Ev, feedings } from "./_collect.ts";

function heads(evs: Ev[]): Record<string, unknown>[] {
  return evs.flatMap((e) => (e.type === "head" ? [e.head] : []));
}

function types(evs: Ev[]): string[] {
  return evs.map((e) => e.type);
}

Deno.test("a small response yields status, reason, fields, framing and body", () => {
  const evs = collect("response", [
    enc("HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: 5\r\n\r\nhello"),
  ]);
  assert.deepEqual(evs, [
    {
      type: "head",
      head: {
        status: 200,
        reason: "OK",
        minorVersion: 1,
        headers: ["Server", "nginx", "Content-Length", "5"],
        bodyKind: "length",
        contentLength: 5,
        keepAlive: true,
      },
    },
    { type: "body", data: "hello" },
    { type: "complete" },
  ]);
});

Deno.test("reason phrases are kept as sent, and may be empty or absent", () => {
  const reason = (line: string) =>
    heads(collect("response", [enc(`${line}\r\nContent-Length: 0\r\n\r\n`)]))[0]!.reason;
  assert.equal(reason("HTTP/1.1 404 Not Found"), "Not Found");
  assert.equal(reason("HTTP/1.1 200 Fine \t thanks"), "Fine \t thanks");
  assert.equal(reason("HTTP/1.1 200 "), "");
  assert.equal(reason("HTTP/1.1 200"), "");
});

const MESSAGES: Record<string, { text: string; methods?: string[]; finish?: boolean }> = {
  "a chunked response with trailers": {
    text: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
      "4;x=y\r\nWiki\r\n5\r\npedia\r\ne\r\n in\r\n\r\nchunks.\r\n0\r\nExpires: never\r\n\r\n",
  },
  "100 Continue followed by the final response": {
    text: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
  },
  "a response whose body runs until close": {
    text: "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nall of this is body",
    finish: true,
  },
  "a HEAD response followed by a GET response": {
    text:
      "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc",
    methods: ["HEAD", "GET"],
  },
  "a 101 response followed by tunnel bytes": {
    text: "HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n" +
      "\x81\x02hi",
  },
  "responses with bare LF line endings": {
    text:
      "HTTP/1.1 200 OK\nContent-Length: 2\n\nokHTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n" +
      "2\nab\n0\n\n",
  },
};

for (const [name, m] of Object.entries(MESSAGES)) {
  Deno.test(`${name} gives the same events however the bytes are split`, () => {
    const bytes = enc(m.text);
    const opts = { methods: m.methods ?? [], finish: m.finish ?? false };
    const expected = collect("response", [bytes], opts);
    assert.ok(!expected.some((e) => e.type === "error"), JSON.stringify(expected));
    for (const [how, chunks] of feedings(bytes)) {
      assert.deepEqual(collect("response", chunks, opts), expected, how);
    }
  });
}

Deno.test("a chunked response delivers the de-chunked body and its trailers", () => {
  const evs = collect("response", [enc(MESSAGES["a chunked response with trailers"]!.text)]);
  assert.deepEqual(evs.slice(1), [
    { type: "body", data: "Wikipedia in\r\n\r\nchunks." },
    { type: "trailers", raw: ["Expires", "never"] },
    { type: "complete" },
  ]);
});

Deno.test("a response to HEAD has no body whatever its framing fields say", () => {
  for (const framing of ["Content-Length: 1000", "Transfer-Encoding: chunked"]) {
    const evs = collect("response", [
      enc(`HTTP/1.1 200 OK\r\n${framing}\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n`),
    ], { methods: ["HEAD", "GET"] });
    assert.deepEqual(types(evs), ["head", "complete", "head", "complete"], framing);
    assert.equal(heads(evs)[0]!.bodyKind, "none");
    assert.equal(heads(evs)[0]!.keepAlive, true);
  }
});

Deno.test("204 and 304 responses have no body even with Content-Length", () => {
  for (const status of ["204 No Content", "304 Not Modified"]) {
    const evs = collect("response", [
      enc(
        `HTTP/1.1 ${status}\r\nContent-Length: 10\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n`,
      ),
    ]);
    assert.deepEqual(types(evs), ["head", "complete", "head", "complete"], status);
    assert.equal(heads(evs)[0]!.bodyKind, "none");
  }
});

Deno.test("an interim 100 Continue is a bodiless message; the final response follows", () => {
  const evs = collect("response", [
    enc(MESSAGES["100 Continue followed by the final response"]!.text),
  ]);
  assert.deepEqual(types(evs), ["head", "complete", "head", "body", "complete"]);
  assert.equal(heads(evs)[0]!.status, 100);
  assert.equal(heads(evs)[0]!.bodyKind, "none");
  assert.equal(heads(evs)[1]!.status, 201);
});

Deno.test("interim responses keep the expected method for the final one (HEAD after 103)", () => {
  const evs = collect("response", [
    enc(
      "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n" +
        "HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n" +
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    ),
  ], { methods: ["HEAD", "GET"] });
  assert.deepEqual(types(evs), [
    "head",
    "complete",
    "head",
    "complete",
    "head",
    "body",
    "complete",
  ]);
});

Deno.test("a 101 response upgrades the parser; the rest stays unconsumed", () => {
  let upgradedAtComplete = false;
  const p: Http1Parser<ResponseHead> = Http1Parser.response({
    onHead() {},
    onBody() {},
    onTrailers() {},
    onMessageComplete() {
      upgradedAtComplete = p.upgraded;
    },
  });
  const bytes = enc(MESSAGES["a 101 response followed by tunnel bytes"]!.text);
  const n = p.execute(bytes);
  assert.equal(dec(bytes.subarray(n)), "\x81\x02hi");
  assert.ok(upgradedAtComplete);
  assert.equal(p.execute(enc("x")), 0);
});

Deno.test("a 2xx answer to CONNECT becomes a tunnel; a refusal has a normal body", () => {
  const ok = collect("response", [enc("HTTP/1.1 200 Connection Established\r\n\r\ntls bytes")], {
    methods: ["CONNECT"],
  });
  assert.deepEqual(ok.slice(1), [{ type: "complete" }, { type: "tunnel", data: "tls bytes" }]);
  const refused = collect("response", [
    enc("HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 4\r\n\r\nnope"),
  ], { methods: ["CONNECT"] });
  assert.deepEqual(types(refused), ["head", "body", "complete"]);
});

Deno.test("a response without length runs until finish() and closes the connection", () => {
  const evs = collect("response", [enc("HTTP/1.1 200 OK\r\n\r\npart one, "), enc("part two")], {
    finish: true,
  });
  assert.equal(heads(evs)[0]!.bodyKind, "until-close");
  assert.equal(heads(evs)[0]!.keepAlive, false);
  assert.deepEqual(evs.slice(1), [
    { type: "body", data: "part one, part two" },
    { type: "complete" },
    { type: "finish" },
  ]);
});

Deno.test("Transfer-Encoding not ending in chunked means the body runs until close", () => {
  const evs = collect("response", [enc("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzzz")], {
    finish: true,
  });
  assert.equal(heads(evs)[0]!.bodyKind, "until-close");
  assert.deepEqual(evs.slice(1, 3), [{ type: "body", data: "zzz" }, { type: "complete" }]);
});

Deno.test("keep-alive of responses follows version, Connection and framing", () => {
  const cases: [string, boolean][] = [
    ["HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", true],
    ["HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", false],
    ["HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", false],
    ["HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", true],
    ["HTTP/1.1 200 OK\r\n\r\n", false],
    [
      "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      false,
    ],
  ];
  for (const [text, keepAlive] of cases) {
    assert.equal(heads(collect("response", [enc(text)]))[0]!.keepAlive, keepAlive, text);
  }
});

Deno.test("finish() in the middle of a response reports it truncated (502)", () => {
  for (
    const partial of [
      "HTTP/1.1 200 OK\r\nContent-Le",
      "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
    ]
  ) {
    const evs = collect("response", [enc(partial)], { finish: true });
    assert.deepEqual(
      evs[evs.length - 1],
      { type: "error", code: "TRUNCATED", status: 502 },
      partial,
    );
  }
});

Deno.test("malformed responses fail with a code and status 502", () => {
  const cases: [string, string][] = [
    ["HTTP/2.0 200 OK\r\n\r\n", "BAD_VERSION"],
    ["HTTX/1.1 200 OK\r\n\r\n", "BAD_STATUS_LINE"],
    ["HTTP/1.1 20 OK\r\n\r\n", "BAD_STATUS_LINE"],
    ["HTTP/1.1 099 Odd\r\n\r\n", "BAD_STATUS_LINE"],
    ["HTTP/1.1 200OK\r\n\r\n", "BAD_STATUS_LINE"],
    ["HTTP/1.1 200 O\x01K\r\n\r\n", "BAD_STATUS_LINE"],
    [
      "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
      "CONFLICTING_CONTENT_LENGTH",
    ],
    ["HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", "BAD_CONTENT_LENGTH"],
    [
      "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
      "CONTENT_LENGTH_AND_CHUNKED",
    ],
    ["HTTP/1.1 200 OK\r\nX : y\r\n\r\n", "BAD_HEADER"],
    ["HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", "BAD_HEADER"],
    ["HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n", "BAD_LINE_ENDING"],
    ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n", "BAD_CHUNK"],
  ];
  for (const [text, code] of cases) {
    for (const [how, chunks] of feedings(enc(text), 5)) {
      const evs = collect("response", chunks);
      assert.deepEqual(evs[evs.length - 1], { type: "error", code, status: 502 }, `${text} ${how}`);
    }
  }
});

Deno.test("expectResponseTo set again during an interim response is harmless", () => {
  const log: string[] = [];
  const p: Http1Parser<ResponseHead> = Http1Parser.response({
    onHead(h) {
      log.push(`${h.status} ${h.bodyKind}`);
      if (h.status < 200) p.expectResponseTo("HEAD");
    },
    onBody() {},
    onTrailers() {},
    onMessageComplete() {},
  });
  p.expectResponseTo("HEAD");
  p.execute(enc("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n"));
  p.expectResponseTo("GET");
  p.execute(enc("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
  assert.deepEqual(log, ["100 none", "200 none", "200 length"]);
});
