/**
 * Waiting for an effect instead of sleeping a fixed time: a fixed sleep is a guess that a loaded
 * machine outlasts (the 2-core CI runs several test processes at once).
 */

import { connectionRegistry } from "../../src/network/connection_registry.ts";

/** Polls `cond` every `everyMs` until it holds; throws naming `what` after `timeoutMs`. */
export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
  everyMs = 10,
): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!(await cond())) {
    if (performance.now() > end) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Until an in-process listener has accepted the client connection `c` (it is registered). */
export function waitAccepted(c: Deno.Conn): Promise<void> {
  const local = c.localAddr as Deno.NetAddr;
  const peer = `${local.hostname}:${local.port}`;
  return waitFor(() => {
    for (const e of connectionRegistry.entries()) {
      if (e.direction === "downstream" && e.conn.remoteAddress === peer) return true;
    }
    return false;
  }, `the proxy to accept ${peer}`);
}
