/** Configs for the OpenTelemetry tests: HTTP proxies with a `tracing` block. */

import { httpDoc, simpleRouter } from "../_support/http.ts";
import { startInProcess } from "../_support/mosn.ts";
import type { MosnServer } from "../../src/server/server.ts";

export interface TracedProxyOptions {
  service: string;
  upstream: string;
  collector: string;
  protocol?: "http/protobuf" | "grpc";
  ratio?: number;
  propagators?: string[];
  batch?: Record<string, unknown>;
  route?: Record<string, unknown>;
  accessLogs?: unknown[];
  metrics?: Record<string, unknown>;
  timeout?: string;
  /** `proxy` filter config (downstream_protocol, upstream_protocol…). */
  proxy?: Record<string, unknown>;
}

export function tracing(o: TracedProxyOptions): Record<string, unknown> {
  return {
    enable: true,
    driver: "otel",
    config: {
      service_name: o.service,
      exporter: {
        protocol: o.protocol ?? "http/protobuf",
        endpoint: o.collector,
        timeout: o.timeout ?? "2s",
      },
      sample_ratio: o.ratio ?? 1,
      ...(o.propagators ? { propagators: o.propagators } : {}),
      batch: { scheduled_delay: "50ms", ...o.batch },
    },
  };
}

export function tracedHttpDoc(o: TracedProxyOptions): Record<string, unknown> {
  const doc = httpDoc({
    clusters: [{ name: "next", hosts: [{ address: o.upstream }] }],
    routers: [simpleRouter([{
      match: { prefix: "/" },
      route: { cluster_name: "next", ...o.route },
    }])],
    ...(o.accessLogs ? { accessLogs: o.accessLogs } : {}),
    ...(o.proxy ? { proxy: o.proxy } : {}),
  });
  return {
    ...doc,
    tracing: tracing(o),
    ...(o.metrics ? { metrics: o.metrics } : {}),
  };
}

/** startInProcess, then waits for the OpenTelemetry SDK to load (it loads in the background). */
export async function startTraced(
  doc: unknown,
  opts: { admin?: boolean } = {},
): Promise<MosnServer> {
  const s = startInProcess(doc, opts);
  await s.telemetry.ready;
  return s;
}
