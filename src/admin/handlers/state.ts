/** Process state and identity: `/api/v1/states`, `/api/v1/version`, `/ready`, `/server_info`. */

import type { AdminContext } from "../http.ts";
import { json, text, uptimeSeconds } from "../http.ts";
import type { ServerInfoResponse, StatesResponse, VersionResponse } from "../types.ts";

/** `GET /api/v1/states`: {@link StatesResponse}. */
export function states(ctx: AdminContext): Response {
  const body: StatesResponse = {
    state: ctx.source.state(),
    pid: Deno.pid,
    uptime_seconds: uptimeSeconds(ctx.source.startTime, ctx.now()),
  };
  return json(body);
}

/** `GET /api/v1/version`: {@link VersionResponse}. */
export function version(ctx: AdminContext): Response {
  const body: VersionResponse = {
    version: ctx.source.version,
    runtime: { deno: Deno.version.deno, v8: Deno.version.v8, typescript: Deno.version.typescript },
  };
  return json(body);
}

/** `GET /ready`: 200 `LIVE` while RUNNING, else 503 with the state's name (Envoy's contract). */
export function ready(ctx: AdminContext): Response {
  const state = ctx.source.state();
  if (state === "RUNNING" && ctx.source.healthCheckFailed) {
    return text("HEALTH_CHECK_FAILED\n", 503);
  }
  return state === "RUNNING" ? text("LIVE\n") : text(`${state}\n`, 503);
}

/** `GET /server_info`: {@link ServerInfoResponse}. */
export function serverInfo(ctx: AdminContext): Response {
  const s = ctx.source;
  const body: ServerInfoResponse = {
    version: s.version,
    state: s.state(),
    uptime_seconds: uptimeSeconds(s.startTime, ctx.now()),
    start_time: s.startTime.toISOString(),
    command_line: [...(s.commandLine ?? Deno.args)],
    pid: Deno.pid,
  };
  return json(body);
}
