/**
 * Bolt v1 frames for the bolt benchmark, shared by the backend (`bolt_server.ts`), the load
 * generator (`bolt_load.ts`) and the runner's check: a request and a response built with the
 * project's codec (`boltV1.encode`) from the golden frames in `tests/`, with the golden header
 * map and class name and a 1 KiB body; plus the few fixed offsets the hot loops need to cut a
 * byte stream into frames and re-stamp request ids without decoding header maps.
 */

import { boltV1 } from "../../src/protocol/xprotocol/bolt/codec.ts";
import type { BoltMeta } from "../../src/protocol/xprotocol/bolt/types.ts";
import type { XFrame } from "../../src/protocol/xprotocol/types.ts";

export const GOLDEN_DIR = new URL("../../tests/protocol/xprotocol/golden/bolt/", import.meta.url)
  .pathname;
export const GOLDEN_REQUEST = "v1_req_sayHello_peter.hex";
export const GOLDEN_RESPONSE = "v1_resp_hello_peter.hex";

/** Body size of requests and responses. */
export const BODY_BYTES = 1024;

/** v1 offsets: type byte, cmdcode (u16), request id (u32 BE). */
export const OFF_TYPE = 1;
export const OFF_CMD = 2;
export const OFF_ID = 5;
/** v1 header sizes. */
export const REQ_HEAD = 22;
export const RESP_HEAD = 20;

function hex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, "");
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function golden(name: string): XFrame<BoltMeta> {
  const bytes = hex(Deno.readTextFileSync(`${GOLDEN_DIR}${name}`));
  const r = boltV1.decode(bytes);
  if (r === "again") throw new Error(`golden frame ${name} is incomplete`);
  return r.frame;
}

/** A deterministic body of `n` bytes. */
function body(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

/** The golden request (header map, class name, timeout) with a `BODY_BYTES` body, id 1. */
export function requestFrame(bodyBytes = BODY_BYTES): Uint8Array {
  const g = golden(GOLDEN_REQUEST);
  return boltV1.encode({ ...g, requestId: 1, body: body(bodyBytes, 7) });
}

/** The golden response (status, class name, headers) with a `BODY_BYTES` body, id 1. */
export function responseFrame(bodyBytes = BODY_BYTES): Uint8Array {
  const g = golden(GOLDEN_RESPONSE);
  return boltV1.encode({ ...g, requestId: 1, status: 0, body: body(bodyBytes, 11) });
}

/**
 * Length of the v1 frame starting at `off` in `buf` (header: class u16 at +14/+16, header map
 * u16, content u32), or -1 when its fixed header is not complete yet. Requests (type 1 or 2)
 * have a 22-byte header, responses (type 0) 20.
 */
export function frameLength(buf: Uint8Array, off: number, end: number): number {
  if (end - off < REQ_HEAD) {
    if (end - off < RESP_HEAD || buf[off + OFF_TYPE] !== 0) return -1;
  }
  const isResp = buf[off + OFF_TYPE] === 0;
  const p = off + (isResp ? 12 : 14);
  const classLen = (buf[p]! << 8) | buf[p + 1]!;
  const headerLen = (buf[p + 2]! << 8) | buf[p + 3]!;
  const contentLen = ((buf[p + 4]! << 24) | (buf[p + 5]! << 16) | (buf[p + 6]! << 8) |
    buf[p + 7]!) >>> 0;
  return (isResp ? RESP_HEAD : REQ_HEAD) + classLen + headerLen + contentLen;
}

export function readId(buf: Uint8Array, off: number): number {
  return ((buf[off + OFF_ID]! << 24) | (buf[off + OFF_ID + 1]! << 16) |
    (buf[off + OFF_ID + 2]! << 8) | buf[off + OFF_ID + 3]!) >>> 0;
}

export function writeId(buf: Uint8Array, off: number, id: number): void {
  buf[off + OFF_ID] = id >>> 24;
  buf[off + OFF_ID + 1] = (id >>> 16) & 0xff;
  buf[off + OFF_ID + 2] = (id >>> 8) & 0xff;
  buf[off + OFF_ID + 3] = id & 0xff;
}

/** Writes all of `data` (Deno's write may be partial). */
export async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await conn.write(off === 0 ? data : data.subarray(off));
}

/**
 * One call on a fresh connection to 127.0.0.1:`port`, checked with the project's decoder: the
 * response must carry the request's id, status 0 and a `BODY_BYTES` body. Throws otherwise.
 */
export async function verifyBolt(port: number, timeoutMs = 5000): Promise<void> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const timer = setTimeout(() => conn.close(), timeoutMs);
  try {
    const req = requestFrame();
    writeId(req, 0, 4242);
    await writeAll(conn, req);
    let buf = new Uint8Array(0);
    const chunk = new Uint8Array(65536);
    for (;;) {
      const n = await conn.read(chunk);
      if (n === null) throw new Error("connection closed before the response");
      const joined = new Uint8Array(buf.length + n);
      joined.set(buf);
      joined.set(chunk.subarray(0, n), buf.length);
      buf = joined;
      const r = boltV1.decode(buf);
      if (r === "again") continue;
      const f = r.frame;
      if (f.kind !== "response") throw new Error(`expected a response, got ${f.kind}`);
      if (f.requestId !== 4242) throw new Error(`response id ${f.requestId}, expected 4242`);
      if (f.status !== 0) throw new Error(`response status ${f.status}`);
      if (f.body.length !== BODY_BYTES) throw new Error(`response body ${f.body.length} bytes`);
      return;
    }
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch {
      // closed by the timer
    }
  }
}
