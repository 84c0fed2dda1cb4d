/** `GET /api/v1/get_loglevel` and `POST /api/v1/update_loglevel` (MOSN's body shape). */

import { isLogLevel, LOG_LEVELS } from "../../common/logger.ts";
import type { AdminContext } from "../http.ts";
import { BodyTooLargeError, json, jsonError, readBody } from "../http.ts";
import type { LogLevelResponse, UpdateLogLevelResponse } from "../types.ts";

/** Bodies above this are refused (413); a log level request is a few dozen bytes. */
const MAX_BODY_BYTES = 64 * 1024;

/** `GET /api/v1/get_loglevel`: {@link LogLevelResponse}. */
export function getLogLevel(ctx: AdminContext): Response {
  const level = ctx.source.logger.level;
  const body: LogLevelResponse = { log_level: level, loggers: { default: level } };
  return json(body);
}

/**
 * `POST /api/v1/update_loglevel` with `{"log_level": "DEBUG"}` (`log_path` accepted, ignored):
 * 200 {@link UpdateLogLevelResponse}; 400 for a body that is not such an object or names an
 * unknown level; 413 for an oversized body.
 */
export async function updateLogLevel(ctx: AdminContext): Promise<Response> {
  let raw: string;
  try {
    raw = await readBody(ctx.request, MAX_BODY_BYTES);
  } catch (e) {
    if (e instanceof BodyTooLargeError) return jsonError(413, e.message);
    throw e;
  }
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    return jsonError(400, `body is not JSON; expected {"log_level": "<level>"}, got ${clip(raw)}`);
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return jsonError(400, `body must be a JSON object {"log_level": "<level>"}, got ${clip(raw)}`);
  }
  const given = (body as Record<string, unknown>)["log_level"];
  if (typeof given !== "string") {
    return jsonError(400, `"log_level" must be a string, one of ${LOG_LEVELS.join(", ")}`);
  }
  const level = given.toUpperCase();
  if (!isLogLevel(level)) {
    return jsonError(
      400,
      `unknown log_level ${JSON.stringify(given)}; expected one of ${LOG_LEVELS.join(", ")}`,
    );
  }
  const logger = ctx.source.logger;
  const previous = logger.level;
  logger.setLevel(level);
  logger.info("admin: log level updated", { log_level: level, previous_log_level: previous });
  const answer: UpdateLogLevelResponse = {
    message: "update logger success",
    log_level: level,
    previous_log_level: previous,
  };
  return json(answer);
}

/** The start of an offending body, JSON-quoted, for error messages. */
function clip(s: string): string {
  return JSON.stringify(s.length > 80 ? s.slice(0, 80) + "…" : s);
}
