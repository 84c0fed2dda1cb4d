/** The upstream layer's public face: clusters, hosts and the balancer registry. */

export { ClusterManagerImpl } from "./cluster_manager.ts";
export { ClusterImpl, type ClusterOptions } from "./cluster.ts";
export { HostImpl } from "./host.ts";
export { type LoadBalancerFactory, loadBalancers } from "./lb/registry.ts";
export type { Cluster, ClusterManager, Host, LbContext, LoadBalancer } from "./types.ts";
