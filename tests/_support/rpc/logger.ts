/** A silent logger for the npm RPC libraries (they require one); keeps what they logged. */

export interface RpcLogger {
  readonly lines: string[];
  debug(...args: unknown[]): void;
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

/** Set RPC_PEER_LOG=1 to also print what the peers log. */
export function quietLogger(): RpcLogger {
  const lines: string[] = [];
  const echo = Deno.env.get("RPC_PEER_LOG") === "1";
  const log = (level: string) => (...args: unknown[]) => {
    const line = `${level} ${
      args.map((a) => a instanceof Error ? a.stack ?? a.message : String(a)).join(" ")
    }`;
    lines.push(line);
    if (echo) console.error(line);
  };
  return {
    lines,
    debug: log("debug"),
    info: log("info"),
    warn: log("warn"),
    error: log("error"),
  };
}
