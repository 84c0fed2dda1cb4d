/** Contract of a network filter extension: parse its config once, then install per connection. */

import type { ListenerConfig } from "../../config/model.ts";
import type { ObjReader } from "../../config/reader.ts";
import type { AccessLogSink } from "../../proxy/context.ts";
import type { StreamFilterPair } from "../stream/types.ts";
import type { Connection } from "../../network/connection.ts";
import type { StatsRegistry } from "../../observability/stats.ts";
import type { ClusterManager } from "../../upstream/types.ts";
import type { RequestTracing } from "../../observability/otel/types.ts";

/** What a filter's config parser may check against: names defined elsewhere in the document. */
export interface ConfigRefs {
  readonly clusterNames: ReadonlySet<string>;
  readonly routerNames: ReadonlySet<string>;
}

/** Runtime services a filter may use; one set per listener. */
export interface FilterDeps {
  readonly clusterManager: ClusterManager;
  readonly stats: StatsRegistry;
  readonly listenerName: string;
  /** The listener's config (stream filters, access logs, limits). */
  readonly listener: ListenerConfig;
  /** Route tables by router_config_name. */
  readonly routers: RouterLookup;
  /** The listener's stream filters, prepared: each call gives one request its filters. */
  readonly streamFilters: readonly (() => StreamFilterPair)[];
  readonly accessLogs: readonly AccessLogSink[];
  /** Request tracing (OpenTelemetry); undefined when tracing is off. */
  readonly tracing?: RequestTracing | undefined;
}

/** Finds a router's match function by name; kept abstract so filters do not import the router. */
export interface RouterLookup {
  get(name: string): RouterTableLike | undefined;
}

// deno-lint-ignore no-empty-interface -- a route table; its match API belongs to src/router
export interface RouterTableLike {}

export interface NetworkFilterFactory<C = unknown> {
  /** The config `type` string, e.g. "tcp_proxy". */
  readonly type: string;
  /** Reads the filter's `config` object; problems go to `r.ctx` with their JSON paths. */
  parseConfig(r: ObjReader, refs: ConfigRefs): C;
  /**
   * Called once per listener; returns the function that installs the filter's read filters on
   * each new downstream connection.
   */
  prepare(config: C, deps: FilterDeps): (conn: Connection) => void;
  /**
   * The ALPN protocols a TLS listener offers for this filter when its tls_context sets no
   * `alpn` (most preferred first); undefined or empty: offer none.
   */
  defaultAlpn?(config: C): readonly string[] | undefined;
}
