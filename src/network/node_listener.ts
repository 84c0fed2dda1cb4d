/**
 * A listener on node:net, for listeners whose connections go through node:tls (server TLS
 * with SNI and client certificates needs node:tls, which needs node sockets). Same surface as
 * Listener; plain listeners keep Deno-native sockets.
 */

import net from "node:net";
import { MosnError } from "../common/errors.ts";
import { log } from "../common/logger.ts";
import type { Address } from "../config/model.ts";
import { formatAddress } from "./address.ts";
import type { BindOptions } from "./listener.ts";

export class NodeListener {
  readonly name: string;
  readonly address: Address;
  readonly #onAccept: (sock: net.Socket) => void;
  #server: net.Server | undefined;
  #bound = false;
  #listening: Promise<void> = Promise.resolve();
  #port = 0;
  #accepting = false;

  constructor(name: string, address: Address, onAccept: (sock: net.Socket) => void) {
    this.name = name;
    this.address = address;
    this.#onAccept = onAccept;
  }

  /**
   * Checks the address now (throws LISTEN_FAILED); node binds it in start(). node:net binds
   * asynchronously and reports errors as events, so a synchronous Deno.listen probe finds a
   * busy address here and turns port 0 into a concrete port.
   */
  bind(opts: BindOptions = {}): void {
    if (this.#bound) return;
    const a = this.address;
    let port = 0;
    try {
      if (a.kind === "unix") {
        try {
          Deno.removeSync(a.path);
        } catch { /* no stale socket file */ }
      } else {
        // A shared address (upgrade, reload) is held by the socket this one joins through
        // SO_REUSEPORT; probing it without the option would fail.
        const probe = Deno.listen({ hostname: a.host, port: a.port, reusePort: opts.shared });
        port = (probe.addr as Deno.NetAddr).port;
        probe.close();
      }
    } catch (e) {
      throw new MosnError(
        "LISTEN_FAILED",
        `listener ${this.name}: cannot listen on ${formatAddress(a)}: ${(e as Error).message}`,
        { cause: e },
      );
    }
    this.#bound = true;
    this.#port = port;
  }

  /** Resolves once node reports the socket listening (or failing). */
  listening(): Promise<void> {
    return this.#listening;
  }

  get port(): number {
    return this.#port;
  }

  get accepting(): boolean {
    return this.#accepting;
  }

  start(): void {
    if (!this.#bound) this.bind();
    if (this.#accepting) return;
    this.#accepting = true;
    const a = this.address;
    const server = net.createServer({ pauseOnConnect: true, allowHalfOpen: true });
    server.on("connection", (sock: net.Socket) => {
      try {
        this.#onAccept(sock);
      } catch (e) {
        log.error("connection setup failed", { listener: this.name, err: e });
        sock.destroy();
      }
    });
    server.on("error", (e: Error) => {
      log.error("listener failed", { listener: this.name, err: e });
    });
    this.#listening = new Promise<void>((resolve) => {
      server.once("listening", resolve);
      server.once("error", () => resolve()); // logged above; nothing to wait for
    });
    if (a.kind === "unix") server.listen(a.path);
    // SO_REUSEPORT like Deno-native listeners, so that an upgrade can join this socket.
    else server.listen({ port: this.#port, host: a.host, reusePort: true });
    this.#server = server;
  }

  /** Stops accepting and closes the listening socket; open connections are untouched. */
  close(): void {
    this.#accepting = false;
    this.#bound = false;
    this.#server?.close();
    this.#server = undefined;
    if (this.address.kind === "unix") {
      try {
        Deno.removeSync(this.address.path);
      } catch { /* gone */ }
    }
  }
}
