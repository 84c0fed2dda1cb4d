/**
 * Reads untrusted JSON with MOSN's rules: keys match case-insensitively, durations are Go
 * strings, unknown keys are warned about and ignored. Every problem is recorded with its JSON
 * path; parsing goes on so that one run reports all of them.
 */

import type { ConfigIssue } from "../common/errors.ts";
import { parseDuration } from "../common/duration.ts";

export class ParseContext {
  readonly issues: ConfigIssue[] = [];
  readonly warnings: ConfigIssue[] = [];

  error(path: string, message: string): void {
    this.issues.push({ path, message });
  }

  warn(path: string, message: string): void {
    this.warnings.push({ path, message });
  }
}

/** Describes a JSON value for messages: `"localhost"`, `42`, `an object`, `null`. */
export function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object") return "an object";
  if (typeof v === "string") return JSON.stringify(v.length > 80 ? v.slice(0, 80) + "…" : v);
  return String(v);
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function joinPath(base: string, key: string | number): string {
  if (typeof key === "number") return `${base}[${key}]`;
  return base ? `${base}.${key}` : key;
}

/** Reads one JSON object. Construct with `ObjReader.of` to get undefined for non-objects. */
export class ObjReader {
  readonly ctx: ParseContext;
  readonly path: string;
  readonly #value: Record<string, unknown>;
  /** lower-cased key → actual key */
  readonly #keys = new Map<string, string>();
  readonly #used = new Set<string>();

  private constructor(ctx: ParseContext, value: Record<string, unknown>, path: string) {
    this.ctx = ctx;
    this.path = path;
    this.#value = value;
    for (const k of Object.keys(value)) {
      const lk = k.toLowerCase();
      if (this.#keys.has(lk)) {
        ctx.warn(joinPath(path, k), `duplicate of key "${this.#keys.get(lk)}"`);
      } else this.#keys.set(lk, k);
    }
  }

  /** A reader for `value`, or undefined (with an issue recorded) when it is not an object. */
  static of(ctx: ParseContext, value: unknown, path: string): ObjReader | undefined {
    if (!isPlainObject(value)) {
      ctx.error(path, `expected an object, got ${describe(value)}`);
      return undefined;
    }
    return new ObjReader(ctx, value, path);
  }

  at(key: string): string {
    return joinPath(this.path, this.#keys.get(key.toLowerCase()) ?? key);
  }

  has(key: string): boolean {
    const k = this.#keys.get(key.toLowerCase());
    return k !== undefined && this.#value[k] !== undefined && this.#value[k] !== null;
  }

  /** The raw value under `key` (case-insensitive), marking the key as known. */
  raw(key: string): unknown {
    const lk = key.toLowerCase();
    this.#used.add(lk);
    const k = this.#keys.get(lk);
    return k === undefined ? undefined : this.#value[k];
  }

  str(key: string, def: string): string {
    const v = this.raw(key);
    if (v === undefined || v === null) return def;
    if (typeof v !== "string") {
      this.ctx.error(this.at(key), `expected a string, got ${describe(v)}`);
      return def;
    }
    return v;
  }

  /** A required, non-empty string. */
  reqStr(key: string): string {
    const v = this.raw(key);
    if (v === undefined || v === null || v === "") {
      this.ctx.error(this.at(key), "is required");
      return "";
    }
    if (typeof v !== "string") {
      this.ctx.error(this.at(key), `expected a string, got ${describe(v)}`);
      return "";
    }
    return v;
  }

  /** One of `values`, compared case-insensitively; returns the canonical spelling. */
  oneOf<T extends string>(key: string, values: readonly T[], def: T): T {
    const v = this.raw(key);
    if (v === undefined || v === null || v === "") return def;
    if (typeof v === "string") {
      const hit = values.find((x) => x.toLowerCase() === v.toLowerCase());
      if (hit) return hit;
    }
    this.ctx.error(
      this.at(key),
      `expected one of ${values.map((x) => JSON.stringify(x)).join(", ")}, got ${describe(v)}`,
    );
    return def;
  }

  int(key: string, def: number, min = -Infinity, max = Infinity): number {
    const v = this.raw(key);
    if (v === undefined || v === null) return def;
    if (typeof v !== "number" || !Number.isInteger(v)) {
      this.ctx.error(this.at(key), `expected an integer, got ${describe(v)}`);
      return def;
    }
    if (v < min || v > max) {
      this.ctx.error(this.at(key), `out of range ${min}-${max}, got ${v}`);
      return def;
    }
    return v;
  }

  bool(key: string, def: boolean): boolean {
    const v = this.raw(key);
    if (v === undefined || v === null) return def;
    if (typeof v !== "boolean") {
      this.ctx.error(this.at(key), `expected true or false, got ${describe(v)}`);
      return def;
    }
    return v;
  }

  /** A Go duration string ("15s", "300ms") in milliseconds. */
  duration(key: string, defMs: number): number {
    const v = this.raw(key);
    if (v === undefined || v === null || v === "") return defMs;
    if (typeof v === "string") {
      const ms = parseDuration(v);
      if (ms !== undefined && ms >= 0) return ms;
    }
    this.ctx.error(this.at(key), `expected a duration like "15s" or "300ms", got ${describe(v)}`);
    return defMs;
  }

  /** Items of an array with their paths; a missing key gives []. */
  arr(key: string): { value: unknown; path: string }[] {
    const v = this.raw(key);
    if (v === undefined || v === null) return [];
    const p = this.at(key);
    if (!Array.isArray(v)) {
      this.ctx.error(p, `expected an array, got ${describe(v)}`);
      return [];
    }
    return v.map((value, i) => ({ value, path: joinPath(p, i) }));
  }

  /** A nested object reader, or undefined when the key is absent (or not an object: an issue). */
  obj(key: string): ObjReader | undefined {
    const v = this.raw(key);
    if (v === undefined || v === null) return undefined;
    return ObjReader.of(this.ctx, v, this.at(key));
  }

  /** Flat string map (metadata, headers). */
  strMap(key: string): Record<string, string> {
    const r = this.obj(key);
    const out: Record<string, string> = {};
    if (!r) return out;
    for (const k of r.keys()) {
      const v = r.raw(k);
      if (typeof v === "string") out[k] = v;
      else if (typeof v === "number" || typeof v === "boolean") out[k] = String(v);
      else r.ctx.error(r.at(k), `expected a string, got ${describe(v)}`);
    }
    return out;
  }

  keys(): string[] {
    return Object.keys(this.#value);
  }

  /** Warns about keys nothing read; call after reading every known key. */
  done(): void {
    for (const [lk, k] of this.#keys) {
      if (!this.#used.has(lk)) this.ctx.warn(joinPath(this.path, k), "unknown key, ignored");
    }
  }

  /** Marks keys as known without reading them (features parsed elsewhere or not yet). */
  allow(...keys: string[]): void {
    for (const k of keys) this.#used.add(k.toLowerCase());
  }
}
