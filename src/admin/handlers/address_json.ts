/** Envoy's `core.Address` JSON from the config model's Address or an "ip:port" string. */

import type { Address } from "../../config/model.ts";
import type { AddressJson } from "../types.ts";

export function addressJson(a: Address): AddressJson {
  return a.kind === "tcp"
    ? { socket_address: { address: a.host, port_value: a.port } }
    : { pipe: { path: a.path } };
}

/**
 * Parses "ip:port", "[v6]:port" or "unix:/path"; anything else becomes a socket address with
 * port 0 and the text as address, so a listener is never dropped from the listing.
 */
export function addressJsonFromText(text: string): AddressJson {
  if (text.startsWith("unix:")) return { pipe: { path: text.slice("unix:".length) } };
  const i = text.lastIndexOf(":");
  const port = i >= 0 ? Number(text.slice(i + 1)) : NaN;
  if (i < 0 || !Number.isInteger(port)) return { socket_address: { address: text, port_value: 0 } };
  let host = text.slice(0, i);
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  return { socket_address: { address: host, port_value: port } };
}
