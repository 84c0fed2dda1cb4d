/** HTTP test helpers: proxy configs, origins on 127.0.0.1:0, raw-socket clients. */

import { readAll, writeAll } from "./net.ts";

export interface HttpDocOptions {
  routers: unknown[];
  clusters: {
    name: string;
    lb_type?: string;
    hosts: { address: string; weight?: number; metadata?: unknown }[];
    [k: string]: unknown;
  }[];
  listener?: Record<string, unknown>;
  proxy?: Record<string, unknown>;
  streamFilters?: unknown[];
  accessLogs?: unknown[];
}

/** One listener on 127.0.0.1:0 with the `proxy` filter on router "r1" (unless given). */
export function httpDoc(o: HttpDocOptions): Record<string, unknown> {
  return {
    servers: [{
      default_log_level: "ERROR",
      graceful_timeout: "5s",
      routers: o.routers,
      listeners: [{
        name: "http",
        address: "127.0.0.1:0",
        ...o.listener,
        ...(o.streamFilters ? { stream_filters: o.streamFilters } : {}),
        ...(o.accessLogs ? { access_logs: o.accessLogs } : {}),
        filter_chains: [{
          filters: [{
            type: "proxy",
            config: { downstream_protocol: "Http1", router_config_name: "r1", ...o.proxy },
          }],
        }],
      }],
    }],
    cluster_manager: {
      clusters: o.clusters.map((c) => ({
        type: "SIMPLE",
        lb_type: "LB_ROUNDROBIN",
        connect_timeout: "1s",
        ...c,
      })),
    },
    admin: { address: { socket_address: { address: "127.0.0.1", port_value: 0 } } },
  };
}

/** A router "r1" with one catch-all virtual host holding `routes`. */
export function simpleRouter(routes: unknown[], extra: Record<string, unknown> = {}): unknown {
  return {
    router_config_name: "r1",
    virtual_hosts: [{ name: "vh", domains: ["*"], routers: routes }],
    ...extra,
  };
}

export interface Origin {
  readonly port: number;
  readonly address: string;
  requests: number;
  close(): Promise<void>;
}

/** A Deno.serve origin on 127.0.0.1:0. */
export function origin(
  handler: (req: Request) => Response | Promise<Response>,
  port = 0,
): Origin {
  const o = { requests: 0 } as { requests: number };
  const server = Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, (req) => {
    o.requests++;
    return handler(req);
  });
  return Object.assign(o, {
    port: server.addr.port,
    address: `127.0.0.1:${server.addr.port}`,
    close: () => server.shutdown(),
  });
}

/** Sends raw bytes, half-closes, and returns everything the proxy answers (until it closes). */
export async function rawExchange(
  port: number,
  text: string | Uint8Array,
  halfClose = true,
): Promise<string> {
  const c = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await writeAll(c, typeof text === "string" ? new TextEncoder().encode(text) : text);
    if (halfClose) await c.closeWrite();
    return new TextDecoder().decode(await readAll(c));
  } finally {
    c.close();
  }
}

/** Reads one HTTP/1.1 response (head + Content-Length body) from a raw connection. */
export async function readResponse(c: Deno.Conn, carry: { buf: Uint8Array }): Promise<{
  status: number;
  headers: Record<string, string>;
  body: string;
}> {
  const dec = new TextDecoder();
  const tmp = new Uint8Array(65536);
  const append = (n: number) => {
    const b = new Uint8Array(carry.buf.byteLength + n);
    b.set(carry.buf);
    b.set(tmp.subarray(0, n), carry.buf.byteLength);
    carry.buf = b;
  };
  let headEnd = -1;
  for (;;) {
    headEnd = dec.decode(carry.buf).indexOf("\r\n\r\n");
    if (headEnd >= 0) break;
    const n = await c.read(tmp);
    if (n === null) throw new Error("connection closed before a response head");
    append(n);
  }
  const headText = dec.decode(carry.buf.subarray(0, headEnd));
  const [statusLine, ...lines] = headText.split("\r\n");
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(":");
    headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  const len = Number(headers["content-length"] ?? "0");
  const start = headEnd + 4;
  while (carry.buf.byteLength < start + len) {
    const n = await c.read(tmp);
    if (n === null) throw new Error("connection closed mid-body");
    append(n);
  }
  const body = dec.decode(carry.buf.subarray(start, start + len));
  carry.buf = carry.buf.slice(start + len);
  return { status: Number(statusLine!.split(" ")[1]), headers, body };
}
