/** A tiny built-in HTTP origin (config `demo_upstreams`) so a first `deno task start` shows a working proxy. */

import type { DemoUpstreamConfig } from "../config/model.ts";

export interface DemoUpstream {
  readonly name: string;
  readonly port: number;
  close(): Promise<void>;
}

export function startDemoUpstream(cfg: DemoUpstreamConfig): DemoUpstream {
  if (cfg.address.kind !== "tcp") throw new Error("demo upstreams listen on TCP only");
  const body = new TextEncoder().encode(cfg.body);
  const server = Deno.serve(
    // SO_REUSEPORT like the listeners, so that a new process can start beside this one.
    { hostname: cfg.address.host, port: cfg.address.port, reusePort: true, onListen() {} },
    (req) =>
      new Response(req.method === "HEAD" ? null : body, {
        headers: { "content-type": "text/plain; charset=utf-8", "x-served-by": cfg.name },
      }),
  );
  return {
    name: cfg.name,
    port: server.addr.port,
    close: () => server.shutdown(),
  };
}
