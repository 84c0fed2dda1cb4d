/**
 * HTTP/RPC routing: virtual hosts by authority, routes by path/header/query conditions, and the
 * actions of a matched route (cluster pick, rewrites, redirects, header edits).
 *
 * @example
 * ```ts
 * import { RouterManager } from "./src/router/mod.ts";
 * const routers = new RouterManager(config.servers[0].routers);
 * const m = routers.get("http_router")?.match(req);
 * ```
 */

export { RouteTable, type RouteTableOptions } from "./route_table.ts";
export { RouterManager } from "./manager.ts";
export type { HeaderVariables, RouteMatch, RouteRequest } from "./types.ts";
