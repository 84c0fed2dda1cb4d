/**
 * `GET /listeners`: Envoy's text listing (`name::address` lines) or, with `?format=json`,
 * {@link ListenersResponse}. In the source's order.
 */

import type { AdminContext } from "../http.ts";
import { json, text, wantsJson } from "../http.ts";
import type { ListenersResponse } from "../types.ts";
import { addressJsonFromText } from "./address_json.ts";

export function listeners(ctx: AdminContext): Response {
  const list = ctx.source.listeners();
  if (wantsJson(ctx.url)) {
    const body: ListenersResponse = {
      listener_statuses: list.map((l) => ({
        name: l.name,
        local_address: addressJsonFromText(l.address),
        address: l.address,
        accepting: l.accepting,
        active_connections: l.activeConnections,
      })),
    };
    return json(body);
  }
  return text(list.map((l) => `${l.name}::${l.address}\n`).join(""));
}
