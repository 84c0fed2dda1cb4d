/**
 * The HTTP/2 connection state machine shared by the server (downstream) and client (upstream)
 * sides: frames in and out, HPACK, SETTINGS, PING, GOAWAY, RST_STREAM, CONTINUATION, and flow
 * control both ways.
 *
 * Flow control, receiving: DATA is copied out of the read buffer (frames are at most 16 KiB),
 * so one stream that cannot take data never stops the connection's other streams. A stream
 * whose receiver pushes back (returns a promise) queues what arrives next and gets no
 * WINDOW_UPDATE until it has consumed it: the peer can send at most the stream window more,
 * which bounds the memory held per stream. The connection window is replenished as data
 * arrives (per-stream windows are the bound; a shared window would let one slow stream stall
 * the others).
 *
 * Flow control, sending: data goes out while both the stream's and the connection's send
 * windows allow; the rest waits, by reference (it is lent), and the caller gets a promise
 * that settles once it has been framed. A full socket write queue pushes back the same way.
 */

import { log } from "../../common/logger.ts";
import { IdTable } from "../../common/id_table.ts";
import { allocBytes } from "../../common/slab.ts";
import { type Connection, FilterStatus, type ReadFilter } from "../../network/connection.ts";
import { H2Code, H2ConnectionError, H2StreamError } from "../../protocol/http2/errors.ts";
import {
  DEFAULT_MAX_FRAME,
  DEFAULT_WINDOW,
  encodeFrame,
  encodeGoaway,
  encodeHeaderBlock,
  encodePing,
  encodeRstStream,
  encodeSettings,
  encodeWindowUpdate,
  Flag,
  FrameReader,
  FrameType,
  MAX_WINDOW,
  PREFACE,
  readU32,
  Setting,
  SETTINGS_ACK,
} from "../../protocol/http2/frame.ts";
import { HpackDecoder } from "../../protocol/http2/hpack/decoder.ts";
import { HpackEncoder } from "../../protocol/http2/hpack/encoder.ts";
import type { StreamResetReason } from "../types.ts";
import type { Http2Stats } from "./stats.ts";

/** Window we grant each stream (also the most a stuck stream can make us hold). */
export const STREAM_WINDOW = 256 * 1024;
/** Window we grant the connection as a whole. */
const CONN_WINDOW = 16 * 1024 * 1024;
/**
 * Streams a peer may open on a downstream connection. With the stream window this bounds what
 * one connection can make us hold (128 × 256 KiB = 32 MiB at worst).
 */
export const MAX_CONCURRENT_STREAMS = 128;
/** Decoded header list limit (names + values + 32 per field). */
const MAX_HEADER_LIST = 256 * 1024;
const EMPTY_BYTES = new Uint8Array(0);
/** Opaque data of the PING that follows a drain's first GOAWAY. */
const DRAIN_PING = new TextEncoder().encode("drain\0\0\0");

function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.byteLength;
  }
  return out;
}

/**
 * Our connection prefaces, built once (never modified, so one buffer serves every connection):
 * SETTINGS plus the connection window; the client's starts with the magic.
 */
const SERVER_HELLO = concatBytes(
  encodeSettings([
    [Setting.INITIAL_WINDOW_SIZE, STREAM_WINDOW],
    [Setting.MAX_HEADER_LIST_SIZE, MAX_HEADER_LIST],
    [Setting.MAX_CONCURRENT_STREAMS, MAX_CONCURRENT_STREAMS],
  ]),
  encodeWindowUpdate(0, CONN_WINDOW - DEFAULT_WINDOW),
);
const CLIENT_HELLO = concatBytes(
  PREFACE,
  encodeSettings([
    [Setting.INITIAL_WINDOW_SIZE, STREAM_WINDOW],
    [Setting.MAX_HEADER_LIST_SIZE, MAX_HEADER_LIST],
    [Setting.ENABLE_PUSH, 0],
  ]),
  encodeWindowUpdate(0, CONN_WINDOW - DEFAULT_WINDOW),
);

interface OutChunk {
  data: Uint8Array;
  off: number;
  end: boolean;
}

/** One stream's protocol state; the server and client streams extend it. */
export class H2Stream {
  id = 0;
  sendWindow = DEFAULT_WINDOW;
  /** Bytes received and consumed, not yet returned with WINDOW_UPDATE. */
  unacked = 0;
  /** Window the peer still has on this stream. */
  recvWindow = STREAM_WINDOW;
  localEnded = false;
  remoteEnded = false;
  /** Reset either way, or the connection went away. */
  closed = false;
  /** Remote headers seen (the next HEADERS block is trailers). */
  headersReceived = false;
  /** Data waiting for send window, and the promise the sender waits on. */
  out: OutChunk[] | undefined;
  outTrailers: string[] | undefined;
  outResolve: (() => void) | undefined;
  outPromise: Promise<void> | undefined;
  /** Data (copies) received while the receiver pushes back. */
  inQueue: { data: Uint8Array; end: boolean }[] | undefined;
  inTrailers: string[] | undefined;
  inBlocked = false;
}

/** Lower-cased names; connection-specific fields (RFC 9113 §8.2.2) are not sent. */
const CONNECTION_SPECIFIC = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
  "host",
]);

export abstract class H2Session<S extends H2Stream> implements ReadFilter {
  readonly conn: Connection;
  /** Open streams by id (an IdTable, not a Map: see src/common/id_table.ts). */
  readonly streams = new IdTable<S>();
  readonly stats: Http2Stats | undefined;
  readonly #reader = new FrameReader();
  readonly #decoder = new HpackDecoder();
  readonly #encoder = new HpackEncoder();
  readonly #isServer: boolean;
  #prefaceLeft: number;
  /** Header block being assembled across CONTINUATION frames. */
  #hbSid = 0;
  #hbFlags = 0;
  #hbParts: Uint8Array[] = [];
  #hbLen = 0;

  peerMaxFrame = DEFAULT_MAX_FRAME;
  peerInitialWindow = DEFAULT_WINDOW;
  peerMaxStreams = Infinity;
  /** The peer's first SETTINGS arrived (its limits are known). */
  settingsReceived = false;
  #connSendWindow = DEFAULT_WINDOW;
  #connUnacked = 0;
  /**
   * Streams with data waiting for send window, oldest first. An array, not a Set, for the
   * reason in src/common/id_table.ts (a churning Set keeps finished streams reachable).
   */
  readonly #blocked: S[] = [];
  /** Highest stream id the peer opened (server) / we opened (client). */
  lastStreamId = 0;
  goawaySent = false;
  goawayReceived = false;
  #ended = false;

  constructor(conn: Connection, isServer: boolean, stats?: Http2Stats) {
    this.conn = conn;
    this.#isServer = isServer;
    this.stats = stats;
    this.#prefaceLeft = isServer ? PREFACE.byteLength : 0;
    // The server's preface waits for the client's first bytes (RFC 9113 §3.4 only asks that it
    // be the first frame sent): a connection that never speaks (a TLS handshake probe, a TCP
    // health check) costs no write, and the SETTINGS leave with the first answers in one write
    // (one TLS record).
    this.#helloPending = isServer;
    if (!isServer) conn.write(CLIENT_HELLO);
    conn.onClose(() => {
      this.#ended = true;
      this.#reader.stop();
      const all = this.streams.values();
      this.streams.clear();
      for (const s of all) {
        if (s.closed) continue;
        s.closed = true;
        this.#releaseOut(s);
        this.stats?.active.dec();
        this.onStreamReset(s, "connection_termination");
      }
      this.onSessionClosed();
    });
  }

  #corked = false;
  readonly #uncork = (): void => {
    this.#corked = false;
    this.conn.uncork();
  };

  /** Server: our SETTINGS have not been sent yet. */
  #helloPending: boolean;

  /** Frames written in one pass of the event loop leave together (one syscall). */
  #write(bytes: Uint8Array): void {
    if (!this.#corked) {
      this.#corked = true;
      this.conn.cork();
      queueMicrotask(this.#uncork);
    }
    if (this.#helloPending) {
      this.#helloPending = false;
      this.conn.write(SERVER_HELLO);
    }
    this.conn.write(bytes);
  }

  // ---- hooks for the server and client sides ----

  /** A complete header block for stream `sid` (request/response headers or trailers). */
  protected abstract onHeaders(sid: number, fields: string[], endStream: boolean): void;
  /** DATA for a stream (an owned copy); a promise holds further data and window updates. */
  protected abstract onStreamData(
    s: S,
    data: Uint8Array,
    endStream: boolean,
  ): Promise<unknown> | undefined;
  protected abstract onStreamTrailers(s: S, fields: string[]): void;
  protected abstract onStreamReset(s: S, reason: StreamResetReason): void;
  /** A stream finished both ways (or was reset) and left the map. */
  protected onStreamClosed(_s: S): void {}
  protected onGoaway(_lastStreamId: number): void {}
  protected onSessionClosed(): void {}
  /** Settings changed (the client side re-checks its capacity). */
  protected onSettings(): void {}
  /** The peer acknowledged a PING of ours. */
  protected onPingAck(): void {}

  // ---- reading ----

  onData(data: Uint8Array, endStream: boolean): FilterStatus {
    if (endStream) {
      this.conn.close("now", "remote_close");
      return FilterStatus.Stop;
    }
    if (this.#ended) return FilterStatus.Stop;
    if (this.#helloPending) this.#write(EMPTY_BYTES);
    try {
      let buf = data;
      if (this.#prefaceLeft > 0) {
        const off = PREFACE.byteLength - this.#prefaceLeft;
        const n = Math.min(this.#prefaceLeft, buf.byteLength);
        for (let i = 0; i < n; i++) {
          if (buf[i] !== PREFACE[off + i]) {
            throw new H2ConnectionError(H2Code.PROTOCOL_ERROR, "bad connection preface");
          }
        }
        this.#prefaceLeft -= n;
        buf = buf.subarray(n);
        if (buf.byteLength === 0) return FilterStatus.Stop;
      }
      this.#reader.push(buf, this.#onFrame);
    } catch (e) {
      this.#fail(e);
    }
    return FilterStatus.Stop;
  }

  #fail(e: unknown): void {
    const code = e instanceof H2ConnectionError ? e.h2code : H2Code.INTERNAL_ERROR;
    if (!(e instanceof H2ConnectionError)) {
      log.error("http2: unexpected failure", { conn: this.conn.id, err: e });
    } else {
      log.debug("http2: connection error", { conn: this.conn.id, err: e.message });
    }
    this.stats?.protocolErrors.inc();
    this.#reader.stop();
    this.#ended = true;
    this.#write(encodeGoaway(this.lastStreamId, code, e instanceof Error ? e.message : ""));
    this.conn.close("flush");
  }

  readonly #onFrame = (type: number, flags: number, sid: number, p: Uint8Array): void => {
    if (this.#hbSid !== 0 && (type !== FrameType.CONTINUATION || sid !== this.#hbSid)) {
      throw new H2ConnectionError(H2Code.PROTOCOL_ERROR, "expected CONTINUATION");
    }
    try {
      switch (type) {
        case FrameType.DATA:
          return this.#onDataFrame(flags, sid, p);
        case FrameType.HEADERS:
          return this.#onHeadersFrame(flags, sid, p);
        case FrameType.CONTINUATION:
          if (this.#hbSid === 0) {
            throw new H2ConnectionError(H2Code.PROTOCOL_ERROR, "unexpected CONTINUATION");
          }
          return this.#addBlock(p, flags);
        case FrameType.PRIORITY:
          if (sid === 0) throw new H2ConnectionError(H2Code.PROTOCOL_ERROR, "PRIORITY on 0");
          if (p.byteLength !== 5) throw new H2StreamError(sid, H2Code.FRAME_SIZE_ERROR, "PRIORITY");
          return;
        case FrameType.RST_STREAM:
          return this.#onRst(sid, p);
        case FrameType.SETTINGS:
          return this.#onSettings(flags, sid, p);
        case FrameType.PUSH_PROMISE:
          throw new H2ConnectionError(H2Code.PROTOCOL_ERROR, "PUSH_PROMISE (push is disabled)");
        case FrameType.PING:
          if (sid !== 0) throw new H2ConnectionError(H2Code.PROTOCOL_ERROR, "PING on a stream");
          if (p.byteLength !== 8) throw new H2ConnectionError(H2Code.FRAME_SIZE_ERROR, "PING");
          if (!(flags & Flag.ACK)) this.#write(encodePing(p, true));
          else this.onPingAck();
          return;
        case FrameType.GOAWAY:
          return this.#onGoawayFrame(sid, p);
        case FrameType.WINDOW_UPDATE:
          return this.#onWindowUpdate(sid, p);
        default:
          return; // unknown frame types are ignored (RFC 9113 §4.1)
      }
    } catch (e) {
      if (!(e instanceof H2StreamError)) throw e;
      this.#streamError(e);
    }
  };

  #streamError(e: H2StreamError): void {
    log.debug("http2: stream error", { conn: this.conn.id, err: e.message });
    this.#write(encodeRstStream(e.streamId, e.h2code));
    this.stats?.resetsSent.inc();
    const s = this.streams.get(e.streamId);
    if (s) this.#close(s, "protocol_error", true);
  }

  #onDataFrame(flags: number, sid: number, p: Uint8Array): void {
    if (sid === 0) throw new H2ConnectionError(H2Code.PROTOCOL_ERROR, "DATA on stream 0");
    const frameLen = p.byteLength;
    this.#connUnacked += frameLen;
    if (this.#connUnacked >= CONN_WINDOW / 2) {
      this.#write(encodeWindowUpdate(0, this.#connUnacked));
      this.#connUnacked = 0;
    }
    let body = p;
    if (flags & Flag.PADDED) body = unpad(p, sid);
    const s = this.streams.get(sid);
    if (!s || s.closed) {
      if (sid > this.lastStreamId && this.#isServer) {
        throw new H2ConnectionError(H2Code.PROTOCOL_ERROR, "DATA on an idle stream");
      }
      return; // reset earlier: ignore (its window no longer matters)
    }
    if (s.remoteEnded) throw new H2StreamError(sid, H2Code.STREAM_CLOSED, "DATA after END_STREAM");
    s.recvWindow -= frameLen;
    if (s.recvWindow < 0) throw new H2StreamError(sid, H2Code.FLOW_CONTROL_ERROR, "window");
    // Padding is consumed at once; the body when the receiver has taken it.
    s.unacked += frameLen - body.byteLength;
    const end = (flags & Flag.END_STREAM) !== 0;
    if (end) s.remoteEnded = true;
    const copy = allocBytes(body.byteLength);
    copy.set(body);
    if (s.inBlocked) {
      (s.inQueue ??= []).push({ data: copy, end });
      return;
    }
    this.#deliver(s, copy, end);
  }

  /** Hands data to the receiver, then whatever queued behind it, until it pushes back. */
  #deliver(s: S, data: Uint8Array, end: boolean): void {
    for (;;) {
      const r = this.onStreamData(s, data, end);
      if (r !== undefined) {
        s.inBlocked = true;
        const len = data.byteLength;
        const last = end;
        const resume = () => {
          s.inBlocked = false;
          if (s.closed) return;
          this.#consumed(s, len);
          if (last) this.#maybeFinish(s);
          else this.#drainIn(s);
        };
        r.then(resume, resume);
        return;
      }
      this.#consumed(s, data.byteLength);
      if (end || s.closed) {
        this.#maybeFinish(s);
        return;
      }
      const next = s.inQueue?.shift();
      if (!next) {
        this.#drainTrailers(s);
        return;
      }
      data = next.data;
      end = next.end;
    }
  }

  #drainIn(s: S): void {
    const next = s.inQueue?.shift();
    if (next) this.#deliver(s, next.data, next.end);
    else this.#drainTrailers(s);
  }

  #drainTrailers(s: S): void {
    const t = s.inTrailers;
    if (!t || s.inBlocked) return;
    s.inTrailers = undefined;
    this.onStreamTrailers(s, t);
    this.#maybeFinish(s);
  }

  #consumed(s: S, n: number): void {
    s.unacked += n;
    if (!s.remoteEnded && s.unacked >= STREAM_WINDOW / 2 && !s.closed) {
      this.#write(encodeWindowUpdate(s.id, s.unacked));
      s.recvWindow += s.unacked;
      s.unacked = 0;
    }
  }

  #onHeadersFrame(flags: number, sid: number, p: Uint8Array): void {
    if (sid === 0) throw new H2ConnectionError(H2Code.PROTOCOL_ERROR, "HEADERS on stream 0");
    let frag = p;
    if (flags & Flag.PADDED) frag = unpad(p, sid);
    if (flags & Flag.PRIORITY) {
      if (frag.byteLength < 5) throw new H2ConnectionError(H2Code.FRAME_SIZE_ERROR, "HEADERS");
      frag = frag.subarray(5);
    }
    this.#hbSid = sid;
    this.#hbFlags = flags;
    this.#hbParts = [];
    this.#hbLen = 0;
    this.#addBlock(frag, flags);
  }

  #addBlock(frag: Uint8Array, flags: number): void {
    const done = (flags & Flag.END_HEADERS) !== 0;
    if (done && this.#hbParts.length === 0) {
      const sid = this.#hbSid;
      this.#hbSid = 0;
      this.#onBlock(sid, frag);
      return;
    }
    this.#hbParts.push(frag.slice());
    this.#hbLen += frag.byteLength;
    if (this.#hbLen > MAX_HEADER_LIST * 2) {
      throw new H2ConnectionError(H2Code.ENHANCE_YOUR_CALM, "header block too large");
    }
    if (!done) return;
    const block = new Uint8Array(this.#hbLen);
    let off = 0;
    for (const part of this.#hbParts) {
      block.set(part, off);
      off += part.byteLength;
    }
    const sid = this.#hbSid;
    this.#hbSid = 0;
    this.#hbParts = [];
    this.#onBlock(sid, block);
  }

  #onBlock(sid: number, block: Uint8Array): void {
    const endStream = (this.#hbFlags & Flag.END_STREAM) !== 0;
    let fields: string[];
    try {
      fields = this.#decoder.decode(block, MAX_HEADER_LIST);
    } catch (e) {
      if (e instanceof RangeError) {
        // The table state is intact only if decoding finished; treat as fatal to be safe.
        throw new H2ConnectionError(H2Code.ENHANCE_YOUR_CALM, "header list too large");
      }
      throw e;
    }
    const s = this.streams.get(sid);
    if (s && s.headersReceived) {
      // Trailers: must end the stream.
      if (!endStream) {
        throw new H2StreamError(sid, H2Code.PROTOCOL_ERROR, "trailers without END_STREAM");
      }
      if (s.closed || s.remoteEnded) return;
      s.remoteEnded = true;
      if (s.inBlocked) {
        s.inTrailers = fields;
        return;
      }
      this.onStreamTrailers(s, fields);
      this.#maybeFinish(s);
      return;
    }
    if (s && endStream) s.remoteEnded = true;
    this.onHeaders(sid, fields, endStream);
    if (s && endStream) this.#maybeFinish(s);
  }

  #onRst(sid: number, p: Uint8Array): void {
    if (sid === 0) throw new H2ConnectionError(H2Code.PROTOCOL_ERROR, "RST_STREAM on 0");
    if (p.byteLength !== 4) throw new H2ConnectionError(H2Code.FRAME_SIZE_ERROR, "RST_STREAM");
    const s = this.streams.get(sid);
    this.stats?.resetsReceived.inc();
    if (!s) return;
    const code = readU32(p, 0);
    // NO_ERROR after a complete response: the peer just does not want the rest of our body.
    if (code === H2Code.NO_ERROR && s.remoteEnded) {
      s.localEnded = true;
      this.#close(s, undefined, false);
      return;
    }
    this.#close(
      s,
      code === H2Code.REFUSED_STREAM ? "connection_termination" : "remote_reset",
      false,
    );
  }

  #onSettings(flags: number, sid: number, p: Uint8Array): void {
    if (sid !== 0) throw new H2ConnectionError(H2Code.PROTOCOL_ERROR, "SETTINGS on a stream");
    if (flags & Flag.ACK) return;
    if (p.byteLength % 6 !== 0) throw new H2ConnectionError(H2Code.FRAME_SIZE_ERROR, "SETTINGS");
    let windowDelta = 0;
    for (let o = 0; o < p.byteLength; o += 6) {
      const id = (p[o]! << 8) | p[o + 1]!;
      const v = readU32(p, o + 2);
      switch (id) {
        case Setting.HEADER_TABLE_SIZE:
          this.#encoder.setMaxTableSize(v);
          break;
        case Setting.ENABLE_PUSH:
          if (v > 1) throw new H2ConnectionError(H2Code.PROTOCOL_ERROR, "ENABLE_PUSH");
          break;
        case Setting.MAX_CONCURRENT_STREAMS:
          this.peerMaxStreams = v;
          break;
        case Setting.INITIAL_WINDOW_SIZE:
          if (v > MAX_WINDOW) {
            throw new H2ConnectionError(H2Code.FLOW_CONTROL_ERROR, "INITIAL_WINDOW_SIZE");
          }
          windowDelta += v - this.peerInitialWindow;
          this.peerInitialWindow = v;
          break;
        case Setting.MAX_FRAME_SIZE:
          if (v < DEFAULT_MAX_FRAME || v > 0xffffff) {
            throw new H2ConnectionError(H2Code.PROTOCOL_ERROR, "MAX_FRAME_SIZE");
          }
          this.peerMaxFrame = v;
          break;
      }
    }
    this.#write(SETTINGS_ACK);
    this.settingsReceived = true;
    if (windowDelta !== 0) {
      for (const s of this.streams.values()) {
        s.sendWindow += windowDelta;
        if (s.sendWindow > MAX_WINDOW) {
          throw new H2ConnectionError(H2Code.FLOW_CONTROL_ERROR, "window overflow");
        }
      }
      if (windowDelta > 0) this.#flushBlocked();
    }
    this.onSettings();
  }

  #onGoawayFrame(sid: number, p: Uint8Array): void {
    if (sid !== 0) throw new H2ConnectionError(H2Code.PROTOCOL_ERROR, "GOAWAY on a stream");
    if (p.byteLength < 8) throw new H2ConnectionError(H2Code.FRAME_SIZE_ERROR, "GOAWAY");
    this.goawayReceived = true;
    const last = readU32(p, 0) & MAX_WINDOW;
    this.onGoaway(last);
    if (!this.#isServer) {
      // Streams the peer never processed may be retried elsewhere.
      for (const s of this.streams.values()) {
        if (s.id > last) this.#close(s, "connection_termination", false);
      }
    }
    if (this.streams.size === 0) this.conn.close("flush");
  }

  #onWindowUpdate(sid: number, p: Uint8Array): void {
    if (p.byteLength !== 4) throw new H2ConnectionError(H2Code.FRAME_SIZE_ERROR, "WINDOW_UPDATE");
    const inc = readU32(p, 0) & MAX_WINDOW;
    if (sid === 0) {
      if (inc === 0) throw new H2ConnectionError(H2Code.PROTOCOL_ERROR, "zero WINDOW_UPDATE");
      this.#connSendWindow += inc;
      if (this.#connSendWindow > MAX_WINDOW) {
        throw new H2ConnectionError(H2Code.FLOW_CONTROL_ERROR, "connection window overflow");
      }
      this.#flushBlocked();
      return;
    }
    const s = this.streams.get(sid);
    if (!s || s.closed) return;
    if (inc === 0) throw new H2StreamError(sid, H2Code.PROTOCOL_ERROR, "zero WINDOW_UPDATE");
    s.sendWindow += inc;
    if (s.sendWindow > MAX_WINDOW) {
      throw new H2StreamError(sid, H2Code.FLOW_CONTROL_ERROR, "window overflow");
    }
    if (s.out) this.#pump(s);
  }

  // ---- writing ----

  /** Encodes fields (pseudo-headers first) into HEADERS/CONTINUATION for `s`. */
  protected writeHeaders(s: S, pseudo: string[], headers: readonly string[], end: boolean): void {
    const enc = this.#encoder;
    enc.begin();
    for (let i = 0; i < pseudo.length; i += 2) enc.field(pseudo[i]!, pseudo[i + 1]!);
    for (let i = 0; i < headers.length; i += 2) {
      const n = lowerName(headers[i]!);
      if (CONNECTION_SPECIFIC.has(n)) continue;
      const v = headers[i + 1]!;
      if (n === "te" && v !== "trailers") {
        if (!v.toLowerCase().includes("trailers")) continue;
        enc.field("te", "trailers");
        continue;
      }
      enc.field(n, v);
    }
    const block = enc.finishLent(); // copied into the frame right away
    this.#write(encodeHeaderBlock(s.id, block, end, this.peerMaxFrame));
    if (end) this.#localEnd(s);
  }

  /** Registers a new stream (id set) with the peer's initial window. */
  protected addStream(s: S): void {
    s.sendWindow = this.peerInitialWindow;
    this.streams.set(s.id, s);
    this.stats?.active.inc();
    this.stats?.total.inc();
  }

  /** Sends body bytes (lent until the returned promise settles). */
  sendData(s: S, chunk: Uint8Array, end: boolean): Promise<unknown> | undefined {
    if (s.closed || s.localEnded || this.#ended) return undefined;
    if (s.out) {
      s.out.push({ data: chunk, off: 0, end });
      return s.outPromise;
    }
    const len = chunk.byteLength;
    const n = Math.min(len, s.sendWindow, this.#connSendWindow);
    if (n === len) {
      this.#writeData(s, chunk, 0, len, end);
      if (end) this.#localEnd(s);
      return this.conn.aboveHighWatermark ? this.conn.whenWritable() : undefined;
    }
    if (n > 0) this.#writeData(s, chunk, 0, n, false);
    s.out = [{ data: chunk, off: n, end }];
    s.outPromise = new Promise<void>((r) => (s.outResolve = r));
    this.#blocked.push(s);
    return s.outPromise;
  }

  /** Sends trailers (after any data still waiting for window). */
  sendTrailers(s: S, fields: readonly string[]): void {
    if (s.closed || s.localEnded || this.#ended) return;
    if (s.out) {
      s.outTrailers = [...fields];
      return;
    }
    this.writeHeaders(s, [], fields, true);
  }

  #writeData(s: S, data: Uint8Array, from: number, to: number, end: boolean): void {
    const max = this.peerMaxFrame;
    s.sendWindow -= to - from;
    this.#connSendWindow -= to - from;
    if (from === to) {
      this.#write(encodeFrame(FrameType.DATA, end ? Flag.END_STREAM : 0, s.id));
      return;
    }
    for (let off = from; off < to; off += max) {
      const stop = Math.min(to, off + max);
      const flags = end && stop === to ? Flag.END_STREAM : 0;
      this.#write(encodeFrame(FrameType.DATA, flags, s.id, data, off, stop));
    }
  }

  /** Sends what the windows allow of a blocked stream's queue. */
  #pump(s: S): void {
    const q = s.out;
    if (!q) return;
    while (q.length > 0) {
      const c = q[0]!;
      const left = c.data.byteLength - c.off;
      const n = Math.min(left, s.sendWindow, this.#connSendWindow);
      if (n <= 0 && left > 0) return;
      const last = n === left;
      this.#writeData(s, c.data, c.off, c.off + n, last && c.end);
      if (!last) {
        c.off += n;
        return;
      }
      q.shift();
      if (c.end) {
        this.#localEnd(s);
        break;
      }
    }
    // Everything went out.
    this.#unblock(s);
    const t = s.outTrailers;
    s.outTrailers = undefined;
    this.#releaseOut(s);
    if (t && !s.localEnded) this.writeHeaders(s, [], t, true);
  }

  #releaseOut(s: S): void {
    s.out = undefined;
    const r = s.outResolve;
    s.outResolve = undefined;
    s.outPromise = undefined;
    this.#unblock(s);
    r?.();
  }

  #unblock(s: S): void {
    const b = this.#blocked;
    if (b.length === 0) return;
    const i = b.indexOf(s);
    if (i >= 0) b.splice(i, 1);
  }

  #flushBlocked(): void {
    for (const s of this.#blocked.slice()) {
      if (this.#connSendWindow <= 0) return;
      this.#pump(s);
    }
  }

  #localEnd(s: S): void {
    s.localEnded = true;
    if (this.#isServer && !s.remoteEnded && !s.closed) {
      // The response is complete but the client is still sending: stop it (RFC 9113 §8.1),
      // or a client that never ends its request would hold the stream open forever.
      this.resetStream(s, H2Code.NO_ERROR);
      return;
    }
    this.#maybeFinish(s);
  }

  #maybeFinish(s: S): void {
    if (s.localEnded && s.remoteEnded && !s.closed && !s.inBlocked && !s.out) {
      this.#close(s, undefined, false);
    }
  }

  /** Resets a stream from our side (RST_STREAM with `code`). */
  resetStream(s: S, code: number): void {
    if (s.closed) return;
    if (s.id !== 0 && !this.#ended) {
      this.#write(encodeRstStream(s.id, code));
      // NO_ERROR only stops an upload after a complete response: not a failure.
      if (code !== H2Code.NO_ERROR) this.stats?.resetsSent.inc();
    }
    this.#close(s, undefined, true);
  }

  /**
   * Removes a stream. `reason` set = tell the stream's owner it was reset; `local` = our own
   * doing (no callback needed beyond bookkeeping).
   */
  #close(s: S, reason: StreamResetReason | undefined, _local: boolean): void {
    if (s.closed) return;
    s.closed = true;
    s.inQueue = undefined;
    this.#releaseOut(s);
    if (this.streams.get(s.id) === s) {
      this.streams.delete(s.id);
      this.stats?.active.dec();
    }
    if (reason) this.onStreamReset(s, reason);
    this.onStreamClosed(s);
    if ((this.goawaySent || this.goawayReceived) && this.streams.size === 0) {
      this.conn.close("flush");
    }
  }

  /**
   * First step of a graceful shutdown (RFC 9113 §6.8): GOAWAY with the highest stream id, so the
   * peer stops opening streams while those already on the wire are still served, and a PING to
   * learn when it has seen it (onPingAck); goaway() follows with the real last stream id.
   */
  protected goawayNotice(): void {
    if (this.goawaySent || this.#ended) return;
    this.#write(encodeGoaway(0x7fffffff, H2Code.NO_ERROR));
    this.#write(encodePing(DRAIN_PING, false));
  }

  /** Graceful end: GOAWAY(last stream), then close once the open streams finish. */
  goaway(code: number = H2Code.NO_ERROR): void {
    if (this.goawaySent || this.#ended) return;
    this.goawaySent = true;
    this.#write(encodeGoaway(this.#isServer ? this.lastStreamId : 0, code));
    if (this.streams.size === 0) this.conn.close("flush");
  }
}

function unpad(p: Uint8Array, sid: number): Uint8Array {
  if (p.byteLength < 1) throw new H2ConnectionError(H2Code.FRAME_SIZE_ERROR, "padding");
  const pad = p[0]!;
  if (pad >= p.byteLength) {
    throw new H2ConnectionError(H2Code.PROTOCOL_ERROR, `padding too long on stream ${sid}`);
  }
  return p.subarray(1, p.byteLength - pad);
}

/**
 * Lower-cased header names, cached: the same name strings come back request after request
 * (HPACK table entries, parser-interned names), so a lookup beats scanning each one.
 */
const lowerCache = new Map<string, string>();
function lowerName(n: string): string {
  let l = lowerCache.get(n);
  if (l === undefined) {
    if (lowerCache.size >= 4096) lowerCache.clear();
    l = n.toLowerCase();
    lowerCache.set(n, l);
  }
  return l;
}
