/**
 * Subset load balancing (MOSN `lb_subset_config`, Envoy's subset LB). Every selector (a list of
 * metadata keys) splits the hosts that carry all of its keys into subsets by their values; each
 * subset gets its own balancer of the cluster's lb_type, built once with the balancer.
 *
 * A pick with `ctx.metadataMatch` goes to the subset of the selector whose key set equals the
 * match's keys and whose values equal the match's values. With no match given, an empty one, or
 * no such subset, the fallback policy decides: NO_FALLBACK fails the pick (undefined),
 * ANY_ENDPOINT balances over every host, DEFAULT_SUBSET over the hosts whose metadata contain
 * every `default_subset` pair (all hosts when it is empty). A subset that exists answers even
 * when none of its hosts is usable (its own balancer applies health and panic mode), as in Envoy.
 */

import type { ClusterConfig, LbSubsetConfig } from "../../config/model.ts";
import type { Host, LbContext, LoadBalancer } from "../types.ts";

/** Builds the per-subset balancers (the cluster's lb_type, without subset wrapping). */
export type InnerBalancerFactory = (
  hosts: readonly Host[],
  random: (() => number) | undefined,
  config: ClusterConfig | undefined,
) => LoadBalancer;

interface Selector {
  /** Sorted metadata keys. */
  readonly keys: readonly string[];
  /** Subset balancers by the JSON of the values, in `keys` order. */
  readonly subsets: Map<string, LoadBalancer>;
}

const NONE: LoadBalancer = { chooseHost: () => undefined };

export class SubsetLoadBalancer implements LoadBalancer {
  /** By the JSON of a selector's sorted keys. */
  readonly #selectors = new Map<string, Selector>();
  readonly #fallback: LoadBalancer | undefined;
  /** Route metadata_match objects are long-lived: remember where each one leads. */
  readonly #cache = new WeakMap<object, LoadBalancer | null>();

  constructor(
    hosts: readonly Host[],
    subset: LbSubsetConfig,
    inner: InnerBalancerFactory,
    random?: () => number,
    config?: ClusterConfig,
  ) {
    const innerConfig = withoutSubset(config);
    const make = (hs: readonly Host[]) => inner(hs, random, innerConfig);

    for (const raw of subset.subsetSelectors) {
      const keys = [...new Set(raw)].sort();
      if (keys.length === 0) continue;
      const id = JSON.stringify(keys);
      if (this.#selectors.has(id)) continue;
      const groups = new Map<string, Host[]>();
      for (const h of hosts) {
        if (!keys.every((k) => Object.hasOwn(h.metadata, k))) continue;
        const values = JSON.stringify(keys.map((k) => h.metadata[k]));
        let g = groups.get(values);
        if (!g) groups.set(values, g = []);
        g.push(h);
      }
      const subsets = new Map<string, LoadBalancer>();
      for (const [values, hs] of groups) subsets.set(values, make(hs));
      this.#selectors.set(id, { keys, subsets });
    }

    switch (subset.fallBackPolicy) {
      case "NO_FALLBACK":
        this.#fallback = undefined;
        break;
      case "ANY_ENDPOINT":
        this.#fallback = make(hosts);
        break;
      case "DEFAULT_SUBSET": {
        const want = Object.entries(subset.defaultSubset);
        this.#fallback = make(hosts.filter((h) => want.every(([k, v]) => h.metadata[k] === v)));
        break;
      }
    }
  }

  chooseHost(ctx?: LbContext): Host | undefined {
    const match = ctx?.metadataMatch;
    const lb = match === undefined ? undefined : this.#subsetFor(match);
    return (lb ?? this.#fallback ?? NONE).chooseHost(ctx);
  }

  /** The balancer of the subset `match` names, or undefined when there is none. */
  #subsetFor(match: Readonly<Record<string, string>>): LoadBalancer | undefined {
    const cached = this.#cache.get(match);
    if (cached !== undefined) return cached ?? undefined;
    const keys = Object.keys(match).sort();
    const selector = keys.length > 0 ? this.#selectors.get(JSON.stringify(keys)) : undefined;
    const lb = selector?.subsets.get(JSON.stringify(keys.map((k) => match[k])));
    this.#cache.set(match, lb ?? null);
    return lb;
  }
}

function withoutSubset(config: ClusterConfig | undefined): ClusterConfig | undefined {
  if (config?.lbSubset === undefined) return config;
  const { lbSubset: _, ...rest } = config;
  return rest;
}
