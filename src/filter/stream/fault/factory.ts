/** Registers the fault-injection filter under MOSN's type name "fault". */

import type { StreamFilterFactory, StreamFilterPair } from "../types.ts";
import { type FaultConfig, parseFaultConfig } from "./config.ts";
import { FaultFilter } from "./fault.ts";

export const faultFactory: StreamFilterFactory<FaultConfig> = {
  type: "fault",
  parseConfig: parseFaultConfig,
  prepare(config, deps) {
    const delays = config.delayMs > 0 && config.delayChance > 0;
    const aborts = config.abortStatus > 0 && config.abortChance > 0;
    if (!delays && !aborts) return () => ({});
    const pair: StreamFilterPair = { receiver: new FaultFilter(config, deps.random) };
    return () => pair;
  },
};
