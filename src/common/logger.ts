/** Structured, levelled logger writing one JSON object per line to stderr (or a file). */

export const LOG_LEVELS = ["FATAL", "ERROR", "WARN", "INFO", "DEBUG", "TRACE"] as const;
export type LogLevel = typeof LOG_LEVELS[number];

const rank: Record<LogLevel, number> = { FATAL: 0, ERROR: 1, WARN: 2, INFO: 3, DEBUG: 4, TRACE: 5 };

export function isLogLevel(v: string): v is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(v);
}

/** Fields attached to a log line. */
export type LogFields = Record<string, unknown>;

const encoder = new TextEncoder();

export class Logger {
  #level: LogLevel;
  #sink: (line: string) => void;

  constructor(level: LogLevel = "INFO", sink?: (line: string) => void) {
    this.#level = level;
    this.#sink = sink ?? ((line) => {
      try {
        Deno.stderr.writeSync(encoder.encode(line));
      } catch {
        // stderr gone (closed pipe): logging must never take the proxy down
      }
    });
  }

  get level(): LogLevel {
    return this.#level;
  }

  setLevel(level: LogLevel): void {
    this.#level = level;
  }

  enabled(level: LogLevel): boolean {
    return rank[level] <= rank[this.#level];
  }

  /** Redirects output, e.g. to `default_log_path`. */
  setSink(sink: (line: string) => void): void {
    this.#sink = sink;
  }

  log(level: LogLevel, msg: string, fields?: LogFields): void {
    if (rank[level] > rank[this.#level]) return;
    const rec: LogFields = { time: new Date().toISOString(), level, msg };
    if (fields) {
      for (const k in fields) {
        const v = fields[k];
        rec[k] = v instanceof Error ? `${v.name}: ${v.message}` : v;
      }
    }
    this.#sink(JSON.stringify(rec) + "\n");
  }

  error(msg: string, fields?: LogFields): void {
    this.log("ERROR", msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.log("WARN", msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.log("INFO", msg, fields);
  }
  debug(msg: string, fields?: LogFields): void {
    this.log("DEBUG", msg, fields);
  }
}

/** The process-wide logger; the server sets its level and sink from config. */
export const log = new Logger();
