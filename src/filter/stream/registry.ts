/** The stream filter registry, keyed by the config `type` string; built-ins listed here. */

import { Registry } from "../../common/registry.ts";
import { faultFactory } from "./fault/factory.ts";
import { headerMutationFactory } from "./header_mutation/factory.ts";
import { payloadLimitFactory } from "./payload_limit/factory.ts";
import type { StreamFilterFactory } from "./types.ts";

export const streamFilters = new Registry<StreamFilterFactory>("stream filter");

streamFilters.register(faultFactory.type, faultFactory as StreamFilterFactory);
streamFilters.register(payloadLimitFactory.type, payloadLimitFactory as StreamFilterFactory);
streamFilters.register(headerMutationFactory.type, headerMutationFactory as StreamFilterFactory);
