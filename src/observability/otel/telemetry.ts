/**
 * OpenTelemetry for one MosnServer: traces and OTLP metrics as configured by the `tracing` /
 * `metrics` blocks plus OTEL_* variables. When neither is configured nothing of the SDK is
 * loaded. Otherwise the SDK side (`otel_runtime.ts`) is imported in the background: `ready`
 * resolves once it runs (the CLI waits for it before accepting), and until then requests are
 * simply not traced. Flushed and shut down (bounded) on stop.
 */

import { log } from "../../common/logger.ts";
import type { MetricsConfig, TracingConfig } from "../../config/model.ts";
import type { StatsRegistry } from "../stats.ts";
import type { OtelRuntime } from "./otel_runtime.ts";
import {
  type EnvLookup,
  type MetricsSettings,
  metricsSettings,
  processEnv,
  type TracingSettings,
  tracingSettings,
} from "./settings.ts";
import type { RequestTracing, ServerTrace } from "./types.ts";
import type { StreamInfo } from "../../stream/stream_info.ts";
import type { RequestMessage } from "../../stream/types.ts";

/** A listener's tracing, bound to the SDK once it has loaded. */
class DeferredTracing implements RequestTracing {
  target: RequestTracing | undefined;
  startServer(req: RequestMessage, info: StreamInfo): ServerTrace | undefined {
    return this.target?.startServer(req, info);
  }
}

/** Bounds a promise so shutdown never hangs on a dead collector. */
function within(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p.then(() => {}, (e) => log.debug("otel: flush failed", { err: e })),
    new Promise<void>((r) => (timer = setTimeout(r, ms))),
  ]).finally(() => clearTimeout(timer));
}

export class Telemetry {
  readonly tracingSettings: TracingSettings | undefined;
  readonly metricsSettings: MetricsSettings | undefined;
  /** Resolves when the SDK runs (at once when telemetry is off); never rejects. */
  readonly ready: Promise<void>;
  #runtime: OtelRuntime | undefined;
  readonly #listeners = new Map<string, DeferredTracing>();

  constructor(
    cfg: { tracing?: TracingConfig; metrics: MetricsConfig },
    stats: StatsRegistry,
    env: EnvLookup = processEnv,
  ) {
    const ts = this.tracingSettings = tracingSettings(cfg.tracing, env);
    const ms = this.metricsSettings = metricsSettings(cfg.metrics, env);
    if (!ts && !ms) {
      this.ready = Promise.resolve();
      return;
    }
    this.ready = import("./otel_runtime.ts").then(
      (m) => {
        const rt = this.#runtime = new m.OtelRuntime(ts, ms, stats);
        for (const [name, d] of this.#listeners) d.target = rt.tracing(name);
      },
      (e) => log.error("otel: the OpenTelemetry SDK failed to load; telemetry off", { err: e }),
    );
  }

  /** The request tracing of one listener; undefined when tracing is off (the proxy skips it). */
  tracing(listenerName: string): RequestTracing | undefined {
    if (!this.tracingSettings) return undefined;
    let d = this.#listeners.get(listenerName);
    if (!d) {
      this.#listeners.set(listenerName, d = new DeferredTracing());
      d.target = this.#runtime?.tracing(listenerName);
    }
    return d;
  }

  /** Exports every finished span and the current metrics now. */
  async forceFlush(): Promise<void> {
    await this.ready;
    await this.#runtime?.forceFlush();
  }

  /** Flushes, then stops the exporters; gives up after `timeoutMs`. */
  shutdown(timeoutMs = 5000): Promise<void> {
    return within(this.ready.then(() => this.#runtime?.shutdown()), timeoutMs);
  }
}
