/**
 * Access logs that never hold up a request: `log()` formats one line into an in-memory batch;
 * batches are written asynchronously (every `flushIntervalMs`, or at once past `flushBytes`).
 * When the disk is slower than the traffic the queue is bounded: lines beyond `maxBufferBytes`
 * are dropped and counted in `dropped`.
 */

import { MosnError } from "../common/errors.ts";
import { log as logger } from "../common/logger.ts";
import type { StreamInfo } from "../stream/stream_info.ts";
import {
  accessLogVariableNames,
  CompiledFormat,
  DEFAULT_ACCESS_LOG_FORMAT,
  parseAccessLogFormat,
} from "./access_log_format.ts";

export { accessLogVariableNames, CompiledFormat, DEFAULT_ACCESS_LOG_FORMAT, parseAccessLogFormat };

export interface AccessLogOptions {
  /** "stdout", "stderr" or a file path (opened for append; missing directories are created). */
  path: string;
  /** A format string or one compiled by `parseAccessLogFormat`; default Envoy's default line. */
  format?: string | CompiledFormat;
  /** Longest time a line waits in memory. Default 100 ms. */
  flushIntervalMs?: number;
  /** A batch this large is written at once. Default 64 KiB. */
  flushBytes?: number;
  /** Lines queued (batched plus being written) beyond this are dropped. Default 4 MiB. */
  maxBufferBytes?: number;
}

interface Sink {
  write(p: Uint8Array): Promise<number>;
  close?(): void;
}

const encoder = new TextEncoder();

/**
 * One access log destination with its compiled format.
 *
 * @example
 * ```ts
 * const al = new AccessLog({ path: "/var/log/mosn/access.log" });
 * al.log(info); // returns at once
 * await al.close(); // writes what is queued
 * ```
 */
export class AccessLog {
  readonly path: string;
  readonly format: CompiledFormat;
  /** Lines lost: queue full, log() after close(), or a failed write. */
  dropped = 0;
  /** Lines written. */
  written = 0;
  /** Write calls made (one per batch, more if the OS takes a batch in parts). */
  writes = 0;

  readonly #sink: Sink;
  readonly #newline: boolean;
  readonly #flushIntervalMs: number;
  readonly #flushBytes: number;
  readonly #maxBufferBytes: number;
  #batch: string[] = [];
  #batchBytes = 0;
  /** Batched plus in-flight, in UTF-16 units (close enough to bytes for a bound). */
  #queuedBytes = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #writing: Promise<void> | undefined;
  #closed = false;
  #failing = false;

  /** Throws MosnError CONFIG_INVALID for a bad format, or the open error for a bad path. */
  constructor(opts: AccessLogOptions) {
    this.path = opts.path;
    const fmt = opts.format ?? DEFAULT_ACCESS_LOG_FORMAT;
    if (typeof fmt === "string") {
      const compiled = parseAccessLogFormat(fmt);
      if (typeof compiled === "string") {
        throw new MosnError("CONFIG_INVALID", `access log format: ${compiled}`);
      }
      this.format = compiled;
    } else this.format = fmt;
    this.#newline = this.format.source.endsWith("\n");
    this.#flushIntervalMs = opts.flushIntervalMs ?? 100;
    this.#flushBytes = opts.flushBytes ?? 64 * 1024;
    this.#maxBufferBytes = opts.maxBufferBytes ?? 4 * 1024 * 1024;
    this.#sink = openSink(opts.path);
  }

  /** Formats `info` into the batch; never blocks, never throws. */
  log(info: StreamInfo): void {
    if (this.#closed) {
      this.dropped++;
      return;
    }
    let line: string;
    try {
      line = this.format.format(info);
    } catch {
      this.dropped++;
      return;
    }
    if (!this.#newline) line += "\n";
    if (this.#queuedBytes + line.length > this.#maxBufferBytes) {
      this.dropped++;
      return;
    }
    this.#batch.push(line);
    this.#batchBytes += line.length;
    this.#queuedBytes += line.length;
    if (this.#batchBytes >= this.#flushBytes) this.#kick();
    else if (this.#timer === undefined && this.#writing === undefined) {
      const timer = setTimeout(() => {
        this.#timer = undefined;
        this.#kick();
      }, this.#flushIntervalMs);
      Deno.unrefTimer(timer);
      this.#timer = timer;
    }
  }

  /** Writes everything queued so far. */
  async flush(): Promise<void> {
    this.#kick();
    while (this.#writing) await this.#writing;
  }

  /** Flushes, then closes the file; later log() calls are dropped. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.flush();
    try {
      this.#sink.close?.();
    } catch {
      // already closed
    }
  }

  #kick(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#writing === undefined && this.#batch.length > 0) this.#writing = this.#drain();
  }

  async #drain(): Promise<void> {
    while (this.#batch.length > 0) {
      const lines = this.#batch;
      const bytes = this.#batchBytes;
      this.#batch = [];
      this.#batchBytes = 0;
      try {
        await this.#writeAll(encoder.encode(lines.join("")));
        this.written += lines.length;
        this.#failing = false;
      } catch (e) {
        this.dropped += lines.length;
        if (!this.#failing) logger.error("access log write failed", { path: this.path, error: e });
        this.#failing = true;
      }
      this.#queuedBytes -= bytes;
    }
    this.#writing = undefined;
  }

  async #writeAll(buf: Uint8Array): Promise<void> {
    let off = 0;
    while (off < buf.byteLength) {
      this.writes++;
      off += await this.#sink.write(off === 0 ? buf : buf.subarray(off));
    }
  }
}

function openSink(path: string): Sink {
  if (path === "stdout") return { write: (p) => Deno.stdout.write(p) };
  if (path === "stderr") return { write: (p) => Deno.stderr.write(p) };
  const slash = path.lastIndexOf("/");
  if (slash > 0) Deno.mkdirSync(path.slice(0, slash), { recursive: true });
  return Deno.openSync(path, { write: true, append: true, create: true });
}
