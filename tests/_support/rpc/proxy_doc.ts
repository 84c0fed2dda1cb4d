/** A one-listener RPC proxy config: every call (any `service`) goes to cluster "svc". */
export function rpcDoc(protocol: string, upstream: string): Record<string, unknown> {
  return {
    servers: [{
      default_log_level: "ERROR",
      routers: [{
        router_config_name: "rpc",
        virtual_hosts: [{
          name: "all",
          domains: ["*"],
          routers: [{
            match: { headers: [{ name: "service", value: ".*", regex: true }] },
            route: { cluster_name: "svc" },
          }],
        }],
      }],
      listeners: [{
        name: "rpc",
        address: "127.0.0.1:0",
        filter_chains: [{
          filters: [{
            type: "proxy",
            config: { downstream_protocol: protocol, router_config_name: "rpc" },
          }],
        }],
      }],
    }],
    cluster_manager: {
      clusters: [{
        name: "svc",
        type: "SIMPLE",
        lb_type: "LB_ROUNDROBIN",
        hosts: [{ address: upstream }],
      }],
    },
  };
}
