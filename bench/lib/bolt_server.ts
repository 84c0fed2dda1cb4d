/**
 * Bolt v1 backend for the bolt benchmark: answers every request frame with a response frame
 * carrying the same id and a 1 KiB body (`responseFrame()`: the golden response re-encoded with
 * `boltV1.encode`), answers heartbeats with a heartbeat ack, ignores oneway calls. All responses
 * to one read go out in one write. Listens on 127.0.0.1 only.
 *
 *   deno run --allow-net=127.0.0.1 --allow-read bench/lib/bolt_server.ts --port 29280
 *
 * Runs until killed (SIGTERM/SIGINT end it cleanly).
 */

import { parseArgs } from "node:util";
import { boltV1 } from "../../src/protocol/xprotocol/bolt/codec.ts";
import {
  frameLength,
  OFF_CMD,
  OFF_TYPE,
  readId,
  responseFrame,
  writeAll,
  writeId,
} from "./bolt_frames.ts";

const READ_BYTES = 64 * 1024;

async function serve(conn: Deno.Conn, response: Uint8Array): Promise<void> {
  const chunk = new Uint8Array(READ_BYTES);
  let pending = new Uint8Array(0);
  let out = new Uint8Array(response.length * 64);
  try {
    for (;;) {
      const n = await conn.read(chunk);
      if (n === null) return;
      let buf: Uint8Array;
      if (pending.length > 0) {
        buf = new Uint8Array(pending.length + n);
        buf.set(pending);
        buf.set(chunk.subarray(0, n), pending.length);
      } else {
        buf = chunk.subarray(0, n);
      }
      let off = 0;
      let outLen = 0;
      while (off < buf.length) {
        const len = frameLength(buf, off, buf.length);
        if (len < 0 || off + len > buf.length) break;
        const type = buf[off + OFF_TYPE]!;
        const cmd = (buf[off + OFF_CMD]! << 8) | buf[off + OFF_CMD + 1]!;
        let reply: Uint8Array | undefined;
        if (cmd === 1 && type === 1) reply = response;
        else if (cmd === 0 && type !== 0) {
          const r = boltV1.decode(buf.subarray(off, off + len));
          if (r !== "again") reply = boltV1.heartbeatReply(r.frame).raw;
        }
        if (reply) {
          if (outLen + reply.length > out.length) {
            const bigger = new Uint8Array((outLen + reply.length) * 2);
            bigger.set(out.subarray(0, outLen));
            out = bigger;
          }
          out.set(reply, outLen);
          writeId(out, outLen, readId(buf, off));
          outLen += reply.length;
        }
        off += len;
      }
      pending = off < buf.length ? buf.slice(off) : new Uint8Array(0);
      if (outLen > 0) await writeAll(conn, out.subarray(0, outLen));
    }
  } catch {
    // peer reset: drop the connection
  } finally {
    try {
      conn.close();
    } catch {
      // closed
    }
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { port: { type: "string", default: "29280" } },
  });
  const response = responseFrame();
  const listener = Deno.listen({ hostname: "127.0.0.1", port: Number(values.port) });
  const stop = () => {
    listener.close();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGTERM", stop);
  Deno.addSignalListener("SIGINT", stop);
  console.error(`bolt backend on 127.0.0.1:${values.port}, ${response.length}-byte responses`);
  for (;;) {
    let conn: Deno.TcpConn;
    try {
      conn = await listener.accept();
    } catch (e) {
      // a connection reset before it was accepted (e.g. a port probe through a proxy): go on
      if (e instanceof Deno.errors.BadResource) break;
      continue;
    }
    try {
      conn.setNoDelay(true);
    } catch {
      // already reset
    }
    void serve(conn, response);
  }
}
