/** The config the reload and upgrade load tests run: an HTTP listener and a bolt listener. */

import { simpleRouter } from "../_support/http.ts";
import { anyServiceRouter } from "../_support/rpc/proxy_doc.ts";

export interface LoadDocOptions {
  httpPort: number;
  rpcPort: number;
  /** HTTP origins: cluster name → address; the route goes to `routeTo`. */
  clusters: Record<string, string>;
  routeTo: string;
  sofa: string;
  /** Extra top-level keys (inherit_old_mosnconfig…). */
  extra?: Record<string, unknown>;
  /** extend_config of the bolt proxy (enable_bolt_goaway…). */
  boltExtend?: Record<string, unknown>;
}

export function loadDoc(o: LoadDocOptions): Record<string, unknown> {
  return {
    ...o.extra,
    servers: [{
      default_log_level: "INFO",
      graceful_timeout: "5s",
      routers: [
        simpleRouter([{ match: { prefix: "/" }, route: { cluster_name: o.routeTo } }]),
        anyServiceRouter(),
      ],
      listeners: [
        {
          name: "http",
          address: `127.0.0.1:${o.httpPort}`,
          filter_chains: [{
            filters: [{
              type: "proxy",
              config: { downstream_protocol: "Http1", router_config_name: "r1" },
            }],
          }],
        },
        {
          name: "rpc",
          address: `127.0.0.1:${o.rpcPort}`,
          filter_chains: [{
            filters: [{
              type: "proxy",
              config: {
                downstream_protocol: "bolt",
                router_config_name: "rpc",
                ...(o.boltExtend ? { extend_config: o.boltExtend } : {}),
              },
            }],
          }],
        },
      ],
    }],
    cluster_manager: {
      clusters: [
        ...Object.entries(o.clusters).map(([name, address]) => ({
          name,
          type: "SIMPLE",
          hosts: [{ address }],
        })),
        { name: "svc", type: "SIMPLE", hosts: [{ address: o.sofa }] },
      ],
    },
  };
}
