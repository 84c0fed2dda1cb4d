/**
 * LB_RING_HASH: a ketama-style consistent-hash ring. Each host gets ring points at
 * hash("<address>_<n>") for n = 0, 1, …; a key goes to the first point at or after its own hash
 * (binary search, wrapping around). Point counts follow weights: a host of the smallest weight
 * gets `perUnit` points and a host of k times that weight k·perUnit, where perUnit is the
 * smallest power of two that brings the ring to at least `minimumRingSize` points. Rounding to a
 * power of two keeps per-host point counts unchanged when a host joins or leaves (unless the
 * ring crosses a power-of-two boundary), so only the keys of the changed host move. The ring is
 * capped at `maximumRingSize` points (every host keeps at least one).
 *
 * Health: the ring spans every host. A healthy, non-excluded host at the key's point is the
 * answer; otherwise the walk goes on clockwise to the first eligible host — exactly the host a
 * ring rebuilt over the healthy hosts would give (Envoy's behaviour), without rebuilding, and
 * keys of healthy hosts never move. In panic mode (see _usable.ts) health is ignored. Without a
 * hash key the balancer behaves like LB_RANDOM.
 */

import type { Host, LbContext, LoadBalancer } from "../types.ts";
import { hash32 } from "./_hash.ts";
import {
  type BalancerOptions,
  DEFAULT_PANIC_THRESHOLD,
  eligible,
  excludeSet,
  inPanic,
  randomUsable,
  usable,
} from "./_usable.ts";

export const DEFAULT_MINIMUM_RING_SIZE = 1024;
export const DEFAULT_MAXIMUM_RING_SIZE = 8_388_608;

export interface RingHashOptions extends BalancerOptions {
  minimumRingSize?: number;
  maximumRingSize?: number;
}

export class RingHashLoadBalancer implements LoadBalancer {
  readonly #hosts: readonly Host[];
  readonly #random: () => number;
  readonly #threshold: number;
  /** Point hashes, ascending. */
  readonly #points: Uint32Array;
  /** Host index per point. */
  readonly #owners: Int32Array;

  constructor(
    hosts: readonly Host[],
    random: () => number = Math.random,
    options: RingHashOptions = {},
  ) {
    this.#hosts = hosts;
    this.#random = random;
    this.#threshold = options.healthyPanicThreshold ?? DEFAULT_PANIC_THRESHOLD;
    const ring = buildRing(
      hosts,
      options.minimumRingSize ?? DEFAULT_MINIMUM_RING_SIZE,
      options.maximumRingSize ?? DEFAULT_MAXIMUM_RING_SIZE,
    );
    this.#points = ring.points;
    this.#owners = ring.owners;
  }

  /** Ring points per host index (for tests and /clusters). */
  pointCounts(): number[] {
    const counts = this.#hosts.map(() => 0);
    for (const o of this.#owners) counts[o]!++;
    return counts;
  }

  chooseHost(ctx?: LbContext): Host | undefined {
    const hosts = this.#hosts;
    if (hosts.length === 0) return undefined;
    const exclude = excludeSet(ctx);
    const key = ctx?.hashKey;
    if (key === undefined) return randomUsable(hosts, exclude, this.#random, this.#threshold);
    const at = this.#find(hash32(key));
    const h = hosts[this.#owners[at]!]!;
    if (usable(h, exclude)) return h;
    return this.#walk(at, exclude);
  }

  /** The index of the first point >= hash, wrapping to 0. */
  #find(hash: number): number {
    const points = this.#points;
    let lo = 0;
    let hi = points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (points[mid]! < hash) lo = mid + 1;
      else hi = mid;
    }
    return lo < points.length ? lo : 0;
  }

  #walk(at: number, exclude: ReadonlySet<Host> | undefined): Host | undefined {
    const hosts = this.#hosts;
    const panic = inPanic(hosts, this.#threshold);
    let any = false;
    for (let i = 0; i < hosts.length && !any; i++) any = eligible(hosts[i]!, exclude, panic);
    if (!any) return undefined;
    const owners = this.#owners;
    const n = owners.length;
    for (let i = at, step = 0; step < n; step++) {
      const h = hosts[owners[i]!]!;
      if (eligible(h, exclude, panic)) return h;
      i = i + 1 < n ? i + 1 : 0;
    }
    return undefined;
  }
}

const HOST_LIMIT = 2 ** 21;

/** The ring over `hosts`: sorted point hashes and the host index of each. */
export function buildRing(
  hosts: readonly Host[],
  minimumRingSize: number,
  maximumRingSize: number,
): { points: Uint32Array; owners: Int32Array } {
  const n = hosts.length;
  if (n === 0) return { points: new Uint32Array(0), owners: new Int32Array(0) };
  const weights = hosts.map((h) => (h.weight > 0 ? h.weight : 1));
  const minWeight = Math.min(...weights);
  let units = 0;
  for (const w of weights) units += w / minWeight;
  const min = Math.max(1, minimumRingSize);
  const max = Math.max(1, maximumRingSize);
  let perUnit = 1;
  while (perUnit * units < min) perUnit *= 2;
  if (perUnit * units > max) perUnit = max / units;
  const counts = weights.map((w) => Math.max(1, Math.round((w / minWeight) * perUnit)));
  let total = 0;
  for (const c of counts) total += c;
  // Sorted as one number per point, hash · 2^21 + host index (exact below 2^53), so ties on a
  // hash resolve the same way every time and no comparator callback runs.
  if (n > HOST_LIMIT) throw new RangeError(`ring hash supports at most ${HOST_LIMIT} hosts`);
  const keys = new Float64Array(total);
  let k = 0;
  for (let i = 0; i < n; i++) {
    const prefix = `${hosts[i]!.addressText}_`;
    for (let j = 0; j < counts[i]!; j++) keys[k++] = hash32(prefix + j) * HOST_LIMIT + i;
  }
  keys.sort();
  const points = new Uint32Array(total);
  const owners = new Int32Array(total);
  for (let p = 0; p < total; p++) {
    const key = keys[p]!;
    const hash = Math.floor(key / HOST_LIMIT);
    points[p] = hash;
    owners[p] = key - hash * HOST_LIMIT;
  }
  return { points, owners };
}
