/** HTTP/2 counters per listener (downstream) or cluster (upstream): type `http2`. */

import type { Counter, Gauge, StatsRegistry } from "../../observability/stats.ts";

export interface Http2Stats {
  /** Streams open now. */
  readonly active: Gauge;
  readonly total: Counter;
  readonly resetsSent: Counter;
  readonly resetsReceived: Counter;
  /** Connection errors (GOAWAY with an error code sent). */
  readonly protocolErrors: Counter;
}

export function http2Stats(reg: StatsRegistry, labels: Record<string, string>): Http2Stats {
  const s = reg.scope("http2", labels);
  return {
    active: s.gauge("stream_active"),
    total: s.counter("stream_total"),
    resetsSent: s.counter("reset_sent_total"),
    resetsReceived: s.counter("reset_received_total"),
    protocolErrors: s.counter("protocol_error_total"),
  };
}
