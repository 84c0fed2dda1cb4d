/**
 * Writes HTTP/1 message bodies for both directions: chunked framing when asked, and a head
 * still waiting to go out joined with a small first chunk into one write (one syscall).
 */

import { allocBytes } from "../../common/slab.ts";
import type { Connection } from "../../network/connection.ts";
import { chunkPrefix, CRLF } from "../../protocol/http1/encoder.ts";

/** Up to this size a chunk is copied next to its framing / head; larger ones go zero-copy. */
const COALESCE_LIMIT = 16 * 1024;

/**
 * Writes `chunk` (lent: see Connection.writeLent), preceded by `head` when given. Returns the
 * write's promise when the chunk went out zero-copy, so the caller can hold its reader.
 */
export function writeBodyChunk(
  conn: Connection,
  head: Uint8Array | undefined,
  chunk: Uint8Array,
  chunked: boolean,
): Promise<unknown> | undefined {
  const len = chunk.byteLength;
  if (len <= COALESCE_LIMIT && (chunked || head)) {
    const hl = head ? head.byteLength : 0;
    const prefix = chunked ? chunkPrefix(len) : undefined;
    const pl = prefix ? prefix.byteLength : 0;
    const out = allocBytes(hl + pl + len + (chunked ? 2 : 0));
    if (head) out.set(head, 0);
    if (prefix) out.set(prefix, hl);
    out.set(chunk, hl + pl);
    if (chunked) {
      out[out.byteLength - 2] = 13;
      out[out.byteLength - 1] = 10;
    }
    conn.write(out);
    // Copied: no write to wait for, but a full queue still pushes back on the producer.
    return conn.aboveHighWatermark ? conn.whenWritable() : undefined;
  }
  if (head) conn.write(head);
  if (!chunked) return conn.writeLent(chunk);
  conn.write(chunkPrefix(len));
  const p = conn.writeLent(chunk);
  conn.write(CRLF);
  return p;
}
