/** Shared shapes of the active health checker and its per-protocol checks. */

import type { HealthCheckConfig } from "../../config/model.ts";
import type { Host } from "../types.ts";

/** The outcome of one check of one host. */
export type CheckResult =
  | { readonly healthy: true }
  | {
    readonly healthy: false;
    /** Short, human-readable: "connect refused", "timeout", "status 503", "grpc NOT_SERVING". */
    readonly reason: string;
    /** A network failure (connect, reset, close, timeout) rather than a bad answer. */
    readonly network: boolean;
  };

/**
 * One protocol's check: resolves (never rejects, though the runner copes) once `host` answered
 * or failed. When `signal` aborts (timeout, checker closed) it must close its sockets at once.
 */
export type ProtocolCheck = (
  host: Host,
  cfg: HealthCheckConfig,
  signal: AbortSignal,
) => Promise<CheckResult>;

/** One health transition of a host, as written to the event log (one JSON line each). */
export interface HealthEvent {
  /** ISO 8601. */
  readonly time: string;
  readonly cluster: string;
  /** The host's "ip:port". */
  readonly host: string;
  /** What the active health check now thinks of the host. */
  readonly healthy: boolean;
  /** The flag that changed, in Envoy's /clusters spelling. */
  readonly flag: "failed_active_hc";
  /** Why: the failing check's reason, or "check succeeded". */
  readonly reason: string;
}

export const HEALTHY: CheckResult = Object.freeze({ healthy: true });

/** A failed check. */
export function unhealthy(reason: string, network: boolean): CheckResult {
  return { healthy: false, reason, network };
}
