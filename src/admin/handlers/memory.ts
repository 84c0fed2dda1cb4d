/** `GET /memory`: the process's memory as the runtime sees it (Envoy has the same endpoint). */

import type { AdminContext } from "../http.ts";
import { json } from "../http.ts";
import type { MemoryResponse } from "../types.ts";

export function memory(_ctx: AdminContext): Response {
  const m = Deno.memoryUsage();
  const body: MemoryResponse = {
    rss: m.rss,
    heap_total: m.heapTotal,
    heap_used: m.heapUsed,
    external: m.external,
  };
  return json(body);
}
