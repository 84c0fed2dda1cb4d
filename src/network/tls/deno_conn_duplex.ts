/**
 * A node Duplex over a Deno.Conn, so node:tls can run on a socket that a Deno listener accepted
 * (a connection handed to a TLS listener by a `use_original_dst` listener). Slower than a
 * node:net socket (node:tls then goes through its JS stream path), used only for hand-overs.
 */

import { Duplex } from "node:stream";

const READ_SIZE = 16 * 1024;

export class DenoConnDuplex extends Duplex {
  readonly #conn: Deno.Conn;
  #pumping = false;

  constructor(conn: Deno.Conn) {
    super({ allowHalfOpen: true });
    this.#conn = conn;
  }

  override _read(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    this.#pump();
  }

  /** Reads until node's buffer is full (push → false) or EOF. */
  async #pump(): Promise<void> {
    try {
      for (;;) {
        const buf = new Uint8Array(READ_SIZE);
        const n = await this.#conn.read(buf);
        if (n === null) {
          this.push(null);
          return;
        }
        if (!this.push(buf.subarray(0, n))) break;
      }
    } catch (e) {
      this.destroy(e as Error);
    } finally {
      this.#pumping = false;
    }
  }

  override _write(
    chunk: Uint8Array,
    _encoding: string,
    cb: (e?: Error | null) => void,
  ): void {
    this.#writeAll(chunk).then(() => cb(), (e: Error) => cb(e));
  }

  async #writeAll(data: Uint8Array): Promise<void> {
    let off = 0;
    while (off < data.byteLength) off += await this.#conn.write(data.subarray(off));
  }

  override _final(cb: (e?: Error | null) => void): void {
    this.#conn.closeWrite().then(() => cb(), () => cb());
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    try {
      this.#conn.close();
    } catch { /* already closed */ }
    cb(err);
  }
}
