/** Typed errors with stable codes, shared by logs, stats and the CLI. */

export type ErrorCode =
  | "CONFIG_INVALID"
  | "CONFIG_UNREADABLE"
  | "CONNECT_TIMEOUT"
  | "CONNECT_FAILED"
  | "NO_HEALTHY_HOST"
  | "CLUSTER_NOT_FOUND"
  | "LISTEN_FAILED"
  | "CONNECTION_CLOSED"
  | "REGISTRY_DUPLICATE"
  | "REGISTRY_UNKNOWN";

/** Base error for everything mosn.ts raises on purpose. */
export class MosnError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = "MosnError";
  }
}

/** One problem in a config document, located by its JSON path. */
export interface ConfigIssue {
  /** JSON path, e.g. `servers[0].listeners[1].address`. */
  path: string;
  message: string;
}

/** A config that cannot be used; carries every problem found, each with its JSON path. */
export class ConfigError extends MosnError {
  readonly issues: readonly ConfigIssue[];
  constructor(issues: readonly ConfigIssue[]) {
    super("CONFIG_INVALID", issues.map((i) => `${i.path || "$"}: ${i.message}`).join("\n"));
    this.issues = issues;
    this.name = "ConfigError";
  }
}

/** Upstream connect failure; `timeout` tells connect_timeout from a refused/reset connect. */
export class ConnectError extends MosnError {
  readonly address: string;
  constructor(address: string, timeout: boolean, cause?: unknown) {
    super(
      timeout ? "CONNECT_TIMEOUT" : "CONNECT_FAILED",
      `${timeout ? "connect timeout" : "connect failed"} to ${address}`,
      { cause },
    );
    this.address = address;
    this.name = "ConnectError";
  }
}
