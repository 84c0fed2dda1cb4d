/**
 * The mosn.ts config most suites run: one listener with the `proxy` network filter, every path
 * routed to a one-host origin cluster, and the admin API (startMosn waits on it).
 */

export type HttpProtocol = "Http1" | "Http2";

export interface ProxyConfigOptions {
  /** Listener name (shows in logs and stats). */
  listener: string;
  port: number;
  downstream: HttpProtocol;
  /** Omitted: the proxy's default (the downstream protocol). */
  upstream?: HttpProtocol;
  originPort: number;
  adminPort: number;
  /** The filter chain's `tls_context`, for a TLS listener. */
  tlsContext?: Record<string, unknown>;
}

export function mosnProxyConfig(o: ProxyConfigOptions): Record<string, unknown> {
  return {
    servers: [{
      default_log_level: "ERROR",
      routers: [{
        router_config_name: "r",
        virtual_hosts: [{
          name: "v",
          domains: ["*"],
          routers: [{ match: { prefix: "/" }, route: { cluster_name: "o" } }],
        }],
      }],
      listeners: [{
        name: o.listener,
        address: `127.0.0.1:${o.port}`,
        filter_chains: [{
          ...(o.tlsContext ? { tls_context: o.tlsContext } : {}),
          filters: [{
            type: "proxy",
            config: {
              downstream_protocol: o.downstream,
              ...(o.upstream ? { upstream_protocol: o.upstream } : {}),
              router_config_name: "r",
            },
          }],
        }],
      }],
    }],
    cluster_manager: {
      clusters: [{
        name: "o",
        type: "SIMPLE",
        lb_type: "LB_ROUNDROBIN",
        hosts: [{ address: `127.0.0.1:${o.originPort}` }],
      }],
    },
    admin: {
      address: { socket_address: { address: "127.0.0.1", port_value: o.adminPort } },
    },
  };
}
