/** Parses the `proxy` network filter config: MOSN's keys, router reference checked. */

import { PROXY_PROTOCOLS, type ProxyFilterConfig } from "../../../config/model.ts";
import type { ObjReader } from "../../../config/reader.ts";
import type { ConfigRefs } from "../types.ts";

export function parseProxyConfig(r: ObjReader, refs: ConfigRefs): ProxyFilterConfig {
  const down = r.oneOf("downstream_protocol", PROXY_PROTOCOLS, "Http1");
  const up = r.oneOf("upstream_protocol", PROXY_PROTOCOLS, "Http1");
  if (down === "Http2" || down === "Auto") {
    r.ctx.error(r.at("downstream_protocol"), `"${down}" is not supported yet (only "Http1")`);
  }
  if (up === "Http2") {
    r.ctx.error(r.at("upstream_protocol"), `"${up}" is not supported yet (only "Http1")`);
  }
  const routerConfigName = r.reqStr("router_config_name");
  if (routerConfigName && !refs.routerNames.has(routerConfigName)) {
    r.ctx.error(r.at("router_config_name"), `unknown router ${JSON.stringify(routerConfigName)}`);
  }
  const ext = r.obj("extend_config");
  let defaultTimeoutMs = 60_000;
  let maxRequestHeadersBytes = 64 * 1024;
  if (ext) {
    defaultTimeoutMs = ext.duration("global_timeout", 60_000);
    maxRequestHeadersBytes = ext.int("max_header_size", 64 * 1024, 1024, 1 << 20);
    ext.allow("http2_use_stream", "enable_worker_pool");
    ext.done();
  }
  const cfg: ProxyFilterConfig = {
    downstreamProtocol: down,
    upstreamProtocol: up === "Auto" ? "Http1" : up,
    routerConfigName,
    fallbackForUnknownProtocol: r.bool("fallback_for_unknown_protocol", false),
    defaultTimeoutMs,
    maxRequestHeadersBytes,
  };
  r.allow("name", "stream_filters", "validate_clusters");
  r.done();
  return cfg;
}
