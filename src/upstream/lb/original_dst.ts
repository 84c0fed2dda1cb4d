/**
 * LB_ORIGINAL_DST: the host is where the downstream connection was originally headed
 * (`ctx.originalDestination`: SO_ORIGINAL_DST or the original-destination header). The cluster
 * makes and caches such hosts on demand (`hostFor`), so the configured host list is usually
 * empty. No destination, or a destination host excluded by the request, gives undefined.
 * Health is not consulted: there is no other host to fall back to.
 */

import type { Address } from "../../config/model.ts";
import type { Host, LbContext, LoadBalancer } from "../types.ts";
import { excluded, excludeSet } from "./_usable.ts";

/** Where on-demand hosts come from: ClusterImpl. */
export interface OriginalDstHostSource {
  hostFor(address: Address): Host;
}

export class OriginalDstLoadBalancer implements LoadBalancer {
  readonly #source: OriginalDstHostSource | undefined;

  constructor(source: OriginalDstHostSource | undefined) {
    this.#source = source;
  }

  chooseHost(ctx?: LbContext): Host | undefined {
    const dest = ctx?.originalDestination;
    if (dest === undefined || this.#source === undefined) return undefined;
    const h = this.#source.hostFor(dest);
    return excluded(h, excludeSet(ctx)) ? undefined : h;
  }
}

/** The host source of a balancer: the one given, else the hosts' cluster when it has hostFor. */
export function hostSourceOf(
  hosts: readonly Host[],
  given: OriginalDstHostSource | undefined,
): OriginalDstHostSource | undefined {
  if (given) return given;
  const c = hosts[0]?.cluster as Partial<OriginalDstHostSource> | undefined;
  return typeof c?.hostFor === "function" ? (c as OriginalDstHostSource) : undefined;
}
