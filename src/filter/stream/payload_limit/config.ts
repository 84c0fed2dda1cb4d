/**
 * Parses the `payload_limit` stream filter config, MOSN's keys:
 * `{"max_entity_size": 1048576, "http_status": 413}`. A size of 0 turns the limit off.
 */

import type { ObjReader } from "../../../config/reader.ts";

export interface PayloadLimitConfig {
  /** Largest request body in bytes; 0 for no limit. */
  readonly maxEntitySize: number;
  /** Status of the local reply to a larger body. */
  readonly httpStatus: number;
}

export function parsePayloadLimitConfig(r: ObjReader): PayloadLimitConfig {
  // MOSN's struct tag reads "max_entity_size " (with a trailing space): accept that spelling too.
  const key = !r.has("max_entity_size") && r.has("max_entity_size ")
    ? "max_entity_size "
    : "max_entity_size";
  r.allow("max_entity_size", "max_entity_size ");
  const cfg: PayloadLimitConfig = Object.freeze({
    maxEntitySize: r.int(key, 0, 0, Number.MAX_SAFE_INTEGER),
    httpStatus: r.int("http_status", 413, 200, 599),
  });
  r.done();
  return cfg;
}
