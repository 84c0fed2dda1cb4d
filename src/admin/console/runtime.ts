/** The admin server's console machinery: the overview sampler, the event hub and the assets. */

import type { AdminSource } from "../types.ts";
import { EVENT_TOPICS } from "../console_types.ts";
import { ConsoleAssets } from "./assets.ts";
import { EventHub } from "./events.ts";
import { OverviewSampler } from "./sampler.ts";
import { clustersView, connectionEntries, connectionsView, overviewView } from "./views.ts";

export interface ConsoleRuntimeOptions {
  /** Sample and event interval (default 1000 ms). */
  readonly intervalMs?: number;
  /** The built console (default console/dist/ of this checkout). */
  readonly assetsDir?: URL;
  readonly now?: () => number;
}

export class ConsoleRuntime {
  readonly sampler: OverviewSampler;
  readonly hub = new EventHub();
  readonly assets: ConsoleAssets;
  readonly intervalMs: number;
  readonly #source: AdminSource;
  readonly #now: () => number;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(source: AdminSource, options: ConsoleRuntimeOptions = {}) {
    this.#source = source;
    this.#now = options.now ?? Date.now;
    this.intervalMs = options.intervalMs ?? 1000;
    this.sampler = new OverviewSampler(source.stats, { now: this.#now });
    this.assets = new ConsoleAssets(options.assetsDir);
  }

  start(): void {
    if (this.#timer !== undefined) return;
    const timer = setInterval(() => this.#tick(), this.intervalMs);
    // Sampling must not keep a process alive that has nothing else to do.
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.hub.closeAll();
  }

  overview(withHistory: boolean): ReturnType<typeof overviewView> {
    return {
      ...overviewView(this.#source, this.sampler, this.#now(), withHistory),
      sample_interval_ms: this.intervalMs,
    };
  }

  connections(): ReturnType<typeof connectionsView> {
    return connectionsView(connectionEntries(this.#source), this.#now());
  }

  clusters(): ReturnType<typeof clustersView> {
    return clustersView(this.#source);
  }

  #tick(): void {
    try {
      const point = this.sampler.sample();
      const hub = this.hub;
      if (hub.size === 0) return;
      for (const topic of EVENT_TOPICS) {
        if (!hub.wants(topic)) continue;
        if (topic === "overview") {
          const o = this.overview(false);
          hub.publish(topic, (dropped) => ({ ...o, point, dropped }));
        } else if (topic === "connections") {
          const c = this.connections();
          hub.publish(topic, () => c);
        } else {
          const c = this.clusters();
          hub.publish(topic, () => c);
        }
      }
    } catch (e) {
      this.#source.logger.error("admin: console sample failed", { error: e });
    }
  }
}
