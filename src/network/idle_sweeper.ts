/** One coarse timer for every connection's idle timeout, instead of a timer reset per read. */

interface Idle {
  lastActivity: number;
  idleTimeoutMs: number;
  close(mode: "flush" | "now", reason: "idle_timeout"): void;
}

const SWEEP_MS = 1000;

class IdleSweeper {
  readonly #items = new Set<Idle>();
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
    const now = Date.now();
    for (const c of this.#items) {
      if (c.idleTimeoutMs > 0 && now - c.lastActivity >= c.idleTimeoutMs) {
        c.close("now", "idle_timeout");
      }
    }
  }
}

export const idleSweeper = new IdleSweeper();
