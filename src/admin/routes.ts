/**
 * The admin route table and its dispatcher. Paths match exactly; a known path asked with the
 * wrong method answers 405 with `Allow`, an unknown path 404 JSON. HEAD is served as GET.
 */

import { clusters } from "./handlers/clusters.ts";
import { configDump } from "./handlers/config_dump.ts";
import { consolePage, indexPage } from "./handlers/index_page.ts";
import {
  connections,
  consoleClusters,
  events,
  overview,
  routes as routeTables,
} from "./handlers/console_api.ts";
import { listeners } from "./handlers/listeners.ts";
import { memory } from "./handlers/memory.ts";
import { reload } from "./handlers/reload.ts";
import {
  drainListeners,
  healthcheckFail,
  healthcheckOk,
  updateConfig,
  updateRoute,
} from "./handlers/dynamic.ts";
import { getLogLevel, updateLogLevel } from "./handlers/log_level.ts";
import { ready, serverInfo, states, version } from "./handlers/state.ts";
import { statsDump, statsPrometheus, statsText } from "./handlers/stats.ts";
import type { AdminContext, Handler, RouteInfo } from "./http.ts";
import { jsonError } from "./http.ts";

export interface Route extends RouteInfo {
  readonly handler: Handler;
}

/** Every admin endpoint; `/` lists them from here. */
export const ROUTES: readonly Route[] = [
  {
    method: "GET",
    path: "/",
    description: "the console (this menu at /help when the console is not built)",
    handler: consolePage,
  },
  { method: "GET", path: "/help", description: "this menu", handler: indexPage },
  {
    method: "GET",
    path: "/api/v1/overview",
    description: "version, uptime, listeners, totals and the last minutes of rate/error/latency",
    handler: overview,
  },
  {
    method: "GET",
    path: "/api/v1/connections",
    description: "live downstream and upstream connections (?direction=, ?limit=)",
    handler: connections,
  },
  {
    method: "GET",
    path: "/api/v1/clusters",
    description:
      "clusters with circuit-breaker usage and hosts: health and reasons, weight, cx/rq, success rate, latency",
    handler: consoleClusters,
  },
  {
    method: "GET",
    path: "/api/v1/routes",
    description: "router configs → virtual hosts → routes with match, action and hit counts",
    handler: routeTables,
  },
  {
    method: "GET",
    path: "/api/v1/events",
    description:
      "Server-Sent Events: overview, connections, clusters snapshots every second (?topics=)",
    handler: events,
  },
  {
    method: "GET",
    path: "/api/v1/config_dump",
    description:
      "running config (?mosnconfig, ?allrouters, ?allclusters, ?alllisteners, ?router=, ?cluster=, ?listener=)",
    handler: configDump,
  },
  {
    method: "GET",
    path: "/api/v1/stats",
    description: "metrics as MOSN JSON: type → namespace → metric (?type=downstream)",
    handler: statsDump,
  },
  {
    method: "GET",
    path: "/api/v1/states",
    description: "process state (INITIALIZING, RUNNING, DRAINING, STOPPING, STOPPED)",
    handler: states,
  },
  { method: "GET", path: "/api/v1/version", description: "mosn.ts version", handler: version },
  {
    method: "GET",
    path: "/api/v1/get_loglevel",
    description: "current error log level",
    handler: getLogLevel,
  },
  {
    method: "POST",
    path: "/api/v1/update_loglevel",
    description: 'set the error log level: body {"log_level": "DEBUG"}',
    handler: updateLogLevel,
  },
  {
    method: "POST",
    path: "/api/v1/reload",
    description:
      "re-read the config file and apply it (as SIGHUP); an invalid file changes nothing",
    handler: reload,
  },
  {
    method: "POST",
    path: "/api/v1/update_config",
    description: 'add or replace one {"type": "listener"|"router"|"cluster", "config": {…}}',
    handler: updateConfig,
  },
  {
    method: "POST",
    path: "/api/v1/update_route",
    description:
      'add {"router_config_name", "virtual_host"?, "route", "index"?} or remove {…, "remove": index} a route',
    handler: updateRoute,
  },
  {
    method: "POST",
    path: "/api/v1/drain_listeners",
    description: "stop accepting on every listener (?graceful: also close connections politely)",
    handler: drainListeners,
  },
  {
    method: "POST",
    path: "/healthcheck/fail",
    description: "make /ready answer 503 (take this instance out of a load balancer)",
    handler: healthcheckFail,
  },
  {
    method: "POST",
    path: "/healthcheck/ok",
    description: "undo /healthcheck/fail",
    handler: healthcheckOk,
  },
  {
    method: "GET",
    path: "/ready",
    description: "LIVE (200) when running, else 503",
    handler: ready,
  },
  {
    method: "GET",
    path: "/server_info",
    description: "version, state, uptime, command line",
    handler: serverInfo,
  },
  {
    method: "GET",
    path: "/memory",
    description: "process memory: rss, V8 heap total/used, external buffers (bytes)",
    handler: memory,
  },
  {
    method: "GET",
    path: "/clusters",
    description: "upstream clusters and hosts (?format=json)",
    handler: clusters,
  },
  {
    method: "GET",
    path: "/listeners",
    description: "listeners and their addresses (?format=json)",
    handler: listeners,
  },
  {
    method: "GET",
    path: "/stats",
    description: "metrics as name: value lines (?filter=regex, ?format=json)",
    handler: statsText,
  },
  {
    method: "GET",
    path: "/stats/prometheus",
    description: "metrics in Prometheus text format 0.0.4",
    handler: statsPrometheus,
  },
];

/** Runs the matching route's handler; 404 / 405 answers for misses. */
export function dispatch(
  routes: readonly Route[],
  ctx: AdminContext,
): Response | Promise<Response> {
  const path = ctx.url.pathname;
  const method = ctx.request.method === "HEAD" ? "GET" : ctx.request.method;
  const onPath = routes.filter((r) => r.path === path);
  if (onPath.length === 0) return jsonError(404, `no admin endpoint at ${path}`);
  const route = onPath.find((r) => r.method === method);
  if (!route) {
    const allowed = onPath.flatMap((r) => r.method === "GET" ? ["GET", "HEAD"] : [r.method]);
    return jsonError(
      405,
      `${ctx.request.method} not allowed on ${path}; use ${allowed.join(" or ")}`,
      { allow: allowed.join(", ") },
    );
  }
  return route.handler(ctx);
}
