import assert from "node:assert/strict";
import { MosnError } from "../../../src/common/errors.ts";
import { Registry } from "../../../src/common/registry.ts";
import { streamFilters } from "../../../src/filter/stream/registry.ts";
import type { StreamFilterFactory } from "../../../src/filter/stream/types.ts";

Deno.test("stream filter registry: built-ins are listed by MOSN type name", () => {
  assert.deepEqual(streamFilters.names().sort(), ["fault", "header_mutation", "payload_limit"]);
  assert.equal(streamFilters.get("fault")?.type, "fault");
  assert.equal(streamFilters.get("Payload_Limit")?.type, "payload_limit");
  assert.equal(streamFilters.get("header_mutation")?.type, "header_mutation");
});

Deno.test("stream filter registry: unknown type gives undefined", () => {
  assert.equal(streamFilters.get("no_such_filter"), undefined);
  assert.equal(streamFilters.has("gzip"), false);
});

Deno.test("stream filter registry: registering a name twice throws", () => {
  const reg = new Registry<StreamFilterFactory>("stream filter");
  const f = streamFilters.get("fault")!;
  reg.register("fault", f);
  assert.throws(
    () => reg.register("FAULT", f),
    (e: unknown) => e instanceof MosnError && e.code === "REGISTRY_DUPLICATE",
  );
  assert.throws(() => streamFilters.register("fault", f), MosnError);
});
