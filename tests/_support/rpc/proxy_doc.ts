/** Router config `name`: every call that has a `service` header (any value) goes to `cluster`. */
export function anyServiceRouter(name = "rpc", cluster = "svc"): Record<string, unknown> {
  return {
    router_config_name: name,
    virtual_hosts: [{
      name: "all",
      domains: ["*"],
      routers: [{
        match: { headers: [{ name: "service", value: ".*", regex: true }] },
        route: { cluster_name: cluster },
      }],
    }],
  };
}

/** A one-listener RPC proxy config: every call (any `service`) goes to cluster "svc". */
export function rpcDoc(protocol: string, upstream: string): Record<string, unknown> {
  return {
    servers: [{
      default_log_level: "ERROR",
      routers: [anyServiceRouter()],
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
