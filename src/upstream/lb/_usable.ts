/** Host filtering shared by the balancers; allocation-free so every pick stays cheap. */

import type { Host, LbContext } from "../types.ts";

/** The exclude set worth consulting: undefined when absent or empty, so callers skip `has`. */
export function excludeSet(ctx: LbContext | undefined): ReadonlySet<Host> | undefined {
  const ex = ctx?.exclude;
  return ex !== undefined && ex.size > 0 ? ex : undefined;
}

export function usable(host: Host, exclude: ReadonlySet<Host> | undefined): boolean {
  return host.healthy && (exclude === undefined || !exclude.has(host));
}

/** An index in [0, n) from a generator in [0, 1); clamped in case the generator returns 1. */
export function randomIndex(random: () => number, n: number): number {
  const i = Math.floor(random() * n);
  return i < n ? i : n - 1;
}

/**
 * A uniformly random usable host. Tries one random index first (the common case, all hosts
 * usable); only when that misses does it count the usable hosts and pick among them.
 */
export function randomUsable(
  hosts: readonly Host[],
  exclude: ReadonlySet<Host> | undefined,
  random: () => number,
): Host | undefined {
  const n = hosts.length;
  if (n === 0) return undefined;
  const first = hosts[randomIndex(random, n)]!;
  if (usable(first, exclude)) return first;
  let count = 0;
  for (const h of hosts) if (usable(h, exclude)) count++;
  if (count === 0) return undefined;
  let k = randomIndex(random, count);
  for (const h of hosts) {
    if (!usable(h, exclude)) continue;
    if (k-- === 0) return h;
  }
  return undefined;
}
