/** Registers the L7 `proxy` network filter: a codec's stream connection + the proxy per request. */

import type { ProxyFilterConfig, ProxyProtocol } from "../../../config/model.ts";
import type { Connection, ReadFilter } from "../../../network/connection.ts";
import {
  matchHttp1,
  matchHttp2,
  ProtocolSniffer,
  type SniffCandidate,
  xprotocolCandidate,
} from "./sniffer.ts";
import { Http2ServerConnection } from "../../../stream/http2/server_connection.ts";
import { http2Stats } from "../../../stream/http2/stats.ts";
import { DownstreamRequest } from "../../../proxy/downstream_request.ts";
import { buildProxyContext } from "../../../proxy/build_context.ts";
import { Http1ServerConnection } from "../../../stream/http1/server_connection.ts";
import type { NetworkFilterFactory } from "../types.ts";
import { createXProtocol } from "../../../protocol/xprotocol/registry.ts";
import type { ServerStream } from "../../../stream/types.ts";
import { XServerConnection } from "../../../stream/xprotocol/server_connection.ts";
import { parseProxyConfig } from "./config.ts";
import {
  connectionRegistry,
  HTTP1_LABEL,
  HTTP2_LABEL,
} from "../../../network/connection_registry.ts";
import { encodeBoltGoAway } from "../../../protocol/xprotocol/bolt/goaway.ts";

export const proxyFactory: NetworkFilterFactory<ProxyFilterConfig> = {
  type: "proxy",
  parseConfig: parseProxyConfig,
  prepare(config, deps) {
    const limits = { maxHeaderBytes: config.maxRequestHeadersBytes };
    const protocolErrors = deps.stats.scope("downstream", {
      listener: deps.listenerName,
      proxy: "global",
    }).counter("request_protocol_error");
    const onProtocolError = () => protocolErrors.inc();
    // One context per protocol: with Auto the upstream speaks what was detected downstream.
    const install = (protocol: ProxyProtocol): (conn: Connection) => ReadFilter => {
      // An explicit upstream protocol applies to the detected protocols of its family (HTTP or
      // RPC); the others (a bolt client on an Auto listener with an HTTP/2 upstream) keep their own.
      const http = (p: string) => p === "Http1" || p === "Http2";
      const up = config.upstreamProtocol;
      const upstream = up === "Auto" || http(up) !== http(protocol) ? protocol : up;
      const ctx = buildProxyContext({ ...config, upstreamProtocol: upstream }, deps);
      const newStream = (stream: ServerStream) => new DownstreamRequest(stream, ctx);
      if (protocol === "Http1") {
        return (conn) => {
          const sc = new Http1ServerConnection(conn, newStream, { limits, onProtocolError });
          connectionRegistry.describe(conn, HTTP1_LABEL, () => sc.activeStreams);
          return sc;
        };
      }
      if (protocol === "Http2") {
        const stats = http2Stats(deps.stats, { listener: deps.listenerName });
        return (conn) => {
          const sc = new Http2ServerConnection(conn, newStream, { stats, onProtocolError });
          connectionRegistry.describe(conn, HTTP2_LABEL, () => sc.streams.size);
          return sc;
        };
      }
      const proto = createXProtocol(protocol);
      const stats = deps.stats.scope("protocol", {
        listener: deps.listenerName,
        protocol: proto.name,
      });
      const goAway = proto.name === "bolt" && config.enableBoltGoAway
        ? encodeBoltGoAway
        : undefined;
      return (conn) => {
        const sc = new XServerConnection(conn, proto, newStream, {
          onProtocolError,
          stats,
          goAway,
        });
        connectionRegistry.describe(conn, protocol, () => sc.activeStreams);
        return sc;
      };
    };
    const protocols = config.downstreamProtocols;
    const fallback = config.fallbackForUnknownProtocol;
    const installed = new Map<ProxyProtocol, (conn: Connection) => ReadFilter>();
    const installerFor = (p: ProxyProtocol) => {
      let make = installed.get(p);
      if (!make) installed.set(p, make = install(p));
      return make;
    };
    // Over TLS the negotiated ALPN protocol is a promise made to the client: "h2" gets the
    // HTTP/2 codec and "http/1.1" HTTP/1 whatever the HTTP list says (an Http2 listener offers
    // http/1.1 too, for clients without h2); no ALPN leaves the choice to the config/preface.
    const servesHttp = protocols.includes("Http1") || protocols.includes("Http2");
    const alpnProtocol = (conn: Connection): "Http1" | "Http2" | undefined => {
      const alpn = conn.tls?.alpn;
      if (!alpn || !servesHttp) return undefined;
      return alpn === "h2" ? "Http2" : alpn === "http/1.1" ? "Http1" : undefined;
    };
    const candidate = (p: ProxyProtocol): SniffCandidate => {
      const create = installerFor(p);
      return p === "Http1"
        ? { name: p, match: matchHttp1, create }
        : p === "Http2"
        ? { name: p, match: matchHttp2, create }
        : xprotocolCandidate(createXProtocol(p), create);
    };
    if (protocols.length === 1 && !fallback) {
      const make = installerFor(protocols[0]!);
      return (conn) => {
        const p = alpnProtocol(conn);
        conn.addReadFilter((p ? installerFor(p) : make)(conn));
      };
    }
    const candidates = protocols.map(candidate);
    // With a fallback filter behind, the sniffer stays (it holds the next filters back until
    // the bytes are known); ALPN narrows what it accepts.
    const byAlpn = new Map<ProxyProtocol, SniffCandidate[]>();
    return (conn) => {
      const p = alpnProtocol(conn);
      if (p === undefined) {
        conn.addReadFilter(new ProtocolSniffer(conn, candidates, fallback));
      } else if (!fallback) conn.addReadFilter(installerFor(p)(conn));
      else {
        let list = byAlpn.get(p);
        if (!list) byAlpn.set(p, list = [candidate(p)]);
        conn.addReadFilter(new ProtocolSniffer(conn, list, fallback));
      }
    };
  },
  defaultAlpn(config) {
    return config.downstreamProtocols.includes("Http2") ? ["h2", "http/1.1"] : undefined;
  },
};
