/** TCP health check: the host is healthy when a connection to it opens; it is closed at once. */

import type { HealthCheckConfig } from "../../config/model.ts";
import type { Host } from "../types.ts";
import { connectTo, failureOf } from "./_net.ts";
import { type CheckResult, HEALTHY } from "./types.ts";

export async function tcpCheck(
  host: Host,
  _cfg: HealthCheckConfig,
  signal: AbortSignal,
): Promise<CheckResult> {
  try {
    const conn = await connectTo(host.address, signal);
    try {
      conn.close();
    } catch {
      // closed already
    }
    return HEALTHY;
  } catch (e) {
    return failureOf(e, signal);
  }
}
