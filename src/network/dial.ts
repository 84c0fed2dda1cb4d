/** Outbound connections with a connect timeout. */

import { ConnectError } from "../common/errors.ts";
import type { Address } from "../config/model.ts";
import { formatAddress } from "./address.ts";

/** Connects to `addr`, failing with ConnectError after `timeoutMs` (0 = no limit). */
export async function dial(addr: Address, timeoutMs: number): Promise<Deno.Conn> {
  const ac = new AbortController();
  let timedOut = false;
  const timer = timeoutMs > 0
    ? setTimeout(() => {
      timedOut = true;
      ac.abort();
    }, timeoutMs)
    : undefined;
  try {
    if (addr.kind === "unix") {
      const p = Deno.connect({ transport: "unix", path: addr.path });
      // unix connects do not take a signal; a local socket answers at once or fails.
      return await p;
    }
    return await Deno.connect({ hostname: addr.host, port: addr.port, signal: ac.signal });
  } catch (e) {
    throw new ConnectError(formatAddress(addr), timedOut, e);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}
