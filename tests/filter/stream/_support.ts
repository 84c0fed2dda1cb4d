/** Fake per-request callbacks for driving stream filters without a proxy. */

import { ParseContext } from "../../../src/config/reader.ts";
import { ObjReader } from "../../../src/config/reader.ts";
import type {
  StreamFilterCallbacks,
  StreamFilterFactory,
} from "../../../src/filter/stream/types.ts";
import { HeaderMap } from "../../../src/protocol/header_map.ts";
import { StreamInfo } from "../../../src/stream/stream_info.ts";

export const CONFIG_PATH = "servers[0].listeners[0].stream_filters[0].config";

export interface LocalReply {
  status: number;
  body: string | undefined;
  headers: Record<string, string> | undefined;
}

export interface FakeCallbacks extends StreamFilterCallbacks {
  readonly replies: LocalReply[];
}

export function callbacks(
  headers: Record<string, string> = {},
  info = new StreamInfo(),
): FakeCallbacks {
  const replies: LocalReply[] = [];
  return {
    info,
    requestHeaders: HeaderMap.from(headers),
    replies,
    sendLocalReply(status, body, hdrs) {
      replies.push({ status, body, headers: hdrs });
    },
  };
}

/** Parses `config` with `factory`, returning the config and the context's issues/warnings. */
export function parse<C>(factory: StreamFilterFactory<C>, config: unknown): {
  config: C | undefined;
  ctx: ParseContext;
} {
  const ctx = new ParseContext();
  const r = ObjReader.of(ctx, config, CONFIG_PATH);
  return { config: r ? factory.parseConfig(r) : undefined, ctx };
}

/** Parses a config that must be valid. */
export function parseOk<C>(factory: StreamFilterFactory<C>, config: unknown): C {
  const { config: c, ctx } = parse(factory, config);
  if (ctx.issues.length > 0 || c === undefined) {
    throw new Error(`unexpected issues: ${JSON.stringify(ctx.issues)}`);
  }
  return c;
}

/** xorshift32 in [0, 1): deterministic randomness for percentage tests. */
export function seededRandom(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
}
