/**
 * Parses the `header_mutation` stream filter config. MOSN's router keys:
 * `{"request_headers_to_add":[{"header":{"key":"x-a","value":"1"},"append":false}],
 * "request_headers_to_remove":["x-b"], "response_headers_to_add":[…],
 * "response_headers_to_remove":[…]}` (adds first, then removes), and Envoy's ordered list
 * `{"mutations":{"request_mutations":[{"remove":"x-b"},{"append":{"header":{…},
 * "append_action":"OVERWRITE_IF_EXISTS_OR_ADD"}}],"response_mutations":[…]}}`.
 * A value may hold access-log variables, e.g. "%DOWNSTREAM_REMOTE_ADDRESS%".
 */

import { describe, ObjReader } from "../../../config/reader.ts";
import {
  type CompiledFormat,
  parseAccessLogFormat,
} from "../../../observability/access_log_format.ts";

/**
 * How an added header meets an existing one:
 * - `join`: MOSN's `append: true` (the default): existing value + "," + new value;
 * - `add`: another header line (Envoy's APPEND_IF_EXISTS_OR_ADD);
 * - `add_if_absent`: only when the header is not there;
 * - `overwrite`: replace or add (MOSN's `append: false`, Envoy's OVERWRITE_IF_EXISTS_OR_ADD);
 * - `overwrite_if_exists`: replace, never add.
 */
export type HeaderAddAction =
  | "join"
  | "add"
  | "add_if_absent"
  | "overwrite"
  | "overwrite_if_exists";

export type HeaderMutation =
  | {
    readonly op: "set";
    readonly name: string;
    /** Literal text, or a format evaluated per request (an empty result adds nothing). */
    readonly value: string | CompiledFormat;
    readonly action: HeaderAddAction;
  }
  | { readonly op: "remove"; readonly name: string };

export interface HeaderMutationConfig {
  readonly request: readonly HeaderMutation[];
  readonly response: readonly HeaderMutation[];
}

const ENVOY_ACTIONS = [
  "APPEND_IF_EXISTS_OR_ADD",
  "ADD_IF_ABSENT",
  "OVERWRITE_IF_EXISTS_OR_ADD",
  "OVERWRITE_IF_EXISTS",
] as const;

const ACTION_OF: Record<typeof ENVOY_ACTIONS[number], HeaderAddAction> = {
  APPEND_IF_EXISTS_OR_ADD: "add",
  ADD_IF_ABSENT: "add_if_absent",
  OVERWRITE_IF_EXISTS_OR_ADD: "overwrite",
  OVERWRITE_IF_EXISTS: "overwrite_if_exists",
};

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function headerName(r: ObjReader, at: string, name: string): boolean {
  if (!name) return false;
  if (name.startsWith(":")) {
    r.ctx.error(at, `pseudo-header ${describe(name)} cannot be changed`);
    return false;
  }
  if (!TOKEN.test(name)) {
    r.ctx.error(at, `expected a header name, got ${describe(name)}`);
    return false;
  }
  return true;
}

function headerValue(r: ObjReader, at: string, value: string): string | CompiledFormat {
  if (!value.includes("%")) return value;
  const f = parseAccessLogFormat(value);
  if (typeof f === "string") {
    r.ctx.warn(at, `used as plain text: ${f}`);
    return value;
  }
  return f.variableCount > 0 ? f : value;
}

/** `{"header":{"key","value"},"append"?,"append_action"?}` → a set mutation. */
function addOption(r: ObjReader, envoy: boolean): HeaderMutation | undefined {
  const h = r.obj("header");
  if (!h) {
    r.ctx.error(r.at("header"), 'is required: {"key": …, "value": …}');
    r.allow("append", "append_action", "keep_empty_value");
    r.done();
    return undefined;
  }
  const name = h.reqStr("key");
  const rawValue = h.str("value", "");
  const valueAt = h.at("value");
  const nameOk = headerName(h, h.at("key"), name);
  h.done();
  let action: HeaderAddAction;
  if (r.has("append_action")) {
    action = ACTION_OF[r.oneOf("append_action", ENVOY_ACTIONS, "APPEND_IF_EXISTS_OR_ADD")];
    if (r.has("append")) r.ctx.error(r.at("append"), "give either append or append_action");
  } else if (envoy) {
    action = r.bool("append", true) ? "add" : "overwrite";
  } else action = r.bool("append", true) ? "join" : "overwrite";
  r.bool("keep_empty_value", false);
  r.done();
  if (!nameOk) return undefined;
  return Object.freeze({
    op: "set",
    name,
    value: headerValue(r, valueAt, rawValue),
    action,
  });
}

function mosnList(r: ObjReader, addKey: string, removeKey: string): HeaderMutation[] {
  const out: HeaderMutation[] = [];
  for (const item of r.arr(addKey)) {
    const o = ObjReader.of(r.ctx, item.value, item.path);
    const m = o && addOption(o, false);
    if (m) out.push(m);
  }
  for (const item of r.arr(removeKey)) {
    if (typeof item.value !== "string") {
      r.ctx.error(item.path, `expected a header name, got ${describe(item.value)}`);
    } else if (headerName(r, item.path, item.value)) {
      out.push(Object.freeze({ op: "remove", name: item.value }));
    }
  }
  return out;
}

function envoyList(r: ObjReader, key: string): HeaderMutation[] {
  const out: HeaderMutation[] = [];
  for (const item of r.arr(key)) {
    const o = ObjReader.of(r.ctx, item.value, item.path);
    if (!o) continue;
    if (o.has("remove") === o.has("append")) {
      r.ctx.error(item.path, 'expected exactly one of "remove" or "append"');
      o.allow("remove", "append");
    } else if (o.has("remove")) {
      const name = o.str("remove", "");
      if (headerName(o, o.at("remove"), name)) {
        out.push(Object.freeze({ op: "remove", name }));
      }
    } else {
      const a = o.obj("append");
      const m = a && addOption(a, true);
      if (m) out.push(m);
    }
    o.done();
  }
  return out;
}

export function parseHeaderMutationConfig(r: ObjReader): HeaderMutationConfig {
  const request = mosnList(r, "request_headers_to_add", "request_headers_to_remove");
  const response = mosnList(r, "response_headers_to_add", "response_headers_to_remove");
  const m = r.obj("mutations");
  if (m) {
    request.push(...envoyList(m, "request_mutations"));
    response.push(...envoyList(m, "response_mutations"));
    m.done();
  }
  r.done();
  return Object.freeze({ request: Object.freeze(request), response: Object.freeze(response) });
}
