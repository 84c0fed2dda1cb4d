/**
 * The JSON endpoints behind the console (shapes in ../console_types.ts): overview with history,
 * live connections, clusters with host health, route tables with hit counts, and the SSE stream.
 */

import type { AdminContext } from "../http.ts";
import { json, jsonError } from "../http.ts";
import { EVENT_TOPICS, type EventTopic } from "../console_types.ts";
import { connectionEntries, connectionsView, routesView } from "../console/views.ts";
import type { ConsoleRuntime } from "../console/runtime.ts";
import { MAX_EVENT_CLIENTS } from "../console/events.ts";

function runtime(ctx: AdminContext): ConsoleRuntime | undefined {
  return ctx.console;
}

const NO_CONSOLE = "the console runtime is not enabled on this admin server";

/** `GET /api/v1/overview`. */
export function overview(ctx: AdminContext): Response {
  const rt = runtime(ctx);
  if (!rt) return jsonError(404, NO_CONSOLE);
  return json(rt.overview(true));
}

/** `GET /api/v1/connections[?direction=downstream|upstream][&limit=N]`. */
export function connections(ctx: AdminContext): Response {
  const direction = ctx.url.searchParams.get("direction") ?? undefined;
  if (direction !== undefined && direction !== "downstream" && direction !== "upstream") {
    return jsonError(
      400,
      `direction must be "downstream" or "upstream", got ${JSON.stringify(direction)}`,
    );
  }
  const limitText = ctx.url.searchParams.get("limit");
  const limit = limitText === null ? undefined : Number(limitText);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) {
    return jsonError(400, `limit must be a non-negative integer, got ${JSON.stringify(limitText)}`);
  }
  return json(
    connectionsView(connectionEntries(ctx.source), ctx.now(), {
      ...(direction ? { direction } : {}),
      ...(limit !== undefined ? { limit } : {}),
    }),
  );
}

/** `GET /api/v1/clusters`. */
export function consoleClusters(ctx: AdminContext): Response {
  const rt = runtime(ctx);
  if (!rt) return jsonError(404, NO_CONSOLE);
  return json(rt.clusters());
}

/** `GET /api/v1/routes`. */
export function routes(ctx: AdminContext): Response {
  return json(routesView(ctx.source));
}

/** `GET /api/v1/events[?topics=overview,connections,clusters]`: Server-Sent Events. */
export function events(ctx: AdminContext): Response {
  const rt = runtime(ctx);
  if (!rt) return jsonError(404, NO_CONSOLE);
  const asked = ctx.url.searchParams.get("topics");
  const topics = new Set<EventTopic>();
  for (const t of asked === null ? EVENT_TOPICS : asked.split(",")) {
    const name = t.trim();
    if (name === "") continue;
    if (!(EVENT_TOPICS as readonly string[]).includes(name)) {
      return jsonError(
        400,
        `unknown topic ${JSON.stringify(name)}; expected any of ${EVENT_TOPICS.join(", ")}`,
      );
    }
    topics.add(name as EventTopic);
  }
  if (topics.size === 0) return jsonError(400, "topics is empty");
  const initial: [EventTopic, unknown][] = [];
  if (topics.has("overview")) initial.push(["overview", rt.overview(true)]);
  if (topics.has("connections")) initial.push(["connections", rt.connections()]);
  if (topics.has("clusters")) initial.push(["clusters", rt.clusters()]);
  const res = rt.hub.open(topics, initial);
  if (!res) {
    return jsonError(503, `too many event streams open (limit ${MAX_EVENT_CLIENTS})`, {
      "retry-after": "5",
    });
  }
  return res;
}
