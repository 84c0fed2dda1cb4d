/** Registers the L7 `proxy` network filter: a codec's stream connection + the proxy per request. */

import type { ProxyFilterConfig } from "../../../config/model.ts";
import { DownstreamRequest } from "../../../proxy/downstream_request.ts";
import { buildProxyContext } from "../../../proxy/build_context.ts";
import { Http1ServerConnection } from "../../../stream/http1/server_connection.ts";
import type { NetworkFilterFactory } from "../types.ts";
import { parseProxyConfig } from "./config.ts";

export const proxyFactory: NetworkFilterFactory<ProxyFilterConfig> = {
  type: "proxy",
  parseConfig: parseProxyConfig,
  prepare(config, deps) {
    const ctx = buildProxyContext(config, deps);
    const limits = { maxHeaderBytes: config.maxRequestHeadersBytes };
    const protocolErrors = deps.stats.scope("downstream", {
      listener: deps.listenerName,
      proxy: "global",
    }).counter("request_protocol_error");
    return (conn) => {
      const server = new Http1ServerConnection(
        conn,
        (stream) => new DownstreamRequest(stream, ctx),
        {
          limits,
          onProtocolError: () => protocolErrors.inc(),
        },
      );
      conn.addReadFilter(server);
    };
  },
};
