/// <reference lib="dom" />
/**
 * The console's only I/O: JSON calls to the admin API of the origin it was served from, and the
 * Server-Sent Events stream read with fetch (EventSource cannot send the bearer token).
 */

import type {
  ConnectionsResponse,
  ConsoleClustersResponse,
  EventTopic,
  OverviewResponse,
} from "../../src/admin/console_types.ts";

const TOKEN_KEY = "mosn.console.token";

export function getToken(): string {
  try {
    return sessionStorage.getItem(TOKEN_KEY) ?? "";
  } catch {
    return "";
  }
}

export function setToken(token: string): void {
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // storage disabled: the token lives only as long as the page
  }
}

/** An admin answer that was not 2xx; `status` 401/403 means the token is missing or wrong. */
export class ApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

function headers(extra?: Record<string, string>): Record<string, string> {
  const h: Record<string, string> = { ...extra };
  const t = getToken();
  if (t) h["authorization"] = `Bearer ${t}`;
  return h;
}

async function failure(res: Response): Promise<ApiError> {
  let message = `${res.status} ${res.statusText}`;
  try {
    const body = await res.json() as { error?: string };
    if (body.error) message = body.error;
  } catch {
    // not JSON
  }
  return new ApiError(res.status, message);
}

export async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(path, { headers: headers(), cache: "no-store" });
  if (!res.ok) throw await failure(res);
  return await res.json() as T;
}

export async function postJson<T>(path: string, body: unknown): Promise<T> {
  const res = await fetch(path, {
    method: "POST",
    headers: headers({ "content-type": "application/json" }),
    body: JSON.stringify(body),
  });
  if (!res.ok) throw await failure(res);
  return await res.json() as T;
}

export interface LiveData {
  overview?: OverviewResponse;
  connections?: ConnectionsResponse;
  clusters?: ConsoleClustersResponse;
}

export type LiveEvent =
  | { topic: "overview"; data: OverviewResponse }
  | { topic: "connections"; data: ConnectionsResponse }
  | { topic: "clusters"; data: ConsoleClustersResponse };

/**
 * Reads `/api/v1/events` until `signal` aborts, calling `onEvent` per event; reconnects after
 * errors (with `onStatus` telling the UI). Resolves when aborted.
 */
export async function streamEvents(
  onEvent: (e: LiveEvent) => void,
  onStatus: (connected: boolean, error?: ApiError | Error) => void,
  signal: AbortSignal,
): Promise<void> {
  const topics: EventTopic[] = ["overview", "connections", "clusters"];
  while (!signal.aborted) {
    try {
      const res = await fetch(`/api/v1/events?topics=${topics.join(",")}`, {
        headers: headers({ accept: "text/event-stream" }),
        signal,
      });
      if (!res.ok || !res.body) throw await failure(res);
      onStatus(true);
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = "";
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buf += value;
        let end: number;
        while ((end = buf.indexOf("\n\n")) >= 0) {
          const frame = buf.slice(0, end);
          buf = buf.slice(end + 2);
          let event = "message", data = "";
          for (const line of frame.split("\n")) {
            if (line.startsWith("event: ")) event = line.slice(7);
            else if (line.startsWith("data: ")) data += line.slice(6);
          }
          if (data && topics.includes(event as EventTopic)) {
            onEvent({ topic: event, data: JSON.parse(data) } as LiveEvent);
          }
        }
      }
      onStatus(false);
    } catch (e) {
      if (signal.aborted) return;
      onStatus(false, e as Error);
      if (e instanceof ApiError && (e.status === 401 || e.status === 403)) return;
    }
    await new Promise((r) => setTimeout(r, 2000));
  }
}
