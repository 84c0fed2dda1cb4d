/** Registers the L7 `proxy` network filter: a codec's stream connection + the proxy per request. */

import type { ProxyFilterConfig } from "../../../config/model.ts";
import { DownstreamRequest } from "../../../proxy/downstream_request.ts";
import { buildProxyContext } from "../../../proxy/build_context.ts";
import { Http1ServerConnection } from "../../../stream/http1/server_connection.ts";
import type { NetworkFilterFactory } from "../types.ts";
import { createXProtocol } from "../../../protocol/xprotocol/registry.ts";
import type { ServerStream } from "../../../stream/types.ts";
import { XServerConnection } from "../../../stream/xprotocol/server_connection.ts";
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
    const newStream = (stream: ServerStream) => new DownstreamRequest(stream, ctx);
    const onProtocolError = () => protocolErrors.inc();
    if (config.downstreamProtocol !== "Http1") {
      const proto = createXProtocol(config.downstreamProtocol);
      const stats = deps.stats.scope("protocol", {
        listener: deps.listenerName,
        protocol: proto.name,
      });
      return (conn) =>
        conn.addReadFilter(
          new XServerConnection(conn, proto, newStream, { onProtocolError, stats }),
        );
    }
    return (conn) =>
      conn.addReadFilter(new Http1ServerConnection(conn, newStream, { limits, onProtocolError }));
  },
};
