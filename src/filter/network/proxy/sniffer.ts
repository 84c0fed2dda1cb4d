/**
 * `downstream_protocol: Auto` (or a comma list): looks at a connection's first bytes and hands
 * the connection to the codec that recognises them — HTTP/1 (a method token and a space), the
 * HTTP/2 preface, or
 * any registered xprotocol (bolt's 0x01/0x02, dubbo's 0xdabb magic…).
 */

import { log } from "../../../common/logger.ts";
import { type Connection, FilterStatus, type ReadFilter } from "../../../network/connection.ts";
import { PREFACE } from "../../../protocol/http2/frame.ts";
import type { XProtocol } from "../../../protocol/xprotocol/types.ts";

/** At most this many bytes are held while deciding. */
const SNIFF_LIMIT = 64;

export interface SniffCandidate {
  readonly name: string;
  /** "match", "again" (need more bytes) or "fail". */
  match(head: Uint8Array): "match" | "again" | "fail";
  /** Builds the connection's real read filter once this protocol is chosen. */
  create(conn: Connection): ReadFilter;
}

/** HTTP/1: an upper-case method token followed by a space. */
export function matchHttp1(head: Uint8Array): "match" | "again" | "fail" {
  for (let i = 0; i < head.byteLength && i < 24; i++) {
    const c = head[i]!;
    // "PRI " starts the HTTP/2 preface, never an HTTP/1 request.
    if (c === 0x20) {
      return i > 0 && !(i === 3 && head[0] === 0x50 && head[1] === 0x52) ? "match" : "fail";
    }
    if (c < 0x41 || c > 0x5a) return "fail";
  }
  return head.byteLength >= 24 ? "fail" : "again";
}

/** HTTP/2 with prior knowledge (or after ALPN "h2"): the 24-byte connection preface. */
export function matchHttp2(head: Uint8Array): "match" | "again" | "fail" {
  const n = Math.min(head.byteLength, PREFACE.byteLength);
  for (let i = 0; i < n; i++) if (head[i] !== PREFACE[i]) return "fail";
  return n === PREFACE.byteLength ? "match" : "again";
}

export function xprotocolCandidate(
  proto: XProtocol,
  create: (conn: Connection) => ReadFilter,
): SniffCandidate {
  return { name: proto.name, match: (h) => proto.match(h), create };
}

export class ProtocolSniffer implements ReadFilter {
  readonly #conn: Connection;
  readonly #candidates: readonly SniffCandidate[];
  /** fallback_for_unknown_protocol: unknown bytes go to the next network filter. */
  readonly #fallback: boolean;
  #inner: ReadFilter | undefined;
  #held: Uint8Array | undefined;

  constructor(conn: Connection, candidates: readonly SniffCandidate[], fallback = false) {
    this.#conn = conn;
    this.#candidates = candidates;
    this.#fallback = fallback;
  }

  /** With a fallback, later filters (tcp_proxy) wait until the protocol is known. */
  onNewConnection(): FilterStatus {
    return this.#fallback ? FilterStatus.Stop : FilterStatus.Continue;
  }

  /** The protocol chosen, once known. */
  chosen: string | undefined;

  onData(data: Uint8Array, endStream: boolean): FilterStatus | Promise<unknown> {
    const inner = this.#inner;
    if (inner) return inner.onData(data, endStream);
    let head = data;
    if (this.#held) {
      head = new Uint8Array(this.#held.byteLength + data.byteLength);
      head.set(this.#held, 0);
      head.set(data, this.#held.byteLength);
    }
    if (endStream) {
      this.#conn.close("now");
      return FilterStatus.Stop;
    }
    let waiting = false;
    for (const c of this.#candidates) {
      const m = c.match(head);
      if (m === "match") {
        this.chosen = c.name;
        this.#held = undefined;
        const f = this.#inner = c.create(this.#conn);
        // `head` is either the lent buffer itself or our own copy: both are fine to pass on.
        return f.onData(head, false);
      }
      if (m === "again") waiting = true;
    }
    if (waiting && head.byteLength < SNIFF_LIMIT) {
      this.#held = head === data ? data.slice() : head;
      return FilterStatus.Stop;
    }
    if (this.#fallback) {
      log.debug("proxy: unknown protocol, handing over", { conn: this.#conn.id });
      this.chosen = "fallback";
      this.#held = undefined;
      return this.#conn.handOff(this, head) ?? FilterStatus.Stop;
    }
    log.debug("proxy: unknown protocol, closing", { conn: this.#conn.id });
    this.#conn.close("now");
    return FilterStatus.Stop;
  }
}
