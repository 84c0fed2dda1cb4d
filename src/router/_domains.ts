/**
 * Virtual-host selection by Host/:authority. Order (Envoy's, with port leniency):
 * 1. exact domain, first with the request's port ("a.com:8080"), then without it ("a.com");
 * 2. suffix wildcards `*.a.com` / `*-b.a.com`, longest first (host with port, then without);
 * 3. prefix wildcards `a.*`, longest first (same);
 * 4. `*`.
 * A domain without a port therefore matches any port; one with a port only that port. The
 * wildcard never matches an empty label: `*.a.com` does not match `.a.com`. Comparison is
 * case-insensitive (domains are stored lower-cased).
 *
 * Results are cached by the authority exactly as received (at most 4096 keys of ≤ 300 chars,
 * cleared when full), so a repeat Host costs one Map lookup, with or without port or wildcard.
 */

import { portStart } from "./_rewrite.ts";

const CACHE_MAX = 4096;
/** Longer authorities (not a valid host:port anyway) are looked up but never cached. */
const CACHE_KEY_MAX = 300;

export class DomainIndex<T> {
  readonly #cache = new Map<string, T | null>();
  readonly #exact = new Map<string, T>();
  #suffixes: { text: string; value: T }[] = [];
  #prefixes: { text: string; value: T }[] = [];
  #default: T | undefined;
  #onlyDefault = false;

  /** `domain` as normalized by the config parser (lower-case, no `:*`). */
  add(domain: string, value: T): void {
    const d = domain.toLowerCase();
    if (d === "*") this.#default = value;
    else if (d.startsWith("*")) this.#suffixes.push({ text: d.slice(1), value });
    else if (d.endsWith("*")) this.#prefixes.push({ text: d.slice(0, -1), value });
    else this.#exact.set(d, value);
  }

  /** Call once after every `add`. */
  seal(): void {
    // Stable sorts: equal lengths keep config order.
    this.#suffixes.sort((a, b) => b.text.length - a.text.length);
    this.#prefixes.sort((a, b) => b.text.length - a.text.length);
    this.#onlyDefault = this.#exact.size === 0 && this.#suffixes.length === 0 &&
      this.#prefixes.length === 0;
  }

  find(authority: string): T | undefined {
    if (this.#onlyDefault) return this.#default;
    const cached = this.#cache.get(authority);
    if (cached !== undefined) return cached ?? undefined;
    const v = this.#lookup(authority);
    if (authority.length <= CACHE_KEY_MAX) {
      if (this.#cache.size >= CACHE_MAX) this.#cache.clear();
      this.#cache.set(authority, v ?? null);
    }
    return v;
  }

  #lookup(authority: string): T | undefined {
    const host = authority.toLowerCase();
    let v = this.#exact.get(host);
    if (v !== undefined) return v;
    const p = portStart(host);
    const bare = p < 0 ? undefined : host.slice(0, p);
    if (bare !== undefined) {
      v = this.#exact.get(bare);
      if (v !== undefined) return v;
    }
    const suffixes = this.#suffixes;
    if (suffixes.length > 0) {
      v = findSuffix(suffixes, host);
      if (v === undefined && bare !== undefined) v = findSuffix(suffixes, bare);
      if (v !== undefined) return v;
    }
    const prefixes = this.#prefixes;
    if (prefixes.length > 0) {
      v = findPrefix(prefixes, host);
      if (v === undefined && bare !== undefined) v = findPrefix(prefixes, bare);
      if (v !== undefined) return v;
    }
    return this.#default;
  }
}

function findSuffix<T>(list: { text: string; value: T }[], host: string): T | undefined {
  for (let i = 0; i < list.length; i++) {
    const e = list[i]!;
    if (host.length > e.text.length && host.endsWith(e.text)) return e.value;
  }
  return undefined;
}

function findPrefix<T>(list: { text: string; value: T }[], host: string): T | undefined {
  for (let i = 0; i < list.length; i++) {
    const e = list[i]!;
    if (host.length > e.text.length && host.startsWith(e.text)) return e.value;
  }
  return undefined;
}
