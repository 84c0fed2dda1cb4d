/**
 * Micro-benchmarks of the HTTP/1 codec's hot path: parsing a wrk request, a browser-like request
 * with 12 fields, and small responses; encoding a response head. Run:
 * `./deno bench -A bench/micro/http1_parse.bench.ts`.
 */

import { HeaderMap } from "../../src/protocol/header_map.ts";
import { encodeResponseHead } from "../../src/protocol/http1/encoder.ts";
import { Http1Parser } from "../../src/protocol/http1/parser.ts";
import type { RequestHead, ResponseHead } from "../../src/protocol/http1/types.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

const WRK = bytes("GET /hello HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n");
const BROWSER = bytes(
  "GET /api/v1/items?id=12345&sort=desc HTTP/1.1\r\n" +
    "Host: www.example.com\r\n" +
    "Connection: keep-alive\r\n" +
    "Cache-Control: max-age=0\r\n" +
    'sec-ch-ua: "Chromium";v="122", "Not(A:Brand";v="24"\r\n' +
    "sec-ch-ua-mobile: ?0\r\n" +
    "Upgrade-Insecure-Requests: 1\r\n" +
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) " +
    "Chrome/122.0.0.0 Safari/537.36\r\n" +
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp," +
    "*/*;q=0.8\r\n" +
    "Accept-Encoding: gzip, deflate, br\r\n" +
    "Accept-Language: en-US,en;q=0.9\r\n" +
    "Cookie: session=abcdef0123456789; theme=dark\r\n" +
    "Referer: https://www.example.com/\r\n\r\n",
);
const RESPONSE = bytes(
  "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Thu, 26 Nov 2026 13:14:45 GMT\r\n" +
    "Content-Type: text/plain\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\nhello",
);
const CHUNKED = bytes(
  "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n" +
    "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
);

let sink = 0;
const requests = Http1Parser.request({
  onHead(h: RequestHead) {
    sink += h.target.length;
  },
  onBody(c) {
    sink += c.length;
  },
  onTrailers() {},
  onMessageComplete() {},
});
const responses = Http1Parser.response({
  onHead(h: ResponseHead) {
    sink += h.status;
  },
  onBody(c) {
    sink += c.length;
  },
  onTrailers() {},
  onMessageComplete() {},
});

Deno.bench("parse wrk request (45 B, 1 field)", { group: "parse" }, () => {
  sink += requests.execute(WRK);
});
Deno.bench("parse browser request (590 B, 12 fields)", { group: "parse" }, () => {
  sink += requests.execute(BROWSER);
});
Deno.bench("parse small response (5 fields + 5 B body)", { group: "parse" }, () => {
  sink += responses.execute(RESPONSE);
});
Deno.bench("parse chunked response (2 chunks)", { group: "parse" }, () => {
  sink += responses.execute(CHUNKED);
});
Deno.bench("parse browser request split in two", { group: "parse" }, () => {
  sink += requests.execute(BROWSER.subarray(0, 300));
  sink += requests.execute(BROWSER.subarray(300));
});

const head = {
  status: 200,
  headers: HeaderMap.from({
    Server: "mosn",
    Date: "Thu, 26 Nov 2026 13:14:45 GMT",
    "Content-Type": "text/plain",
    "Content-Length": "5",
    Connection: "keep-alive",
  }),
};
Deno.bench("encode small response head (5 fields)", { group: "encode" }, () => {
  sink += encodeResponseHead(head).length;
});

globalThis.addEventListener("unload", () => {
  if (sink === 0.5) console.log(sink);
});
