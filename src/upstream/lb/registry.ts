/** The load balancer registry, keyed by MOSN's `lb_type`; built-ins listed here. */

import { Registry } from "../../common/registry.ts";
import type { LbType } from "../../config/model.ts";
import type { Host, LoadBalancer } from "../types.ts";
import { LeastRequestLoadBalancer } from "./least_request.ts";
import { RandomLoadBalancer } from "./random.ts";
import { RoundRobinLoadBalancer } from "./round_robin.ts";
import { WeightedRoundRobinLoadBalancer } from "./weighted_round_robin.ts";

/** Builds a balancer over a cluster's hosts; `random` (default Math.random) is for tests. */
export type LoadBalancerFactory = (
  hosts: readonly Host[],
  random?: () => number,
) => LoadBalancer;

export const loadBalancers = new Registry<LoadBalancerFactory>("load balancer");

const builtins: Readonly<Record<LbType, LoadBalancerFactory>> = {
  LB_RANDOM: (hosts, random) => new RandomLoadBalancer(hosts, random),
  LB_ROUNDROBIN: (hosts, random) => new RoundRobinLoadBalancer(hosts, random),
  LB_WEIGHTED_ROUNDROBIN: (hosts) => new WeightedRoundRobinLoadBalancer(hosts),
  LB_LEAST_REQUEST: (hosts, random) => new LeastRequestLoadBalancer(hosts, random),
};

for (const [name, factory] of Object.entries(builtins)) loadBalancers.register(name, factory);
