/** Registers the request-body limit under MOSN's type name "payload_limit". */

import type { StreamFilterFactory } from "../types.ts";
import { parsePayloadLimitConfig, type PayloadLimitConfig } from "./config.ts";
import { PayloadLimitFilter } from "./payload_limit.ts";

export const payloadLimitFactory: StreamFilterFactory<PayloadLimitConfig> = {
  type: "payload_limit",
  parseConfig: parsePayloadLimitConfig,
  prepare(config) {
    if (config.maxEntitySize <= 0) return () => ({});
    return () => ({ receiver: new PayloadLimitFilter(config) });
  },
};
