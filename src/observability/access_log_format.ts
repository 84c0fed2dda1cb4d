/**
 * Access-log format strings (MOSN's `%variable%` and Envoy's `%COMMAND(arg):N%`), compiled once
 * into a list of literal strings and getter functions so a log line costs no parsing.
 *
 * Variable names match case-insensitively. Where MOSN and Envoy share a name but print it
 * differently, the all-lowercase spelling gets MOSN's text and any other spelling Envoy's:
 * `%duration%` → "1.52ms" (Go duration), `%DURATION%` → "1" (whole ms);
 * `%start_time%` → "2024/05/01 10:00:00.123" (local), `%START_TIME%` → ISO 8601 UTC.
 */

import type { HeaderMap } from "../protocol/header_map.ts";
import type { StreamInfo } from "../stream/stream_info.ts";
import { compileStrftime, goDuration, mosnStartTime } from "./access_log_time.ts";

/** Envoy's default access-log line (without its request-id/forwarded-for columns). */
export const DEFAULT_ACCESS_LOG_FORMAT = '[%START_TIME%] "%REQ(:METHOD)% ' +
  '%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% ' +
  '%BYTES_RECEIVED% %BYTES_SENT% %DURATION% "%REQ(USER-AGENT)%" "%UPSTREAM_HOST%"\n';

/** Reads one fact; "" means "not known" (printed as the caller's `missing` text). */
type Getter = (info: StreamInfo) => string;

/** Builds a getter from the optional `(arg)`; `mosn` is true for an all-lowercase spelling. */
type Builder = (arg: string | undefined, mosn: boolean) => Getter | string;

type Segment = string | Getter;

/** A format ready to print StreamInfos; build it with `parseAccessLogFormat`. */
export class CompiledFormat {
  /** The format text as configured. */
  readonly source: string;
  /** How many variables the format has (0: the text is constant). */
  readonly variableCount: number;
  readonly #segments: readonly Segment[];

  constructor(source: string, segments: readonly Segment[]) {
    this.source = source;
    this.#segments = segments;
    this.variableCount = segments.filter((s) => typeof s !== "string").length;
  }

  /** The formatted text; variables without a value print `missing`. */
  format(info: StreamInfo, missing = "-"): string {
    let out = "";
    const segs = this.#segments;
    for (let i = 0; i < segs.length; i++) {
      const s = segs[i]!;
      if (typeof s === "string") out += s;
      else {
        const v = s(info);
        out += v === "" ? missing : v;
      }
    }
    return out;
  }
}

const noArg = (get: Getter): Builder => (arg) =>
  arg === undefined || arg === "" ? get : "takes no argument";

const wholeMs = (ms: number): string => (ms < 0 ? "" : String(Math.floor(ms)));
const goMs = (ms: number): string => (ms < 0 ? "" : goDuration(ms));

/** "10.0.0.1:80" → "10.0.0.1", "[::1]:80" → "::1"; a bare IPv6 address is left alone. */
function withoutPort(addr: string): string {
  if (addr.startsWith("[")) {
    const end = addr.indexOf("]");
    return end < 0 ? addr : addr.slice(1, end);
  }
  const colon = addr.indexOf(":");
  return colon >= 0 && colon === addr.lastIndexOf(":") ? addr.slice(0, colon) : addr;
}

/** A fact StreamInfo does not carry yet: accepted (MOSN's default format uses it), prints "-". */
const unknown: Builder = noArg(() => "");

let hostName: string | undefined;
function hostname(): string {
  if (hostName === undefined) {
    try {
      hostName = Deno.hostname();
    } catch {
      hostName = "";
    }
  }
  return hostName;
}

/** One header (or pseudo-header) of the request or the response. */
function headerGetter(name: string, response: boolean): Getter {
  const lname = name.toLowerCase();
  const fromMap = (h: HeaderMap | undefined): string => h?.get(lname) ?? "";
  if (!response) {
    switch (lname) {
      case ":method":
        return (i) => i.method || fromMap(i.requestHeaders);
      case ":path":
        return (i) => i.path || fromMap(i.requestHeaders);
      case ":authority":
        return (i) =>
          i.authority || fromMap(i.requestHeaders) || (i.requestHeaders?.get("host") ?? "");
    }
    return (i) => fromMap(i.requestHeaders);
  }
  if (lname === ":status") {
    return (i) => (i.responseCode > 0 ? String(i.responseCode) : fromMap(i.responseHeaders));
  }
  return (i) => fromMap(i.responseHeaders);
}

/** Envoy's `REQ(X?Y)`: header X, else header Y. */
function headerOp(response: boolean): Builder {
  return (arg) => {
    if (!arg) return "needs a header name, e.g. (USER-AGENT)";
    const alt = arg.indexOf("?");
    if (alt < 0) return headerGetter(arg.trim(), response);
    const a = arg.slice(0, alt).trim();
    const b = arg.slice(alt + 1).trim();
    if (!a || !b || b.includes("?")) return `expected (NAME) or (NAME?FALLBACK), got (${arg})`;
    const first = headerGetter(a, response);
    const second = headerGetter(b, response);
    return (i) => first(i) || second(i);
  };
}

const VARIABLES = new Map<string, Builder>([
  // Shared by MOSN and Envoy (printed the same way)
  ["protocol", noArg((i) => i.protocol)],
  ["response_code", noArg((i) => String(i.responseCode))],
  ["response_flag", noArg((i) => i.flagsText())],
  ["response_flags", noArg((i) => i.flagsText())],
  ["bytes_received", noArg((i) => String(i.bytesReceived))],
  ["bytes_sent", noArg((i) => String(i.bytesSent))],
  ["upstream_host", noArg((i) => i.upstreamHost)],
  ["upstream_cluster", noArg((i) => i.upstreamCluster)],
  ["upstream_local_address", noArg((i) => i.upstreamLocalAddress)],
  ["downstream_local_address", noArg((i) => i.downstreamLocalAddress)],
  ["downstream_remote_address", noArg((i) => i.downstreamRemoteAddress)],
  ["route_name", noArg((i) => i.routeName)],
  ["requested_server_name", noArg((i) => i.downstreamTls?.sni ?? "")],
  ["upstream_transport_failure_reason", unknown],
  ["connection_id", unknown],
  // Differ by spelling: lowercase → MOSN, otherwise Envoy
  ["start_time", (arg, mosn) => {
    if (arg) {
      const fmt = compileStrftime(arg);
      return (i) => fmt(i.startTime);
    }
    return mosn ? (i) => mosnStartTime(i.startTime) : (i) => new Date(i.startTime).toISOString();
  }],
  ["duration", (arg, mosn) => {
    if (arg) return "takes no argument";
    return mosn ? (i) => goMs(i.durationMs) : (i) => wholeMs(i.durationMs);
  }],
  // MOSN
  ["request_received_duration", unknown],
  ["response_received_duration", noArg((i) => goMs(i.firstUpstreamByteMs))],
  ["request_finished_duration", noArg((i) => goMs(i.durationMs))],
  ["process_time_duration", unknown],
  ["trace_id", noArg((i) => i.traceId)],
  ["span_id", noArg((i) => i.spanId)],
  ["upstream_connection_id", unknown],
  ["x-mosn-method", noArg((i) => i.method)],
  ["x-mosn-host", noArg((i) => i.authority)],
  ["x-mosn-path", noArg((i) => pathOnly(i.path))],
  ["x-mosn-querystring", noArg((i) => queryOnly(i.path))],
  // Envoy
  ["req", headerOp(false)],
  ["resp", headerOp(true)],
  ["request_duration", unknown],
  ["response_duration", noArg((i) => wholeMs(i.firstUpstreamByteMs))],
  [
    "response_tx_duration",
    noArg((i) =>
      i.durationMs < 0 || i.firstUpstreamByteMs < 0
        ? ""
        : wholeMs(i.durationMs - i.firstUpstreamByteMs)
    ),
  ],
  ["upstream_remote_address", noArg((i) => i.upstreamHost)],
  ["downstream_direct_remote_address", noArg((i) => i.downstreamRemoteAddress)],
  ["downstream_remote_address_without_port", noArg((i) => withoutPort(i.downstreamRemoteAddress))],
  [
    "downstream_direct_remote_address_without_port",
    noArg((i) => withoutPort(i.downstreamRemoteAddress)),
  ],
  ["downstream_local_address_without_port", noArg((i) => withoutPort(i.downstreamLocalAddress))],
  [
    "downstream_peer_uri_san",
    noArg((i) => i.downstreamTls?.peerUriSans.join(",") ?? i.downstreamPeerIdentity),
  ],
  ["downstream_peer_subject", noArg((i) => i.downstreamTls?.peerSubject ?? "")],
  ["downstream_tls_version", noArg((i) => i.downstreamTls?.version ?? "")],
  ["downstream_tls_cipher", noArg((i) => i.downstreamTls?.cipher ?? "")],
  ["downstream_alpn", noArg((i) => i.downstreamTls?.alpn ?? "")],
  [
    "upstream_request_attempt_count",
    noArg((i) => String(i.upstreamHost || i.retries > 0 ? i.retries + 1 : 0)),
  ],
  ["hostname", noArg(() => hostname())],
]);

const REQUEST_HEADER_PREFIX = "request_header_";
const RESPONSE_HEADER_PREFIX = "response_header_";

function pathOnly(path: string): string {
  const q = path.indexOf("?");
  return q < 0 ? path : path.slice(0, q);
}

function queryOnly(path: string): string {
  const q = path.indexOf("?");
  return q < 0 ? "" : path.slice(q + 1);
}

/** Every variable name understood (lowercase; `request_header_*`/`response_header_*` are prefixes). */
export function accessLogVariableNames(): string[] {
  return [...VARIABLES.keys(), `${REQUEST_HEADER_PREFIX}*`, `${RESPONSE_HEADER_PREFIX}*`];
}

function isNameChar(c: string): boolean {
  return c !== "%" && c !== "(" && c !== ":" && c > " ";
}

/**
 * Compiles an access-log format, or returns why it cannot: an unknown variable, an unclosed
 * `%`, a bad argument. `%%` and `\%` print a literal "%".
 *
 * @example
 * ```ts
 * const f = parseAccessLogFormat("%REQ(:METHOD)% %RESPONSE_CODE%");
 * if (typeof f === "string") throw new Error(f);
 * f.format(info); // "GET 200"
 * ```
 */
export function parseAccessLogFormat(format: string): CompiledFormat | string {
  const segments: Segment[] = [];
  let text = "";
  let i = 0;
  while (i < format.length) {
    const c = format[i]!;
    if (c === "\\" && format[i + 1] === "%") {
      text += "%";
      i += 2;
      continue;
    }
    if (c !== "%") {
      text += c;
      i++;
      continue;
    }
    if (format[i + 1] === "%") {
      text += "%";
      i += 2;
      continue;
    }
    const start = i;
    let j = i + 1;
    while (j < format.length && isNameChar(format[j]!)) j++;
    const name = format.slice(i + 1, j);
    const shown = JSON.stringify(format.slice(start, start + 40));
    if (!name) return `expected a variable name after "%" at offset ${start}: ${shown}`;
    let arg: string | undefined;
    if (format[j] === "(") {
      const close = format.indexOf(")", j + 1);
      if (close < 0) return `unclosed "(" in variable at offset ${start}: ${shown}`;
      arg = format.slice(j + 1, close);
      j = close + 1;
    }
    let maxLen: number | undefined;
    if (format[j] === ":") {
      let k = j + 1;
      while (k < format.length && format[k]! >= "0" && format[k]! <= "9") k++;
      if (k === j + 1) {
        return `expected a length after ":" in variable at offset ${start}: ${shown}`;
      }
      maxLen = Number(format.slice(j + 1, k));
      j = k;
    }
    if (format[j] !== "%") return `unclosed variable at offset ${start}: ${shown}`;
    i = j + 1;

    const lname = name.toLowerCase();
    let get: Getter | string;
    const build = VARIABLES.get(lname);
    if (build) get = build(arg, name === lname);
    else if (
      lname.startsWith(REQUEST_HEADER_PREFIX) && lname.length > REQUEST_HEADER_PREFIX.length
    ) {
      get = arg === undefined
        ? headerGetter(name.slice(REQUEST_HEADER_PREFIX.length), false)
        : "takes no argument";
    } else if (
      lname.startsWith(RESPONSE_HEADER_PREFIX) && lname.length > RESPONSE_HEADER_PREFIX.length
    ) {
      get = arg === undefined
        ? headerGetter(name.slice(RESPONSE_HEADER_PREFIX.length), true)
        : "takes no argument";
    } else return `unknown access log variable %${name}% at offset ${start}`;
    if (typeof get === "string") return `%${name}% at offset ${start}: ${get}`;
    if (maxLen !== undefined) {
      const inner = get;
      const n = maxLen;
      get = (info) => inner(info).slice(0, n);
    }
    if (text) segments.push(text);
    text = "";
    segments.push(get);
  }
  if (text) segments.push(text);
  return new CompiledFormat(format, segments);
}
