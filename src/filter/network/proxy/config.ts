/** Parses the `proxy` network filter config: MOSN's keys, router reference checked. */

import {
  PROXY_PROTOCOLS,
  type ProxyFilterConfig,
  type ProxyProtocol,
} from "../../../config/model.ts";

/** What `Auto` detects among. */
const AUTO_PROTOCOLS: readonly ProxyProtocol[] = ["Http1", "Http2", "bolt", "boltv2", "dubbo"];
import type { ObjReader } from "../../../config/reader.ts";
import type { ConfigRefs } from "../types.ts";

export function parseProxyConfig(r: ObjReader, refs: ConfigRefs): ProxyFilterConfig {
  // MOSN's older form: "X" with extend_config.sub_protocol naming the RPC protocol.
  const sub = r.obj("extend_config")?.raw("sub_protocol");
  const pick = (key: string) => {
    const v = r.raw(key);
    if (typeof v === "string" && v.toUpperCase() === "X" && typeof sub === "string") {
      return PROXY_PROTOCOLS.find((p) => p === sub.toLowerCase()) ??
        r.oneOf(key, PROXY_PROTOCOLS, "Http1");
    }
    return r.oneOf(key, PROXY_PROTOCOLS, "Http1");
  };
  // "Auto" and comma lists ("Http1,bolt") choose per connection from the first bytes.
  const downRaw = r.raw("downstream_protocol");
  let downList: ProxyProtocol[] | undefined;
  if (typeof downRaw === "string" && (downRaw.includes(",") || downRaw.toLowerCase() === "auto")) {
    downList = [];
    const names = downRaw.toLowerCase() === "auto" ? [...AUTO_PROTOCOLS] : downRaw.split(",");
    for (const n of names) {
      const p = PROXY_PROTOCOLS.find((x) => x.toLowerCase() === n.trim().toLowerCase());
      if (!p || p === "Auto") {
        r.ctx.error(
          r.at("downstream_protocol"),
          `unsupported protocol ${JSON.stringify(n.trim())} in ${JSON.stringify(downRaw)}`,
        );
      } else if (!downList.includes(p)) downList.push(p);
    }
  }
  const down = downList ? "Auto" : pick("downstream_protocol");
  // The upstream speaks what the downstream speaks (per connection with Auto) unless told.
  const upRaw = r.raw("upstream_protocol");
  const upAuto = downList !== undefined &&
    (upRaw === undefined || (typeof upRaw === "string" && upRaw.toLowerCase() === "auto"));
  const up = upAuto ? "Auto" : r.has("upstream_protocol") ? pick("upstream_protocol") : down;
  if (up === "Auto" && !downList) {
    r.ctx.error(r.at("upstream_protocol"), `"${up}" is not supported yet`);
  }
  const rpc = (p: string) => p !== "Http1" && p !== "Http2" && p !== "Auto";
  if (!downList && rpc(down) !== rpc(up)) {
    r.ctx.error(
      r.at("upstream_protocol"),
      `cannot convert between "${down}" and "${up}" (RPC to RPC or HTTP to HTTP only)`,
    );
  }
  const routerConfigName = r.reqStr("router_config_name");
  if (routerConfigName && !refs.routerNames.has(routerConfigName)) {
    r.ctx.error(r.at("router_config_name"), `unknown router ${JSON.stringify(routerConfigName)}`);
  }
  const ext = r.obj("extend_config");
  let defaultTimeoutMs = 60_000;
  let maxRequestHeadersBytes = 64 * 1024;
  let enableBoltGoAway = false;
  if (ext) {
    defaultTimeoutMs = ext.duration("global_timeout", 60_000);
    maxRequestHeadersBytes = ext.int("max_header_size", 64 * 1024, 1024, 1 << 20);
    // MOSN reads the bolt options from extend_config.bolt, or from extend_config itself.
    const bolt = ext.obj("bolt");
    enableBoltGoAway = bolt?.bool("enable_bolt_goaway", false) ??
      ext.bool("enable_bolt_goaway", false);
    bolt?.done();
    ext.allow("http2_use_stream", "enable_worker_pool", "sub_protocol");
    ext.done();
  }
  const cfg: ProxyFilterConfig = {
    downstreamProtocol: down,
    downstreamProtocols: downList ?? [down],
    upstreamProtocol: up,
    routerConfigName,
    fallbackForUnknownProtocol: r.bool("fallback_for_unknown_protocol", false),
    defaultTimeoutMs,
    maxRequestHeadersBytes,
    enableBoltGoAway,
  };
  r.allow("name", "stream_filters", "validate_clusters");
  r.done();
  return cfg;
}
