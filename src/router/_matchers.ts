/** Compiled header and query-parameter conditions of a route. */

import type { HeaderMatcherConfig, QueryParameterMatcherConfig } from "../config/router_model.ts";
import { compileGoRegex } from "../config/router_parse.ts";
import type { RouteRequest } from "./types.ts";

const FROM_HEADER = 0, FROM_METHOD = 1, FROM_AUTHORITY = 2, FROM_PATH = 3;

/** A validated config regex; failing here is a bug (the parser rejects bad ones). */
export function mustCompile(source: string, mode: "search" | "full" | "replace"): RegExp {
  const re = compileGoRegex(source, mode);
  if (typeof re === "string") throw new Error(re);
  return re;
}

export class HeaderMatcher {
  readonly #name: string;
  readonly #from: number;
  readonly #value: string;
  readonly #re: RegExp | undefined;
  readonly #invert: boolean;
  readonly #present: boolean | undefined;

  constructor(cfg: HeaderMatcherConfig) {
    this.#name = cfg.name;
    this.#from = cfg.name === ":method"
      ? FROM_METHOD
      : cfg.name === ":authority"
      ? FROM_AUTHORITY
      : cfg.name === ":path"
      ? FROM_PATH
      : FROM_HEADER;
    this.#value = cfg.value;
    this.#re = cfg.regex && cfg.present === undefined ? mustCompile(cfg.value, "full") : undefined;
    this.#invert = cfg.invert;
    this.#present = cfg.present;
  }

  matches(req: RouteRequest): boolean {
    let v: string | undefined;
    switch (this.#from) {
      case FROM_HEADER:
        v = req.headers.get(this.#name);
        break;
      case FROM_METHOD:
        v = req.method;
        break;
      case FROM_AUTHORITY:
        v = req.authority === "" ? undefined : req.authority;
        break;
      default:
        v = req.path;
    }
    if (this.#present !== undefined) return ((v !== undefined) === this.#present) !== this.#invert;
    if (v === undefined) return false; // a missing header fails a value test, inverted or not
    const ok = this.#re !== undefined ? this.#re.test(v) : v === this.#value;
    return ok !== this.#invert;
  }
}

export class QueryMatcher {
  readonly #name: string;
  readonly #value: string;
  readonly #re: RegExp | undefined;
  readonly #present: boolean | undefined;

  constructor(cfg: QueryParameterMatcherConfig) {
    this.#name = cfg.name;
    this.#value = cfg.value;
    this.#re = cfg.regex && cfg.present === undefined ? mustCompile(cfg.value, "full") : undefined;
    this.#present = cfg.present;
  }

  /** `query` is the text after "?" ("" when none). */
  matches(query: string): boolean {
    const v = queryParam(query, this.#name);
    if (this.#present !== undefined) return (v !== undefined) === this.#present;
    if (v === undefined) return false;
    return this.#re !== undefined ? this.#re.test(v) : v === this.#value;
  }
}

/** The first value of `name` in a raw query string, percent- and plus-decoded; "" for `?name`. */
export function queryParam(query: string, name: string): string | undefined {
  const n = name.length;
  let i = 0;
  while (i <= query.length) {
    let amp = query.indexOf("&", i);
    if (amp < 0) amp = query.length;
    const eq = query.indexOf("=", i);
    const keyEnd = eq >= 0 && eq < amp ? eq : amp;
    if (keyEnd - i === n && query.startsWith(name, i)) {
      return keyEnd === amp ? "" : decode(query.slice(eq + 1, amp));
    }
    i = amp + 1;
  }
  return undefined;
}

function decode(v: string): string {
  if (v.indexOf("%") < 0 && v.indexOf("+") < 0) return v;
  try {
    return decodeURIComponent(v.replaceAll("+", " "));
  } catch {
    return v;
  }
}
