/** Picks the tcp_proxy cluster for a connection from its source and destination. */

import type { CidrRange, TcpProxyConfig } from "../../../config/model.ts";
import { cidrContains } from "../../../network/address.ts";

export interface Endpoints {
  readonly sourceHost: string;
  readonly sourcePort: number;
  readonly destinationHost: string;
  readonly destinationPort: number;
}

function inCidrs(list: readonly CidrRange[], ip: string): boolean {
  if (list.length === 0) return true;
  for (const c of list) if (cidrContains(c.address, c.prefixLen, ip)) return true;
  return false;
}

function inPorts(list: readonly (readonly [number, number])[], port: number): boolean {
  if (list.length === 0) return true;
  for (const [a, b] of list) if (port >= a && port <= b) return true;
  return false;
}

/** The first route that matches wins; else the default cluster ("" when there is none). */
export function selectCluster(cfg: TcpProxyConfig, ep: Endpoints): string {
  for (const r of cfg.routes) {
    if (
      inCidrs(r.destinationAddrs, ep.destinationHost) &&
      inPorts(r.destinationPorts, ep.destinationPort) &&
      inCidrs(r.sourceAddrs, ep.sourceHost) &&
      inPorts(r.sourcePorts, ep.sourcePort)
    ) return r.cluster;
  }
  return cfg.cluster;
}
