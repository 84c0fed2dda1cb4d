/**
 * The xprotocol registry: codec factories keyed by their `downstream_protocol` name. Built-ins are
 * listed here explicitly; a duplicate name throws (REGISTRY_DUPLICATE).
 */

import { MosnError } from "../../common/errors.ts";
import { Registry } from "../../common/registry.ts";
import { createBoltV1, createBoltV2 } from "./bolt/codec.ts";
import { createDubbo } from "./dubbo/codec.ts";
import { createExample } from "./example/codec.ts";
import type { XProtocol, XProtocolFactory, XProtocolOptions } from "./types.ts";

/** Creates a fresh registry holding the built-in protocols. */
export function builtinXProtocols(): Registry<XProtocolFactory> {
  const r = new Registry<XProtocolFactory>("xprotocol");
  r.register("bolt", createBoltV1);
  r.register("boltv2", createBoltV2);
  r.register("dubbo", createDubbo);
  r.register("example", createExample);
  return r;
}

/** The process-wide registry. */
export const xprotocols: Registry<XProtocolFactory> = builtinXProtocols();

/**
 * A codec by name (case-insensitive).
 * @throws MosnError REGISTRY_UNKNOWN naming the protocol and the known ones
 */
export function createXProtocol(
  name: string,
  options?: XProtocolOptions,
  registry: Registry<XProtocolFactory> = xprotocols,
): XProtocol {
  const factory = registry.get(name);
  if (factory === undefined) {
    throw new MosnError(
      "REGISTRY_UNKNOWN",
      `unknown xprotocol "${name}" (known: ${registry.names().join(", ")})`,
    );
  }
  return factory(options);
}

/**
 * Auto detection: the first protocol whose `match` says "match"; "again" when none matched yet
 * but one needs more bytes; undefined when all fail.
 */
export function detectXProtocol(
  head: Uint8Array,
  protocols: readonly XProtocol[],
): XProtocol | "again" | undefined {
  let again = false;
  for (const p of protocols) {
    const m = p.match(head);
    if (m === "match") return p;
    if (m === "again") again = true;
  }
  return again ? "again" : undefined;
}
