/**
 * LB_LEAST_REQUEST: power of `choiceCount` random choices, keeping the host with the fewest
 * active requests. When weights differ, candidates compare by (active + 1) / weight, Envoy's
 * effective weight with active_request_bias 1, so a heavier host takes proportionally more.
 * Candidates are eligible hosts (panic threshold applied).
 */

import type { Host, LbContext, LoadBalancer } from "../types.ts";
import {
  type BalancerOptions,
  DEFAULT_PANIC_THRESHOLD,
  excludeSet,
  randomUsable,
} from "./_usable.ts";

export interface LeastRequestOptions extends BalancerOptions {
  /** Random candidates compared per pick; Envoy's and MOSN's default is 2. */
  choiceCount?: number;
}

export class LeastRequestLoadBalancer implements LoadBalancer {
  readonly #hosts: readonly Host[];
  readonly #random: () => number;
  readonly #choiceCount: number;
  readonly #weighted: boolean;
  readonly #threshold: number;

  constructor(
    hosts: readonly Host[],
    random: () => number = Math.random,
    options: LeastRequestOptions = {},
  ) {
    this.#hosts = hosts;
    this.#random = random;
    this.#choiceCount = Math.max(1, options.choiceCount ?? 2);
    this.#threshold = options.healthyPanicThreshold ?? DEFAULT_PANIC_THRESHOLD;
    this.#weighted = hosts.some((h) => h.weight !== hosts[0]!.weight);
  }

  chooseHost(ctx?: LbContext): Host | undefined {
    const exclude = excludeSet(ctx);
    let best = randomUsable(this.#hosts, exclude, this.#random, this.#threshold);
    if (best === undefined) return undefined;
    let bestScore = this.#score(best);
    for (let i = 1; i < this.#choiceCount; i++) {
      const h = randomUsable(this.#hosts, exclude, this.#random, this.#threshold)!;
      const s = this.#score(h);
      if (s < bestScore) {
        best = h;
        bestScore = s;
      }
    }
    return best;
  }

  #score(h: Host): number {
    if (!this.#weighted) return h.activeRequests;
    return (h.activeRequests + 1) / (h.weight > 0 ? h.weight : Number.MIN_VALUE);
  }
}
