/**
 * `GET /api/v1/config_dump`: the running config document as given. Like MOSN it takes at most
 * one parameter:
 *
 * - none or `?mosnconfig` — the whole document;
 * - `?allrouters`, `?allclusters`, `?alllisteners` — `{ "<name>": <config> }` of every router
 *   (keyed by `router_config_name`), cluster or listener (keyed by `name`);
 * - `?router=<name>`, `?cluster=<name>`, `?listener=<name>` — that one config, 404 if unknown.
 */

import type { AdminContext } from "../http.ts";
import { json, jsonError } from "../http.ts";

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** `obj[key]`, matching the key case-insensitively (MOSN's config keys are). */
function field(obj: unknown, key: string): unknown {
  if (!isObject(obj)) return undefined;
  if (key in obj) return obj[key];
  const lower = key.toLowerCase();
  for (const k of Object.keys(obj)) if (k.toLowerCase() === lower) return obj[k];
  return undefined;
}

function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function servers(raw: unknown): unknown[] {
  return list(field(raw, "servers"));
}

function byName(items: unknown[], nameKey: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const item of items) {
    const name = field(item, nameKey);
    if (typeof name === "string") out[name] = item;
  }
  return out;
}

const SECTIONS = {
  router: (raw: unknown) =>
    byName(servers(raw).flatMap((s) => list(field(s, "routers"))), "router_config_name"),
  listener: (raw: unknown) =>
    byName(servers(raw).flatMap((s) => list(field(s, "listeners"))), "name"),
  cluster: (raw: unknown) => byName(list(field(field(raw, "cluster_manager"), "clusters")), "name"),
} as const;

const PARAMS = [
  "mosnconfig",
  "allrouters",
  "allclusters",
  "alllisteners",
  "router",
  "cluster",
  "listener",
];

export function configDump(ctx: AdminContext): Response {
  const keys = [...new Set(ctx.url.searchParams.keys())];
  const raw = ctx.source.config().raw ?? null;
  if (keys.length === 0) return json(raw);
  if (keys.length > 1) {
    return jsonError(400, `config_dump takes at most one parameter, got ${keys.join(", ")}`);
  }
  const key = keys[0]!;
  switch (key) {
    case "mosnconfig":
      return json(raw);
    case "allrouters":
      return json(SECTIONS.router(raw));
    case "allclusters":
      return json(SECTIONS.cluster(raw));
    case "alllisteners":
      return json(SECTIONS.listener(raw));
    case "router":
    case "cluster":
    case "listener": {
      const name = ctx.url.searchParams.get(key) ?? "";
      const all = SECTIONS[key](raw);
      if (!Object.hasOwn(all, name)) {
        return jsonError(404, `no ${key} named ${JSON.stringify(name)}`);
      }
      return json(all[name]);
    }
    default:
      return jsonError(
        400,
        `unknown config_dump parameter ${JSON.stringify(key)}; supported: ${PARAMS.join(", ")}`,
      );
  }
}
