/** The config parser wired to the built-in extension registries (the CLI and tests use this). */

import type { ParseOptions } from "../config/parse.ts";
import { networkFilters } from "../filter/network/registry.ts";
import { streamFilters } from "../filter/stream/registry.ts";
import { parseAccessLogFormat } from "../observability/access_log.ts";

export const PARSE_OPTIONS: ParseOptions = {
  networkFilters,
  streamFilters,
  checkAccessLogFormat(format) {
    const r = parseAccessLogFormat(format);
    return typeof r === "string" ? r : undefined;
  },
};
