/** Accepts TCP or unix connections and hands each to a callback; stops accepting on demand. */

import { MosnError } from "../common/errors.ts";
import { log } from "../common/logger.ts";
import type { Address } from "../config/model.ts";
import { formatAddress } from "./address.ts";

export class Listener {
  readonly name: string;
  readonly address: Address;
  #listener: Deno.Listener | undefined;
  #accepting = false;
  #onAccept: (conn: Deno.Conn) => void;

  constructor(name: string, address: Address, onAccept: (conn: Deno.Conn) => void) {
    this.name = name;
    this.address = address;
    this.#onAccept = onAccept;
  }

  /** Binds the socket (throws LISTEN_FAILED) without accepting yet. */
  bind(): void {
    const a = this.address;
    try {
      if (a.kind === "unix") {
        try {
          Deno.removeSync(a.path); // a stale socket file from a previous run
        } catch { /* none */ }
        this.#listener = Deno.listen({ transport: "unix", path: a.path });
      } else {
        this.#listener = Deno.listen({ hostname: a.host, port: a.port });
      }
    } catch (e) {
      throw new MosnError(
        "LISTEN_FAILED",
        `listener ${this.name}: cannot listen on ${formatAddress(a)}: ${(e as Error).message}`,
        { cause: e },
      );
    }
  }

  /** The bound port (useful when the config asked for port 0). */
  get port(): number {
    const addr = this.#listener?.addr;
    return addr && addr.transport === "tcp" ? addr.port : 0;
  }

  get accepting(): boolean {
    return this.#accepting;
  }

  start(): void {
    if (!this.#listener) this.bind();
    if (this.#accepting) return;
    this.#accepting = true;
    this.#acceptLoop(this.#listener!);
  }

  async #acceptLoop(l: Deno.Listener): Promise<void> {
    while (this.#accepting) {
      let conn: Deno.Conn;
      try {
        conn = await l.accept();
      } catch (e) {
        if (!this.#accepting || e instanceof Deno.errors.BadResource) break;
        // EMFILE and friends: log, back off briefly, keep the listener.
        log.warn("accept failed", { listener: this.name, err: e });
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      try {
        this.#onAccept(conn);
      } catch (e) {
        log.error("connection setup failed", { listener: this.name, err: e });
        try {
          conn.close();
        } catch { /* closed */ }
      }
    }
  }

  /** Stops accepting and closes the listening socket; open connections are untouched. */
  close(): void {
    this.#accepting = false;
    try {
      this.#listener?.close();
    } catch { /* closed */ }
    this.#listener = undefined;
    if (this.address.kind === "unix") {
      try {
        Deno.removeSync(this.address.path);
      } catch { /* gone */ }
    }
  }
}
