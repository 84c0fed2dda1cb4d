import assert from "node:assert/strict";
import { headerMutationFactory } from "../../../src/filter/stream/header_mutation/factory.ts";
import { StreamFilterStatus } from "../../../src/filter/stream/types.ts";
import { HeaderMap } from "../../../src/protocol/header_map.ts";
import { StreamInfo } from "../../../src/stream/stream_info.ts";
import { callbacks, CONFIG_PATH, parse, parseOk } from "./_support.ts";

const random = () => 0;

function pairFor(config: unknown) {
  return headerMutationFactory.prepare(parseOk(headerMutationFactory, config), { random })();
}

Deno.test("header_mutation: MOSN append (default true) joins with a comma; false replaces", () => {
  const { receiver, sender } = pairFor({
    request_headers_to_add: [
      { header: { key: "x-join", value: "b" } },
      { header: { key: "x-new", value: "n" }, append: true },
      { header: { key: "x-replace", value: "new" }, append: false },
      { header: { key: "x-fresh", value: "f" }, append: false },
    ],
  });
  assert.equal(sender, undefined);
  const cb = callbacks({ "X-Join": "a", "x-replace": "old1" });
  cb.requestHeaders.add("x-replace", "old2");
  assert.equal(receiver!.onRequestHeaders!(cb, true), StreamFilterStatus.Continue);
  const h = cb.requestHeaders;
  assert.equal(h.get("x-join"), "a,b");
  assert.equal(h.get("x-new"), "n");
  assert.deepEqual(h.getAll("x-replace"), ["new"]);
  assert.equal(h.get("x-fresh"), "f");
});

Deno.test("header_mutation: adds run before removes (MOSN order)", () => {
  const { receiver } = pairFor({
    request_headers_to_add: [{ header: { key: "x-a", value: "1" } }],
    request_headers_to_remove: ["x-a", "X-Secret"],
  });
  const cb = callbacks({ "x-secret": "s", "x-keep": "k" });
  receiver!.onRequestHeaders!(cb, true);
  assert.deepEqual(cb.requestHeaders.toObject(), { "x-keep": "k" });
});

Deno.test("header_mutation: response headers are changed in onResponseHeaders", () => {
  const { receiver, sender } = pairFor({
    response_headers_to_add: [{ header: { key: "x-served-by", value: "mosn" }, append: false }],
    response_headers_to_remove: ["server"],
  });
  assert.equal(receiver, undefined);
  const headers = HeaderMap.from({ Server: "nginx", "x-served-by": "other" });
  const cb = callbacks();
  assert.equal(sender!.onResponseHeaders!(cb, headers, false), StreamFilterStatus.Continue);
  assert.deepEqual(headers.toObject(), { "x-served-by": "mosn" });
  assert.equal(cb.requestHeaders.size, 0);
});

Deno.test("header_mutation: Envoy's ordered mutations with append_action", () => {
  const { receiver } = pairFor({
    mutations: {
      request_mutations: [
        { append: { header: { key: "x-add", value: "2" } } },
        { append: { header: { key: "x-absent", value: "1" }, append_action: "ADD_IF_ABSENT" } },
        { append: { header: { key: "x-present", value: "9" }, append_action: "ADD_IF_ABSENT" } },
        {
          append: {
            header: { key: "x-only-if", value: "v" },
            append_action: "OVERWRITE_IF_EXISTS",
          },
        },
        {
          append: {
            header: { key: "x-present", value: "3" },
            append_action: "overwrite_if_exists",
          },
        },
        { remove: "x-gone" },
        { append: { header: { key: "x-gone", value: "back" } } },
      ],
    },
  });
  const cb = callbacks({ "x-add": "1", "x-present": "p", "x-gone": "g" });
  receiver!.onRequestHeaders!(cb, true);
  const h = cb.requestHeaders;
  assert.deepEqual(h.getAll("x-add"), ["1", "2"]);
  assert.equal(h.get("x-absent"), "1");
  assert.deepEqual(h.getAll("x-present"), ["3"]);
  assert.equal(h.has("x-only-if"), false);
  assert.equal(h.get("x-gone"), "back");
});

Deno.test("header_mutation: values may use access-log variables; empty results add nothing", () => {
  const { receiver } = pairFor({
    request_headers_to_add: [
      { header: { key: "x-client", value: "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%" } },
      { header: { key: "x-route", value: "route=%route_name%" }, append: false },
      { header: { key: "x-peer", value: "%DOWNSTREAM_PEER_URI_SAN%" } },
      { header: { key: "x-pct", value: "100%" } },
    ],
  });
  const info = new StreamInfo();
  info.downstreamRemoteAddress = "10.1.2.3:5555";
  info.routeName = "r1";
  const cb = callbacks({}, info);
  receiver!.onRequestHeaders!(cb, true);
  assert.deepEqual(cb.requestHeaders.toObject(), {
    "x-client": "10.1.2.3",
    "x-route": "route=r1",
    "x-pct": "100%",
  });
});

Deno.test("header_mutation config: errors and warnings name JSON paths", () => {
  const { ctx } = parse(headerMutationFactory, {
    request_headers_to_add: [
      { header: { key: ":path", value: "/x" } },
      { header: { value: "v" } },
      { append: true },
      { header: { key: "bad name", value: "v" } },
    ],
    request_headers_to_remove: [42],
    mutations: { response_mutations: [{ remove: "a", append: { header: { key: "b" } } }] },
    response_headers_to_add: [
      { header: { key: "x", value: "%NOPE%" } },
      { header: { key: "y", value: "v" }, append_action: "SOMETIMES" },
    ],
  });
  const p = `${CONFIG_PATH}`;
  assert.deepEqual(ctx.issues.map((i) => i.path), [
    `${p}.request_headers_to_add[0].header.key`,
    `${p}.request_headers_to_add[1].header.key`,
    `${p}.request_headers_to_add[2].header`,
    `${p}.request_headers_to_add[3].header.key`,
    `${p}.request_headers_to_remove[0]`,
    `${p}.response_headers_to_add[1].append_action`,
    `${p}.mutations.response_mutations[0]`,
  ]);
  assert.match(ctx.issues[0]!.message, /pseudo-header ":path"/);
  assert.match(ctx.issues[3]!.message, /expected a header name, got "bad name"/);
  assert.match(ctx.issues[5]!.message, /one of .*got "SOMETIMES"/);
  assert.deepEqual(ctx.warnings.map((w) => w.path), [
    `${p}.response_headers_to_add[0].header.value`,
  ]);
  assert.match(ctx.warnings[0]!.message, /unknown access log variable %NOPE%/);
});
