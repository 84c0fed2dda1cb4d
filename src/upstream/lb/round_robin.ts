/** LB_ROUNDROBIN: hosts in turn, skipping unusable ones. */

import type { Host, LbContext, LoadBalancer } from "../types.ts";
import { excludeSet, randomIndex, usable } from "./_usable.ts";

export class RoundRobinLoadBalancer implements LoadBalancer {
  readonly #hosts: readonly Host[];
  #next: number;

  /** `random` only picks the first host (like Envoy), so new balancers do not all start at 0. */
  constructor(hosts: readonly Host[], random?: () => number) {
    this.#hosts = hosts;
    this.#next = random && hosts.length > 0 ? randomIndex(random, hosts.length) : 0;
  }

  chooseHost(ctx?: LbContext): Host | undefined {
    const hosts = this.#hosts;
    const n = hosts.length;
    const exclude = excludeSet(ctx);
    for (let tried = 0; tried < n; tried++) {
      const i = this.#next;
      this.#next = i + 1 < n ? i + 1 : 0;
      const h = hosts[i]!;
      if (usable(h, exclude)) return h;
    }
    return undefined;
  }
}
