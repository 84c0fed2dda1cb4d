/**
 * Dynamic configuration and drain controls (MOSN's debug API and Envoy's admin):
 *
 * - `POST /api/v1/update_config` `{"type": "listener" | "router" | "cluster", "config": {…}}`
 *   adds or replaces one listener (by `name`), router (by `router_config_name`) or cluster
 *   (by `name`).
 * - `POST /api/v1/update_route` `{"router_config_name", "virtual_host"?, "route": {…},
 *   "index"?}` adds a route (at `index`, default first, so it wins over existing ones);
 *   `{"router_config_name", "virtual_host"?, "remove": index}` removes one.
 * - `POST /api/v1/drain_listeners[?graceful]`, `POST /healthcheck/fail`, `POST /healthcheck/ok`.
 *
 * Updates are validated as a whole document, like a reload; an invalid one changes nothing and
 * answers 400 with its problems (JSON paths).
 */

import type { AdminContext } from "../http.ts";
import { json, jsonError, readBody } from "../http.ts";

type Doc = Record<string, unknown>;
type Obj = Record<string, unknown>;

const MAX_BODY = 1 << 20;

async function body(ctx: AdminContext): Promise<Obj | Response> {
  let text: string;
  try {
    text = await readBody(ctx.request, MAX_BODY);
  } catch {
    return jsonError(413, `body larger than ${MAX_BODY} bytes`);
  }
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v !== "object" || v === null || Array.isArray(v)) {
      return jsonError(400, "expected a JSON object");
    }
    return v as Obj;
  } catch (e) {
    return jsonError(400, `not valid JSON: ${(e as Error).message}`);
  }
}

function apply(ctx: AdminContext, doc: Doc): Response {
  const r = ctx.source.applyDocument!(doc);
  return json(r, r.ok ? 200 : 400);
}

function arrayAt(parent: Obj, key: string): unknown[] {
  const v = parent[key];
  if (Array.isArray(v)) return v;
  const a: unknown[] = [];
  parent[key] = a;
  return a;
}

function firstServer(doc: Doc): Obj {
  const servers = arrayAt(doc, "servers");
  if (typeof servers[0] !== "object" || servers[0] === null) servers[0] = {};
  return servers[0] as Obj;
}

/** Replaces the entry whose `key` equals the new one's, or appends it. */
function upsert(list: unknown[], key: string, item: Obj): void {
  const i = list.findIndex((x) => (x as Obj | undefined)?.[key] === item[key]);
  if (i >= 0) list[i] = item;
  else list.push(item);
}

export async function updateConfig(ctx: AdminContext): Promise<Response> {
  const src = ctx.source;
  if (!src.documentCopy || !src.applyDocument) {
    return jsonError(501, "dynamic updates are not enabled");
  }
  const b = await body(ctx);
  if (b instanceof Response) return b;
  const config = b.config;
  if (typeof config !== "object" || config === null || Array.isArray(config)) {
    return jsonError(400, "config: expected an object");
  }
  const doc = src.documentCopy();
  switch (b.type) {
    case "listener":
      upsert(arrayAt(firstServer(doc), "listeners"), "name", config as Obj);
      break;
    case "router":
      upsert(arrayAt(firstServer(doc), "routers"), "router_config_name", config as Obj);
      break;
    case "cluster": {
      const cm = (doc.cluster_manager ??= {}) as Obj;
      upsert(arrayAt(cm, "clusters"), "name", config as Obj);
      break;
    }
    default:
      return jsonError(
        400,
        `type: expected "listener", "router" or "cluster", got ${JSON.stringify(b.type)}`,
      );
  }
  return apply(ctx, doc);
}

export async function updateRoute(ctx: AdminContext): Promise<Response> {
  const src = ctx.source;
  if (!src.documentCopy || !src.applyDocument) {
    return jsonError(501, "dynamic updates are not enabled");
  }
  const b = await body(ctx);
  if (b instanceof Response) return b;
  const doc = src.documentCopy();
  const routers = arrayAt(firstServer(doc), "routers") as Obj[];
  const router = routers.find((r) => r?.router_config_name === b.router_config_name);
  if (!router) {
    return jsonError(404, `router_config_name: no router ${JSON.stringify(b.router_config_name)}`);
  }
  const vhosts = arrayAt(router, "virtual_hosts") as Obj[];
  const vh = b.virtual_host === undefined
    ? vhosts[0]
    : vhosts.find((v) => v?.name === b.virtual_host);
  if (!vh) {
    return jsonError(
      404,
      `virtual_host: no virtual host ${JSON.stringify(b.virtual_host ?? "(first)")}`,
    );
  }
  const routes = arrayAt(vh, "routers");
  if (b.remove !== undefined) {
    const i = b.remove;
    if (typeof i !== "number" || !Number.isInteger(i) || i < 0 || i >= routes.length) {
      return jsonError(
        400,
        `remove: expected a route index 0-${routes.length - 1}, got ${JSON.stringify(i)}`,
      );
    }
    routes.splice(i, 1);
  } else {
    if (typeof b.route !== "object" || b.route === null) {
      return jsonError(400, "route: expected an object");
    }
    const i = b.index === undefined ? 0 : b.index;
    if (typeof i !== "number" || !Number.isInteger(i) || i < 0 || i > routes.length) {
      return jsonError(400, `index: expected 0-${routes.length}, got ${JSON.stringify(i)}`);
    }
    routes.splice(i, 0, b.route);
  }
  return apply(ctx, doc);
}

export function drainListeners(ctx: AdminContext): Response {
  if (!ctx.source.drainListeners) return jsonError(501, "draining is not supported");
  const graceful = ctx.url.searchParams.has("graceful");
  ctx.source.drainListeners(graceful);
  return json({ draining: true, graceful });
}

export function healthcheckFail(ctx: AdminContext): Response {
  ctx.source.healthCheckFailed = true;
  return json({ health_check_failed: true });
}

export function healthcheckOk(ctx: AdminContext): Response {
  ctx.source.healthCheckFailed = false;
  return json({ health_check_failed: false });
}
