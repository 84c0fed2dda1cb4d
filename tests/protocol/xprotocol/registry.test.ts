import assert from "node:assert/strict";
import { MosnError } from "../../../src/common/errors.ts";
import {
  builtinXProtocols,
  createXProtocol,
  detectXProtocol,
} from "../../../src/protocol/xprotocol/registry.ts";
import { golden, hexToBytes } from "./_golden.ts";

Deno.test("xprotocol registry: built-ins are bolt, boltv2, dubbo and example; lookups ignore case", () => {
  const r = builtinXProtocols();
  for (const n of ["bolt", "boltv2", "dubbo", "example"]) assert.ok(r.has(n), n);
  assert.equal(createXProtocol("BoltV2").name, "boltv2");
});

Deno.test("xprotocol registry: options reach the codec", () => {
  const small = createXProtocol("bolt", { maxFrameBytes: 10 });
  assert.throws(() => small.decode(golden("bolt", "v1_heartbeat")), /above the 10-byte limit/);
});

Deno.test("xprotocol registry: unknown names and duplicates are errors", () => {
  assert.throws(
    () => createXProtocol("thrift"),
    (e: unknown) => e instanceof MosnError && e.code === "REGISTRY_UNKNOWN",
  );
  const r = builtinXProtocols();
  assert.throws(
    () => r.register("bolt", () => createXProtocol("bolt")),
    (e: unknown) => e instanceof MosnError && e.code === "REGISTRY_DUPLICATE",
  );
});

Deno.test("xprotocol detection: first bytes pick the protocol", () => {
  const all = ["bolt", "boltv2", "example"].map((n) => createXProtocol(n));
  assert.equal(detectXProtocol(golden("bolt", "v1_heartbeat"), all), all[0]);
  assert.equal(detectXProtocol(golden("bolt", "v2crc_heartbeat"), all), all[1]);
  assert.equal(detectXProtocol(hexToBytes("ee"), all), all[2]);
  assert.equal(detectXProtocol(hexToBytes("01"), all), "again");
  assert.equal(detectXProtocol(new Uint8Array(0), all), "again");
  assert.equal(detectXProtocol(new TextEncoder().encode("GET /"), all), undefined);
});
