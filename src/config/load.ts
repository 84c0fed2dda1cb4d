/** Reads a config file (JSON or YAML), decodes it and parses it into the typed model. */

import { parse as parseYaml } from "yaml";
import { ConfigError } from "../common/errors.ts";
import { parseConfig, type ParseOptions, type ParseResult } from "./parse.ts";

/** Decodes JSON (.json) or YAML (.yaml/.yml); other names try JSON, then YAML. */
export function decodeConfigText(text: string, fileName: string): unknown {
  const lower = fileName.toLowerCase();
  const yaml = lower.endsWith(".yaml") || lower.endsWith(".yml");
  if (!yaml) {
    try {
      return JSON.parse(text);
    } catch (e) {
      if (lower.endsWith(".json")) {
        throw new ConfigError([{ path: "$", message: `not valid JSON: ${(e as Error).message}` }]);
      }
    }
  }
  try {
    const doc: unknown = parseYaml(text, { prettyErrors: true });
    if (doc === null || typeof doc !== "object") {
      throw new ConfigError([{
        path: "$",
        message: `not a JSON or YAML document with an object at the top`,
      }]);
    }
    return doc;
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    const msg = (e as Error).message.split("\n")[0];
    throw new ConfigError([{
      path: "$",
      message: `not valid ${yaml ? "YAML" : "JSON or YAML"}: ${msg}`,
    }]);
  }
}

export async function loadConfigFile(path: string, opts: ParseOptions): Promise<ParseResult> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new ConfigError([{ path: "$", message: `cannot read ${path}: ${(e as Error).message}` }]);
  }
  return parseConfig(decodeConfigText(text, path), opts);
}
