/** LB_RANDOM: a uniformly random eligible host per pick (panic threshold applied). */

import type { Host, LbContext, LoadBalancer } from "../types.ts";
import {
  type BalancerOptions,
  DEFAULT_PANIC_THRESHOLD,
  excludeSet,
  randomUsable,
} from "./_usable.ts";

export class RandomLoadBalancer implements LoadBalancer {
  readonly #hosts: readonly Host[];
  readonly #random: () => number;
  readonly #threshold: number;

  constructor(
    hosts: readonly Host[],
    random: () => number = Math.random,
    options: BalancerOptions = {},
  ) {
    this.#hosts = hosts;
    this.#random = random;
    this.#threshold = options.healthyPanicThreshold ?? DEFAULT_PANIC_THRESHOLD;
  }

  chooseHost(ctx?: LbContext): Host | undefined {
    return randomUsable(this.#hosts, excludeSet(ctx), this.#random, this.#threshold);
  }
}
