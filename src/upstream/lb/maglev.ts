/**
 * LB_MAGLEV: Maglev consistent hashing (Eisenbud et al., NSDI 2016, as in Envoy). A lookup table
 * of a prime size M (default 65537) is filled by the hosts in turns, each host walking its own
 * permutation of the slots — offset = h1(address) mod M, skip = h2(address) mod (M − 1) + 1 —
 * and taking the next slot still free. Weights set how often a host gets a turn (the heaviest
 * every round, a host of half that weight every other round), so table shares follow weights.
 * Hosts are filled in address order, so the table depends only on the set of (address, weight).
 *
 * A pick hashes `ctx.hashKey` (see _hash.ts) to a slot: O(1). Without a hash key the balancer
 * behaves like LB_RANDOM.
 *
 * Health: the main table spans every host and never changes. When the slot's host is healthy
 * and not excluded it is the answer — so keys of healthy hosts never move when another host
 * fails. Otherwise (slow path) the key is looked up in a second table built, like Envoy does,
 * over the healthy hosts only; it is rebuilt lazily, only when the healthy set differs from the
 * one it was built for. In panic mode (see _usable.ts) the main table is used regardless of
 * health. Hosts excluded by the request are skipped by walking the table onward from the slot.
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

export const DEFAULT_MAGLEV_TABLE_SIZE = 65537;

export interface MaglevOptions extends BalancerOptions {
  /** Lookup table size; rounded up to a prime. Default 65537. */
  tableSize?: number;
}

export class MaglevLoadBalancer implements LoadBalancer {
  readonly #hosts: readonly Host[];
  readonly #random: () => number;
  readonly #threshold: number;
  readonly #size: number;
  /** Host index per slot, over every host. */
  readonly #table: Int32Array;
  /** Over the hosts flagged healthy in #healthyMask; built on the first slow-path pick. */
  #healthyTable: Int32Array | undefined;
  readonly #healthyMask: Uint8Array;

  constructor(
    hosts: readonly Host[],
    random: () => number = Math.random,
    options: MaglevOptions = {},
  ) {
    this.#hosts = hosts;
    this.#random = random;
    this.#threshold = options.healthyPanicThreshold ?? DEFAULT_PANIC_THRESHOLD;
    this.#size = nextPrime(Math.max(3, Math.floor(options.tableSize ?? DEFAULT_MAGLEV_TABLE_SIZE)));
    this.#healthyMask = new Uint8Array(hosts.length);
    this.#table = buildMaglevTable(hosts, this.#healthyMask.fill(1), this.#size);
  }

  /** The table size actually used (a prime). */
  get tableSize(): number {
    return this.#size;
  }

  chooseHost(ctx?: LbContext): Host | undefined {
    const hosts = this.#hosts;
    if (hosts.length === 0) return undefined;
    const exclude = excludeSet(ctx);
    const key = ctx?.hashKey;
    if (key === undefined) return randomUsable(hosts, exclude, this.#random, this.#threshold);
    const slot = hash32(key) % this.#size;
    const h = hosts[this.#table[slot]!]!;
    if (usable(h, exclude)) return h;
    return this.#slowPick(slot, exclude);
  }

  #slowPick(slot: number, exclude: ReadonlySet<Host> | undefined): Host | undefined {
    const hosts = this.#hosts;
    const panic = inPanic(hosts, this.#threshold);
    let any = false;
    let changed = false;
    const mask = this.#healthyMask;
    for (let i = 0; i < hosts.length; i++) {
      const h = hosts[i]!;
      if (!any && eligible(h, exclude, panic)) any = true;
      if ((h.healthy ? 1 : 0) !== mask[i]) changed = true;
    }
    if (!any) return undefined;
    let table = this.#table;
    if (!panic) {
      if (changed || this.#healthyTable === undefined) {
        for (let i = 0; i < hosts.length; i++) mask[i] = hosts[i]!.healthy ? 1 : 0;
        this.#healthyTable = mask.every((b) => b === 1)
          ? this.#table
          : buildMaglevTable(hosts, mask, this.#size);
      }
      table = this.#healthyTable;
    }
    // Some eligible host is in `table` (it holds every host, or every healthy one), so this ends.
    const size = this.#size;
    for (let s = slot, n = 0; n < size; n++) {
      const h = hosts[table[s]!]!;
      if (eligible(h, exclude, panic)) return h;
      s = s + 1 < size ? s + 1 : 0;
    }
    return undefined;
  }
}

/**
 * Fills a table of `size` slots (a prime) with indexes of the hosts whose `members` flag is 1.
 * All slots stay -1 when there are none.
 */
export function buildMaglevTable(
  hosts: readonly Host[],
  members: Uint8Array,
  size: number,
): Int32Array {
  const table = new Int32Array(size).fill(-1);
  const order: number[] = [];
  for (let i = 0; i < hosts.length; i++) if (members[i] === 1) order.push(i);
  const m = order.length;
  if (m === 0) return table;
  order.sort((a, b) => compareHosts(hosts[a]!, hosts[b]!) || a - b);
  const next = new Float64Array(m);
  const skip = new Float64Array(m);
  const share = new Float64Array(m);
  const placed = new Float64Array(m);
  let maxWeight = 0;
  for (const i of order) maxWeight = Math.max(maxWeight, weightOf(hosts[i]!));
  for (let j = 0; j < m; j++) {
    const h = hosts[order[j]!]!;
    next[j] = hash32(h.addressText, 0x9e3779b9) % size;
    skip[j] = (hash32(h.addressText, 0x7f4a7c15) % (size - 1)) + 1;
    share[j] = weightOf(h) / maxWeight;
  }
  let filled = 0;
  for (let round = 1; filled < size; round++) {
    for (let j = 0; j < m && filled < size; j++) {
      // A host of relative weight w (0 < w <= 1) takes a turn in round r while it has placed
      // fewer than r·w entries: the heaviest takes every round, a host of half that every other.
      if (placed[j]! >= round * share[j]!) continue;
      let pos = next[j]!;
      while (table[pos] !== -1) {
        pos += skip[j]!;
        if (pos >= size) pos -= size;
      }
      table[pos] = order[j]!;
      pos += skip[j]!;
      next[j] = pos >= size ? pos - size : pos;
      placed[j]!++;
      filled++;
    }
  }
  return table;
}

function weightOf(h: Host): number {
  return h.weight > 0 ? h.weight : 1;
}

function compareHosts(a: Host, b: Host): number {
  return a.addressText < b.addressText ? -1 : a.addressText > b.addressText ? 1 : 0;
}

function isPrime(n: number): boolean {
  if (n < 2) return false;
  if (n % 2 === 0) return n === 2;
  for (let d = 3; d * d <= n; d += 2) if (n % d === 0) return false;
  return true;
}

/** The smallest prime >= n. */
export function nextPrime(n: number): number {
  while (!isPrime(n)) n++;
  return n;
}
