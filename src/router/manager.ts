/** Holds the live RouteTables by router_config_name; a reload swaps all of them at once. */

import type { RouterConfig } from "../config/router_model.ts";
import { RouteTable, type RouteTableOptions } from "./route_table.ts";

export class RouterManager {
  #tables: ReadonlyMap<string, RouteTable> = new Map();
  readonly #options: RouteTableOptions;

  constructor(configs: readonly RouterConfig[] = [], options: RouteTableOptions = {}) {
    this.#options = options;
    this.update(configs);
  }

  /** The table for `name`; look it up per request so a reload takes effect at once. */
  get(name: string): RouteTable | undefined {
    return this.#tables.get(name);
  }

  /** Every table, in config order. */
  tables(): RouteTable[] {
    return [...this.#tables.values()];
  }

  names(): string[] {
    return [...this.#tables.keys()];
  }

  /**
   * Replaces every table. All are built first; if any fails (or two share a name) this throws
   * and the current tables stay in use. Requests already holding a RouteMatch keep it.
   */
  update(configs: readonly RouterConfig[]): void {
    const next = new Map<string, RouteTable>();
    for (const c of configs) {
      if (next.has(c.routerConfigName)) {
        throw new Error(`duplicate router_config_name ${JSON.stringify(c.routerConfigName)}`);
      }
      next.set(c.routerConfigName, new RouteTable(c, this.#options));
    }
    this.#tables = next;
  }
}
