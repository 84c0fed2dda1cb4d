/**
 * Host filtering shared by the balancers, including Envoy's panic threshold: when fewer than
 * `healthyPanicThreshold` percent of a balancer's hosts are healthy, health is ignored and every
 * host not excluded by the request is eligible (0 disables panic). Allocation-free, and the
 * panic check (a scan of the hosts) runs only when a pick lands on an unhealthy host, so picks
 * stay O(1) while every host is healthy.
 */

import type { ClusterConfig } from "../../config/model.ts";
import type { Host, LbContext } from "../types.ts";

/** Envoy's default healthy_panic_threshold, in percent. */
export const DEFAULT_PANIC_THRESHOLD = 50;

/** The cluster's `lb_config.healthy_panic_threshold`, or the default. */
export function panicThreshold(config: ClusterConfig | undefined): number {
  return config?.lbConfig?.healthyPanicThreshold ?? DEFAULT_PANIC_THRESHOLD;
}

/** The exclude set worth consulting: undefined when absent or empty, so callers skip `has`. */
export function excludeSet(ctx: LbContext | undefined): ReadonlySet<Host> | undefined {
  const ex = ctx?.exclude;
  return ex !== undefined && ex.size > 0 ? ex : undefined;
}

/** Healthy and not excluded: always an acceptable pick, panic or not. */
export function usable(host: Host, exclude: ReadonlySet<Host> | undefined): boolean {
  return host.healthy && (exclude === undefined || !exclude.has(host));
}

export function excluded(host: Host, exclude: ReadonlySet<Host> | undefined): boolean {
  return exclude !== undefined && exclude.has(host);
}

/**
 * True when the healthy share of `hosts` is below `threshold` percent (Envoy counts hosts, not
 * weights). An empty list never panics; a threshold of 0 never does either.
 */
export function inPanic(hosts: readonly Host[], threshold: number): boolean {
  const n = hosts.length;
  if (threshold <= 0 || n === 0) return false;
  let healthy = 0;
  for (let i = 0; i < n; i++) if (hosts[i]!.healthy) healthy++;
  return healthy * 100 < threshold * n;
}

/** Eligible for a pick: not excluded, and healthy unless the balancer is in panic mode. */
export function eligible(
  host: Host,
  exclude: ReadonlySet<Host> | undefined,
  panic: boolean,
): boolean {
  return (panic || host.healthy) && (exclude === undefined || !exclude.has(host));
}

/** An index in [0, n) from a generator in [0, 1); clamped in case the generator returns 1. */
export function randomIndex(random: () => number, n: number): number {
  const i = Math.floor(random() * n);
  return i < n ? i : n - 1;
}

/**
 * A uniformly random eligible host (see `eligible`, panic decided by `threshold`). Tries one
 * random index first (the common case: that host is healthy and not excluded); only when that
 * misses does it decide panic mode, count the eligible hosts and pick among them.
 */
export function randomUsable(
  hosts: readonly Host[],
  exclude: ReadonlySet<Host> | undefined,
  random: () => number,
  threshold: number = DEFAULT_PANIC_THRESHOLD,
): Host | undefined {
  const n = hosts.length;
  if (n === 0) return undefined;
  const first = hosts[randomIndex(random, n)]!;
  if (usable(first, exclude)) return first;
  const panic = inPanic(hosts, threshold);
  if (panic && !excluded(first, exclude)) return first;
  let count = 0;
  for (let i = 0; i < n; i++) if (eligible(hosts[i]!, exclude, panic)) count++;
  if (count === 0) return undefined;
  let k = randomIndex(random, count);
  for (let i = 0; i < n; i++) {
    const h = hosts[i]!;
    if (!eligible(h, exclude, panic)) continue;
    if (k-- === 0) return h;
  }
  return undefined;
}

/** Options every built-in balancer takes. */
export interface BalancerOptions {
  /** Percent; default 50 (Envoy); 0 = never panic. See `inPanic`. */
  healthyPanicThreshold?: number;
}
