/** Contract of a network filter extension: parse its config once, then install per connection. */

import type { ObjReader } from "../../config/reader.ts";
import type { Connection } from "../../network/connection.ts";
import type { StatsRegistry } from "../../observability/stats.ts";
import type { ClusterManager } from "../../upstream/types.ts";

/** What a filter's config parser may check against: names defined elsewhere in the document. */
export interface ConfigRefs {
  readonly clusterNames: ReadonlySet<string>;
  readonly routerNames: ReadonlySet<string>;
}

/** Runtime services a filter may use. */
export interface FilterDeps {
  readonly clusterManager: ClusterManager;
  readonly stats: StatsRegistry;
  readonly listenerName: string;
}

export interface NetworkFilterFactory<C = unknown> {
  /** The config `type` string, e.g. "tcp_proxy". */
  readonly type: string;
  /** Reads the filter's `config` object; problems go to `r.ctx` with their JSON paths. */
  parseConfig(r: ObjReader, refs: ConfigRefs): C;
  /** Installs the filter's read filters on a new downstream connection. */
  install(config: C, conn: Connection, deps: FilterDeps): void;
}
