/** Registers tcp_proxy under MOSN's type name. */

import type { TcpProxyConfig } from "../../../config/model.ts";
import type { NetworkFilterFactory } from "../types.ts";
import { parseTcpProxyConfig } from "./config.ts";
import { TcpProxy } from "./tcp_proxy.ts";
import { connectionRegistry } from "../../../network/connection_registry.ts";

export const tcpProxyFactory: NetworkFilterFactory<TcpProxyConfig> = {
  type: "tcp_proxy",
  parseConfig: parseTcpProxyConfig,
  prepare(config, deps) {
    return (conn) => {
      connectionRegistry.describe(conn, "TCP");
      conn.addReadFilter(new TcpProxy(config, conn, deps));
    };
  },
};
