/** One coarse timer for every connection's idle timeout, instead of a timer reset per read. */

import { IdSet } from "../common/id_table.ts";

/**
 * A connection as the sweeper sees it: I/O sets `active`; each sweep that finds it unset adds
 * the sweep period to `idleMs`. So the hot path stores a boolean instead of reading a clock.
 */
interface Idle {
  readonly id: number;
  active: boolean;
  idleMs: number;
  idleTimeoutMs: number;
  close(mode: "flush" | "now", reason: "idle_timeout"): void;
}

const SWEEP_MS = 1000;

class IdleSweeper {
  /** An IdSet, not a Set: see src/common/id_table.ts (connections come and go). */
  readonly #items = new IdSet<Idle>();
  #timer: ReturnType<typeof setInterval> | undefined;

  add(c: Idle): void {
    this.#items.add(c);
    if (this.#timer === undefined) {
      const t = setInterval(() => this.#sweep(), SWEEP_MS);
      Deno.unrefTimer(t);
      this.#timer = t;
    }
  }

  delete(c: Idle): void {
    this.#items.delete(c);
    if (this.#items.size === 0 && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  #sweep(): void {
    for (const c of this.#items) {
      if (c.active) {
        c.active = false;
        c.idleMs = 0;
        continue;
      }
      c.idleMs += SWEEP_MS;
      // Timeout 0 = none (e.g. a pooled connection while it carries a request).
      if (c.idleTimeoutMs > 0 && c.idleMs >= c.idleTimeoutMs) c.close("now", "idle_timeout");
    }
  }
}

export const idleSweeper = new IdleSweeper();
