/**
 * LB_WEIGHTED_ROUNDROBIN: nginx's smooth weighted round robin. Deterministic and evenly
 * interleaved (weights 3:1 give a a b a, not a a a b); O(hosts) per pick, which beats a heap
 * (Envoy's EDF) at the host counts a cluster config lists. Panic threshold applied.
 */

import type { Host, LbContext, LoadBalancer } from "../types.ts";
import {
  type BalancerOptions,
  DEFAULT_PANIC_THRESHOLD,
  excluded,
  excludeSet,
  inPanic,
} from "./_usable.ts";

export class WeightedRoundRobinLoadBalancer implements LoadBalancer {
  readonly #hosts: readonly Host[];
  readonly #threshold: number;
  /** Each host's running score, indexed like #hosts. */
  readonly #current: Float64Array;

  constructor(hosts: readonly Host[], options: BalancerOptions = {}) {
    this.#hosts = hosts;
    this.#threshold = options.healthyPanicThreshold ?? DEFAULT_PANIC_THRESHOLD;
    this.#current = new Float64Array(hosts.length);
  }

  chooseHost(ctx?: LbContext): Host | undefined {
    const hosts = this.#hosts;
    const current = this.#current;
    const exclude = excludeSet(ctx);
    let panic: boolean | undefined;
    let total = 0;
    let best = -1;
    for (let i = 0; i < hosts.length; i++) {
      const h = hosts[i]!;
      if (excluded(h, exclude)) continue;
      if (!h.healthy && !(panic ??= inPanic(hosts, this.#threshold))) continue;
      const w = h.weight > 0 ? h.weight : 0;
      current[i]! += w;
      total += w;
      if (best < 0 || current[i]! > current[best]!) best = i;
    }
    if (best < 0) return undefined;
    current[best]! -= total;
    return hosts[best];
  }
}
