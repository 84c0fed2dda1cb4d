/**
 * Timers for the request path (a global and a per-try timeout per request). Like Node's own
 * timer lists: one doubly-linked list per duration, so deadlines in a list are in order; arming
 * appends, cancelling unlinks, both O(1) with no hashing and no runtime timer per request. One
 * interval (10 ms) fires what is due while any timer is armed.
 */

const TICK_MS = 10;

export class TimerHandle {
  readonly deadline: number;
  readonly fn: () => void;
  prev: TimerHandle | undefined;
  next: TimerHandle | undefined;
  list: TimerList | undefined;
  constructor(deadline: number, fn: () => void) {
    this.deadline = deadline;
    this.fn = fn;
  }
}

class TimerList {
  head: TimerHandle | undefined;
  tail: TimerHandle | undefined;
}

export class Timers {
  readonly #lists = new Map<number, TimerList>();
  #armed = 0;
  #interval: ReturnType<typeof setInterval> | undefined;

  get size(): number {
    return this.#armed;
  }

  /** Calls `fn` once, `ms` milliseconds from now (at most one tick late), unless cancelled. */
  schedule(ms: number, fn: () => void): TimerHandle {
    let list = this.#lists.get(ms);
    if (!list) this.#lists.set(ms, list = new TimerList());
    const t = new TimerHandle(Date.now() + ms, fn);
    t.list = list;
    t.prev = list.tail;
    if (list.tail) list.tail.next = t;
    else list.head = t;
    list.tail = t;
    if (this.#armed++ === 0 && this.#interval === undefined) this.#start();
    return t;
  }

  cancel(t: TimerHandle | undefined): void {
    if (!t || !t.list) return;
    this.#unlink(t);
    // The interval stops at its next tick when nothing is armed, not here: under load the count
    // touches 0 between requests, and a runtime interval made and cleared each time costs more
    // than an idle 10 ms tick.
    this.#armed--;
  }

  #unlink(t: TimerHandle): void {
    const list = t.list!;
    if (t.prev) t.prev.next = t.next;
    else list.head = t.next;
    if (t.next) t.next.prev = t.prev;
    else list.tail = t.prev;
    t.prev = t.next = t.list = undefined;
  }

  #start(): void {
    const i = setInterval(() => this.#tick(), TICK_MS);
    Deno.unrefTimer(i);
    this.#interval = i;
  }

  #stop(): void {
    if (this.#interval !== undefined) clearInterval(this.#interval);
    this.#interval = undefined;
  }

  #tick(): void {
    const now = Date.now();
    for (const [ms, list] of this.#lists) {
      let t = list.head;
      while (t && t.deadline <= now) {
        const next = t.next;
        this.#unlink(t);
        this.#armed--;
        try {
          t.fn();
        } catch (err) {
          queueMicrotask(() => {
            throw err;
          });
        }
        t = next && next.list ? next : list.head;
      }
      if (!list.head && this.#lists.size > 16) this.#lists.delete(ms);
    }
    if (this.#armed === 0) this.#stop();
  }
}

/** The process-wide timers for request and per-try timeouts. */
export const timers = new Timers();
