/**
 * The load balancer registry, keyed by MOSN's `lb_type`; built-ins listed here.
 *
 * Subset load balancing is applied by the registered factories themselves: every built-in
 * factory (except LB_ORIGINAL_DST, whose hosts are not known in advance) checks
 * `config.lbSubset` and, when set, returns a SubsetLoadBalancer whose subsets use the plain
 * balancer. So `loadBalancers.get(type)!(hosts, random, config)` and `createBalancer` build the
 * same thing; `createBalancer` also wraps factories registered from outside.
 */

import { MosnError } from "../../common/errors.ts";
import { Registry } from "../../common/registry.ts";
import type { ClusterConfig, LbType } from "../../config/model.ts";
import type { Host, LoadBalancer } from "../types.ts";
import { panicThreshold } from "./_usable.ts";
import { LeastRequestLoadBalancer } from "./least_request.ts";
import { MaglevLoadBalancer } from "./maglev.ts";
import {
  hostSourceOf,
  type OriginalDstHostSource,
  OriginalDstLoadBalancer,
} from "./original_dst.ts";
import { RandomLoadBalancer } from "./random.ts";
import { RingHashLoadBalancer } from "./ring_hash.ts";
import { RoundRobinLoadBalancer } from "./round_robin.ts";
import { SubsetLoadBalancer } from "./subset.ts";
import { WeightedRoundRobinLoadBalancer } from "./weighted_round_robin.ts";

export type { OriginalDstHostSource } from "./original_dst.ts";

/**
 * Builds a balancer over a cluster's hosts. `random` (default Math.random) is for tests;
 * `config` gives lb_config and lb_subset_config; `cluster` is where LB_ORIGINAL_DST gets its
 * on-demand hosts (ClusterImpl passes itself; without it the hosts' cluster is tried).
 */
export type LoadBalancerFactory = (
  hosts: readonly Host[],
  random?: () => number,
  config?: ClusterConfig,
  cluster?: OriginalDstHostSource,
) => LoadBalancer;

export const loadBalancers = new Registry<LoadBalancerFactory>("load balancer");

/** Factories that already handle `config.lbSubset` (or must not be wrapped). */
const subsetAware = new WeakSet<LoadBalancerFactory>();

/**
 * `inner`, plus subset load balancing when `config.lbSubset` is set: the subsets (and the
 * fallback) are balanced by `inner`.
 */
export function withSubsets(inner: LoadBalancerFactory): LoadBalancerFactory {
  if (subsetAware.has(inner)) return inner;
  const wrapped: LoadBalancerFactory = (hosts, random, config, cluster) => {
    const subset = config?.lbSubset;
    if (subset === undefined) return inner(hosts, random, config, cluster);
    return new SubsetLoadBalancer(
      hosts,
      subset,
      (hs, r, c) => inner(hs, r, c, cluster),
      random,
      config,
    );
  };
  subsetAware.add(wrapped);
  return wrapped;
}

/**
 * The balancer for a cluster: `config.lbType`'s factory with subset wrapping. Throws MosnError
 * REGISTRY_UNKNOWN when no balancer is registered under that name.
 */
export function createBalancer(
  hosts: readonly Host[],
  random: (() => number) | undefined,
  config: ClusterConfig,
  cluster?: OriginalDstHostSource,
): LoadBalancer {
  const factory = loadBalancers.get(config.lbType);
  if (!factory) {
    throw new MosnError(
      "REGISTRY_UNKNOWN",
      `cluster "${config.name}": unknown lb_type "${config.lbType}" (known: ${
        loadBalancers.names().join(", ")
      })`,
    );
  }
  return withSubsets(factory)(hosts, random, config, cluster);
}

const originalDst: LoadBalancerFactory = (hosts, _random, _config, cluster) =>
  new OriginalDstLoadBalancer(hostSourceOf(hosts, cluster));
subsetAware.add(originalDst);

const builtins: Readonly<Record<LbType, LoadBalancerFactory>> = {
  LB_RANDOM: withSubsets((hosts, random, config) =>
    new RandomLoadBalancer(hosts, random, { healthyPanicThreshold: panicThreshold(config) })
  ),
  LB_ROUNDROBIN: withSubsets((hosts, random, config) =>
    new RoundRobinLoadBalancer(hosts, random, { healthyPanicThreshold: panicThreshold(config) })
  ),
  LB_WEIGHTED_ROUNDROBIN: withSubsets((hosts, _random, config) =>
    new WeightedRoundRobinLoadBalancer(hosts, { healthyPanicThreshold: panicThreshold(config) })
  ),
  LB_LEAST_REQUEST: withSubsets((hosts, random, config) =>
    new LeastRequestLoadBalancer(hosts, random, {
      healthyPanicThreshold: panicThreshold(config),
      ...(config?.lbConfig ? { choiceCount: config.lbConfig.choiceCount } : {}),
    })
  ),
  LB_MAGLEV: withSubsets((hosts, random, config) =>
    new MaglevLoadBalancer(hosts, random, {
      healthyPanicThreshold: panicThreshold(config),
      ...(config?.lbConfig ? { tableSize: config.lbConfig.maglevTableSize } : {}),
    })
  ),
  LB_RING_HASH: withSubsets((hosts, random, config) =>
    new RingHashLoadBalancer(hosts, random, {
      healthyPanicThreshold: panicThreshold(config),
      ...(config?.lbConfig
        ? {
          minimumRingSize: config.lbConfig.minimumRingSize,
          maximumRingSize: config.lbConfig.maximumRingSize,
        }
        : {}),
    })
  ),
  LB_ORIGINAL_DST: originalDst,
};

for (const [name, factory] of Object.entries(builtins)) loadBalancers.register(name, factory);
