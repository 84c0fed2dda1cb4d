/**
 * The three views of the stats registry: `GET /api/v1/stats` (MOSN JSON dump),
 * `GET /stats` (Envoy-style `name: value` lines) and `GET /stats/prometheus`.
 */

import { PROMETHEUS_CONTENT_TYPE, renderPrometheus } from "../../observability/prometheus.ts";
import { flattenStats, statsJson } from "../../observability/stats_json.ts";
import type { AdminContext } from "../http.ts";
import { json, jsonError, text, wantsJson } from "../http.ts";
import type { StatsFlatResponse } from "../types.ts";

/** `?type=a&type=b` or `?type=a,b` → ["a", "b"]. */
function typesParam(url: URL): string[] {
  return url.searchParams.getAll("type").flatMap((t) => t.split(",")).map((t) => t.trim())
    .filter((t) => t !== "");
}

/** `GET /api/v1/stats[?type=downstream]`: {@link StatsDump}. */
export function statsDump(ctx: AdminContext): Response {
  return json(statsJson(ctx.source.stats, { types: typesParam(ctx.url) }));
}

/**
 * `GET /stats`: one `type.namespace.metric: value` line per metric, sorted as the JSON dump.
 * `?filter=<regex>` keeps matching names (400 for a bad pattern), `?type=` as for the JSON dump,
 * `?format=json` answers {@link StatsFlatResponse}.
 */
export function statsText(ctx: AdminContext): Response {
  let entries = flattenStats(statsJson(ctx.source.stats, { types: typesParam(ctx.url) }));
  const filter = ctx.url.searchParams.get("filter");
  if (filter !== null && filter !== "") {
    let re: RegExp;
    try {
      re = new RegExp(filter);
    } catch (e) {
      return jsonError(
        400,
        `invalid filter regex ${JSON.stringify(filter)}: ${(e as Error).message}`,
      );
    }
    entries = entries.filter(([name]) => re.test(name));
  }
  if (wantsJson(ctx.url)) {
    const body: StatsFlatResponse = { stats: entries.map(([name, value]) => ({ name, value })) };
    return json(body);
  }
  return text(entries.map(([name, value]) => `${name}: ${value}\n`).join(""));
}

/** `GET /stats/prometheus`: text exposition format 0.0.4. */
export function statsPrometheus(ctx: AdminContext): Response {
  return text(renderPrometheus(ctx.source.stats), 200, PROMETHEUS_CONTENT_TYPE);
}
