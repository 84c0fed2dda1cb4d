/** LB_RANDOM: a uniformly random usable host per pick. */

import type { Host, LbContext, LoadBalancer } from "../types.ts";
import { excludeSet, randomUsable } from "./_usable.ts";

export class RandomLoadBalancer implements LoadBalancer {
  readonly #hosts: readonly Host[];
  readonly #random: () => number;

  constructor(hosts: readonly Host[], random: () => number = Math.random) {
    this.#hosts = hosts;
    this.#random = random;
  }

  chooseHost(ctx?: LbContext): Host | undefined {
    return randomUsable(this.#hosts, excludeSet(ctx), this.#random);
  }
}
