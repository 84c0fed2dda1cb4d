/** Registers header add/remove under "header_mutation" (MOSN has no stream filter of its own). */

import type { StreamFilterFactory, StreamFilterPair } from "../types.ts";
import { type HeaderMutationConfig, parseHeaderMutationConfig } from "./config.ts";
import { RequestHeaderMutation, ResponseHeaderMutation } from "./header_mutation.ts";

export const headerMutationFactory: StreamFilterFactory<HeaderMutationConfig> = {
  type: "header_mutation",
  parseConfig: parseHeaderMutationConfig,
  prepare(config) {
    const pair: StreamFilterPair = {};
    if (config.request.length > 0) pair.receiver = new RequestHeaderMutation(config.request);
    if (config.response.length > 0) pair.sender = new ResponseHeaderMutation(config.response);
    return () => pair;
  },
};
