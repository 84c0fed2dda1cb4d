/** Parses the tcp_proxy filter config: MOSN's keys, cluster references checked. */

import type { CidrRange, TcpProxyConfig, TcpProxyRoute } from "../../../config/model.ts";
import { describe, ObjReader } from "../../../config/reader.ts";
import { isIPv4, isIPv6 } from "../../../network/address.ts";
import type { ConfigRefs } from "../types.ts";

export function parseTcpProxyConfig(r: ObjReader, refs: ConfigRefs): TcpProxyConfig {
  const cluster = r.str("cluster", "");
  if (cluster && !refs.clusterNames.has(cluster)) {
    r.ctx.error(r.at("cluster"), `unknown cluster ${JSON.stringify(cluster)}`);
  }
  const routes: TcpProxyRoute[] = [];
  for (const item of r.arr("routes")) {
    const rr = ObjReader.of(r.ctx, item.value, item.path);
    if (!rr) continue;
    const rc = rr.reqStr("cluster");
    if (rc && !refs.clusterNames.has(rc)) {
      r.ctx.error(rr.at("cluster"), `unknown cluster ${JSON.stringify(rc)}`);
    }
    routes.push({
      cluster: rc,
      destinationAddrs: cidrs(rr, "destination_addrs"),
      sourceAddrs: cidrs(rr, "source_addrs"),
      destinationPorts: ports(rr, "destination_port"),
      sourcePorts: ports(rr, "source_port"),
    });
    rr.done();
  }
  if (!cluster && routes.length === 0) {
    r.ctx.error(r.at("cluster"), "is required when no routes are given");
  }
  const cfg: TcpProxyConfig = {
    statPrefix: r.str("stat_prefix", ""),
    cluster,
    routes,
    maxConnectAttempts: r.int("max_connect_attempts", 1, 1, 100),
    idleTimeoutMs: r.duration("idle_timeout", 0),
  };
  r.done();
  return cfg;
}

function cidrs(r: ObjReader, key: string): CidrRange[] {
  const out: CidrRange[] = [];
  for (const item of r.arr(key)) {
    const c = ObjReader.of(r.ctx, item.value, item.path);
    if (!c) continue;
    const address = c.reqStr("address");
    if (address && !isIPv4(address) && !isIPv6(address)) {
      r.ctx.error(c.at("address"), `expected an IP address, got ${describe(address)}`);
    }
    const max = address.includes(":") ? 128 : 32;
    out.push({ address, prefixLen: c.int("length", max, 0, max) });
    c.done();
  }
  return out;
}

/** "80", "8000-9000" or a comma list of both. */
function ports(r: ObjReader, key: string): [number, number][] {
  const v = r.raw(key);
  if (v === undefined || v === null || v === "") return [];
  const text = typeof v === "number" ? String(v) : v;
  const out: [number, number][] = [];
  if (typeof text === "string") {
    for (const part of text.split(",")) {
      const m = /^\s*([0-9]{1,5})\s*(?:-\s*([0-9]{1,5})\s*)?$/.exec(part);
      const from = m ? Number(m[1]) : NaN;
      const to = m ? Number(m[2] ?? m[1]) : NaN;
      if (!m || from > to || to > 65535) {
        r.ctx.error(r.at(key), `expected ports like "80" or "8000-9000", got ${describe(v)}`);
        return [];
      }
      out.push([from, to]);
    }
    return out;
  }
  r.ctx.error(r.at(key), `expected ports like "80" or "8000-9000", got ${describe(v)}`);
  return [];
}
