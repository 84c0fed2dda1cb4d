/** LB_ROUNDROBIN: hosts in turn, skipping ineligible ones (panic threshold applied). */

import type { Host, LbContext, LoadBalancer } from "../types.ts";
import {
  type BalancerOptions,
  DEFAULT_PANIC_THRESHOLD,
  excluded,
  excludeSet,
  inPanic,
  randomIndex,
} from "./_usable.ts";

export class RoundRobinLoadBalancer implements LoadBalancer {
  readonly #hosts: readonly Host[];
  readonly #threshold: number;
  #next: number;

  /** `random` only picks the first host (like Envoy), so new balancers do not all start at 0. */
  constructor(hosts: readonly Host[], random?: () => number, options: BalancerOptions = {}) {
    this.#hosts = hosts;
    this.#threshold = options.healthyPanicThreshold ?? DEFAULT_PANIC_THRESHOLD;
    this.#next = random && hosts.length > 0 ? randomIndex(random, hosts.length) : 0;
  }

  chooseHost(ctx?: LbContext): Host | undefined {
    const hosts = this.#hosts;
    const n = hosts.length;
    const exclude = excludeSet(ctx);
    /** Decided on the first unhealthy host met, so all-healthy picks never scan. */
    let panic: boolean | undefined;
    for (let tried = 0; tried < n; tried++) {
      const i = this.#next;
      this.#next = i + 1 < n ? i + 1 : 0;
      const h = hosts[i]!;
      if (excluded(h, exclude)) continue;
      if (h.healthy) return h;
      panic ??= inPanic(hosts, this.#threshold);
      if (panic) return h;
    }
    return undefined;
  }
}
