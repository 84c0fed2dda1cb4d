/**
 * A batch span processor whose queue is bounded and whose losses are counted in the stats
 * registry (type `tracing`): `span_exported`, `span_dropped` (queue full), `span_export_failed`
 * (spans in a batch the collector did not take), `export_failed` (batches). One export runs at a
 * time; while the collector is slow or down the queue fills and further spans are dropped —
 * `onEnd` never waits and never allocates more than one array slot.
 */

import { type ExportResult, ExportResultCode } from "@opentelemetry/core";
import type { ReadableSpan, Span, SpanExporter, SpanProcessor } from "@opentelemetry/sdk-trace";
import type { Counter, Gauge, Scope } from "../stats.ts";

export interface BoundedBatchOptions {
  /** Spans kept while waiting for export; beyond this they are dropped. Default 2048. */
  readonly maxQueueSize: number;
  /** Spans per export request. Default 512. */
  readonly maxExportBatchSize: number;
  /** How long a partial batch waits before it is sent. Default 5 s. */
  readonly scheduledDelayMs: number;
  /** An export that takes longer counts as failed (its spans dropped). Default 30 s. */
  readonly exportTimeoutMs: number;
}

export const DEFAULT_BATCH: BoundedBatchOptions = {
  maxQueueSize: 2048,
  maxExportBatchSize: 512,
  scheduledDelayMs: 5000,
  exportTimeoutMs: 30_000,
};

export class BoundedBatchSpanProcessor implements SpanProcessor {
  readonly #exporter: SpanExporter;
  readonly #opts: BoundedBatchOptions;
  #queue: ReadableSpan[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #flushing = false;
  #exporting: Promise<void> | undefined;
  #shutdown = false;
  readonly #exported: Counter;
  readonly #dropped: Counter;
  readonly #exportFailedSpans: Counter;
  readonly #exportFailed: Counter;
  readonly #queued: Gauge;

  constructor(exporter: SpanExporter, opts: BoundedBatchOptions, stats: Scope) {
    this.#exporter = exporter;
    this.#opts = opts;
    this.#exported = stats.counter("span_exported");
    this.#dropped = stats.counter("span_dropped");
    this.#exportFailedSpans = stats.counter("span_export_failed");
    this.#exportFailed = stats.counter("export_failed");
    this.#queued = stats.gauge("span_queued");
  }

  onStart(_span: Span): void {}

  onEnd(span: ReadableSpan): void {
    if (this.#shutdown) return;
    const q = this.#queue;
    if (q.length >= this.#opts.maxQueueSize) {
      this.#dropped.inc();
      return;
    }
    q.push(span);
    this.#queued.set(q.length);
    if (q.length >= this.#opts.maxExportBatchSize) this.#kick();
    else if (this.#timer === undefined) this.#schedule();
  }

  #schedule(): void {
    const t = this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#kick();
    }, this.#opts.scheduledDelayMs);
    // Never keep the process alive for telemetry.
    Deno.unrefTimer(t);
  }

  /** Starts an export unless one is running (the running one continues with the rest). */
  #kick(): void {
    if (this.#exporting || this.#queue.length === 0) return;
    this.#exporting = this.#drain().finally(() => (this.#exporting = undefined));
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#opts.maxExportBatchSize);
      this.#queued.set(this.#queue.length);
      const r = await this.#exportOne(batch);
      if (r.code === ExportResultCode.SUCCESS) this.#exported.inc(batch.length);
      else {
        this.#exportFailed.inc();
        this.#exportFailedSpans.inc(batch.length);
      }
      // A partial batch waits for the timer (or the next full one) unless flushing.
      if (this.#queue.length < this.#opts.maxExportBatchSize && !this.#flushing) break;
    }
    if (this.#queue.length > 0 && this.#timer === undefined) this.#schedule();
  }

  #exportOne(batch: ReadableSpan[]): Promise<ExportResult> {
    return new Promise((resolve) => {
      let settled = false;
      const timer = setTimeout(() => {
        settled = true;
        resolve({ code: ExportResultCode.FAILED, error: new Error("export timed out") });
      }, this.#opts.exportTimeoutMs);
      Deno.unrefTimer(timer);
      try {
        this.#exporter.export(batch, (r) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve(r);
        });
      } catch (e) {
        settled = true;
        clearTimeout(timer);
        resolve({ code: ExportResultCode.FAILED, error: e as Error });
      }
    });
  }

  /** Exports everything queued now (waits for a running export first). */
  async forceFlush(): Promise<void> {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    this.#flushing = true;
    try {
      while (this.#exporting || this.#queue.length > 0) {
        if (this.#exporting) await this.#exporting;
        else this.#kick();
      }
    } finally {
      this.#flushing = false;
    }
  }

  async shutdown(): Promise<void> {
    if (this.#shutdown) return;
    await this.forceFlush();
    this.#shutdown = true;
    await this.#exporter.shutdown();
  }
}
