/** `POST /api/v1/reload`: re-reads the config file and applies it as a diff (like SIGHUP). */

import type { AdminContext } from "../http.ts";
import { json, jsonError } from "../http.ts";

export async function reload(ctx: AdminContext): Promise<Response> {
  const src = ctx.source;
  if (!src.reloadFromSource) {
    return jsonError(501, "this server was not started from a config file");
  }
  const r = await src.reloadFromSource();
  // 400 with the config's problems (JSON paths) when the new file is invalid: nothing changed.
  return json(r, r.ok ? 200 : 400);
}
