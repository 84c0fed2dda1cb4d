/**
 * Server-Sent Events for the console. Each client has a bounded queue: at most one pending
 * snapshot per topic. A snapshot published while the previous one of the same topic is still
 * unsent replaces it (the client only ever needs the newest) and counts as dropped, so a slow or
 * stalled reader costs a fixed amount of memory however long it stalls. The response stream is
 * pulled by the HTTP server only as fast as the socket drains.
 */

import type { EventTopic } from "../console_types.ts";

const encoder = new TextEncoder();

/** Open event streams allowed at once; more answer 503. */
export const MAX_EVENT_CLIENTS = 32;

class Client {
  readonly topics: ReadonlySet<EventTopic>;
  /** topic → encoded SSE frame not yet handed to the stream. */
  readonly pending = new Map<EventTopic, string>();
  dropped = 0;
  /** Set while the stream waits for data (pull() returned a pending promise). */
  wake: (() => void) | undefined;
  controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  closed = false;

  constructor(topics: ReadonlySet<EventTopic>) {
    this.topics = topics;
  }

  push(topic: EventTopic, frame: string): void {
    if (this.pending.has(topic)) this.dropped++;
    this.pending.set(topic, frame);
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /** Moves everything pending into the stream as one chunk. */
  flush(): void {
    if (this.pending.size === 0 || !this.controller) return;
    let out = "";
    for (const f of this.pending.values()) out += f;
    this.pending.clear();
    this.controller.enqueue(encoder.encode(out));
  }
}

/** What a client's queue looks like now (tests and diagnostics). */
export interface ClientQueueState {
  readonly pending: number;
  readonly dropped: number;
}

export class EventHub {
  readonly #clients = new Set<Client>();

  get size(): number {
    return this.#clients.size;
  }

  /** Per-client queue state. */
  queues(): ClientQueueState[] {
    return [...this.#clients].map((c) => ({ pending: c.pending.size, dropped: c.dropped }));
  }

  /** True when some client listens to `topic` (so the snapshot is worth building). */
  wants(topic: EventTopic): boolean {
    for (const c of this.#clients) if (c.topics.has(topic)) return true;
    return false;
  }

  /**
   * Sends `data(dropped)` as event `topic` to each subscribed client; `data` gets the client's
   * dropped count so the overview event can report it.
   */
  publish(topic: EventTopic, data: (dropped: number) => unknown): void {
    let shared: string | undefined;
    for (const c of this.#clients) {
      if (!c.topics.has(topic)) continue;
      const frame = topic === "overview"
        ? sseFrame(topic, data(c.dropped))
        : (shared ??= sseFrame(topic, data(0)));
      c.push(topic, frame);
    }
  }

  /**
   * A streaming SSE response for a new client, or undefined when too many are open. `initial`
   * frames go out first.
   */
  open(topics: ReadonlySet<EventTopic>, initial: [EventTopic, unknown][]): Response | undefined {
    if (this.#clients.size >= MAX_EVENT_CLIENTS) return undefined;
    const client = new Client(topics);
    this.#clients.add(client);
    for (const [t, d] of initial) client.push(t, sseFrame(t, d));
    const remove = () => {
      client.closed = true;
      this.#clients.delete(client);
      const w = client.wake;
      client.wake = undefined;
      w?.();
    };
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        client.controller = controller;
        // Tells EventSource-style clients how long to wait before reconnecting.
        controller.enqueue(encoder.encode("retry: 2000\n\n"));
      },
      pull(controller) {
        if (client.closed) {
          controller.close();
          return;
        }
        if (client.pending.size > 0) {
          client.flush();
          return;
        }
        return new Promise<void>((resolve) => {
          client.wake = () => {
            if (client.closed) controller.close();
            else client.flush();
            resolve();
          };
        });
      },
      cancel: remove,
    }, { highWaterMark: 1 });
    return new Response(body, {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
        "x-accel-buffering": "no",
      },
    });
  }

  /**
   * Ends every stream (admin shutdown waits for open responses). Streams are errored rather than
   * closed: a close would wait for a stalled reader to take the queued data first.
   */
  closeAll(): void {
    for (const c of [...this.#clients]) {
      c.closed = true;
      this.#clients.delete(c);
      c.pending.clear();
      c.wake = undefined;
      try {
        c.controller?.error(new Error("admin server closing"));
      } catch {
        // already closed or errored by the reader going away
      }
    }
  }
}

function sseFrame(topic: EventTopic, data: unknown): string {
  return `event: ${topic}\ndata: ${JSON.stringify(data)}\n\n`;
}
