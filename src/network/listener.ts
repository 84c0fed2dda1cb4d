/** Accepts TCP or unix connections and hands each to a callback; stops accepting on demand. */

import { MosnError } from "../common/errors.ts";
import { log } from "../common/logger.ts";
import type { Address } from "../config/model.ts";
import { formatAddress } from "./address.ts";
import { listeningFds } from "./libc.ts";
import { setTransparent } from "./original_dst.ts";
import { assertPortFree } from "./reuseport.ts";

export interface ListenerOptions {
  /**
   * Set IP_TRANSPARENT on the listening socket (TPROXY): it then accepts connections to any
   * address diverted to its port. Needs CAP_NET_ADMIN and --allow-ffi.
   */
  transparent?: boolean;
}

export interface BindOptions {
  /**
   * The address is held by the process being upgraded: join its SO_REUSEPORT group instead of
   * refusing to start (a unix socket path is taken over: unlinked and bound again).
   */
  shared?: boolean;
}

export class Listener {
  readonly name: string;
  readonly address: Address;
  #listener: Deno.Listener | undefined;
  #accepting = false;
  #onAccept: (conn: Deno.Conn) => void;
  readonly #transparent: boolean;
  /** The inode of the unix socket file we bound: only that file is ours to remove. */
  #unixIno: number | null = null;
  /** Set once the socket moved to another Listener (reload); see transferTo. */
  #transferredTo: Listener | undefined;

  constructor(
    name: string,
    address: Address,
    onAccept: (conn: Deno.Conn) => void,
    options: ListenerOptions = {},
  ) {
    this.name = name;
    this.address = address;
    this.#onAccept = onAccept;
    this.#transparent = options.transparent ?? false;
  }

  /**
   * Binds the socket (throws LISTEN_FAILED) without accepting yet. TCP sockets get SO_REUSEPORT
   * so that a new process can take over without a gap (see reuseport.ts); unless `shared`, an
   * address someone already listens on is refused as without it.
   */
  bind(opts: BindOptions = {}): void {
    const a = this.address;
    let l: Deno.Listener | undefined;
    try {
      if (a.kind === "unix") {
        try {
          Deno.removeSync(a.path); // a stale socket file from a previous run
        } catch { /* none */ }
        l = Deno.listen({ transport: "unix", path: a.path });
        this.#unixIno = fileIno(a.path);
      } else {
        if (!opts.shared) assertPortFree(a.host, a.port);
        l = Deno.listen({ hostname: a.host, port: a.port, reusePort: true });
        if (this.#transparent) makeTransparent(a.host, (l.addr as Deno.NetAddr).port);
      }
    } catch (e) {
      try {
        l?.close();
      } catch { /* closed */ }
      throw new MosnError(
        "LISTEN_FAILED",
        `listener ${this.name}: cannot listen on ${formatAddress(a)}: ${(e as Error).message}`,
        { cause: e },
      );
    }
    this.#listener = l;
  }

  /**
   * Moves the bound socket to `next` (an unbound Listener for the same address): a reload that
   * changes a listener's settings keeps its socket, so no connection is refused or reset in
   * between. The accept loop keeps running here (Deno allows one pending accept per socket) and
   * serves through `next`; this object is left unbound.
   */
  transferTo(next: Listener): void {
    next.#listener = this.#listener;
    next.#accepting = this.#accepting;
    next.#unixIno = this.#unixIno;
    this.#transferredTo = next;
    this.#listener = undefined;
    this.#accepting = false;
    this.#unixIno = null;
  }

  /** Whoever owns the socket this object's accept loop reads (after transfers). */
  #owner(): Listener {
    return this.#transferredTo ? this.#transferredTo.#owner() : this;
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
    while (this.#owner().#accepting) {
      let conn: Deno.Conn;
      try {
        conn = await l.accept();
      } catch (e) {
        if (!this.#owner().#accepting || e instanceof Deno.errors.BadResource) break;
        // EMFILE and friends: log, back off briefly, keep the listener.
        log.warn("accept failed", { listener: this.name, err: e });
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      try {
        this.#owner().#onAccept(conn);
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
    const a = this.address;
    if (a.kind === "unix" && this.#listener && this.#unixIno !== null) {
      const now = fileIno(a.path);
      if (now !== null && now !== this.#unixIno) {
        // The path is another process's socket now (upgrade). Deno unlinks a unix listener's
        // path when it is closed, which would take that one away: keep ours open but unused
        // until the process exits (nothing reaches it any more).
        this.#listener = undefined;
        this.#unixIno = null;
        return;
      }
    }
    try {
      this.#listener?.close();
    } catch { /* closed */ }
    this.#listener = undefined;
    this.#unixIno = null;
  }
}

/** IP_TRANSPARENT on the listening socket bound to host:port (found by its address). */
function makeTransparent(host: string, port: number): void {
  const fds = listeningFds({ host, port });
  if (fds.length === 0) {
    throw new Error("IP_TRANSPARENT: listening socket not found (needs --allow-ffi)");
  }
  for (const fd of fds) setTransparent(fd);
}

function fileIno(path: string): number | null {
  try {
    return Deno.statSync(path).ino;
  } catch {
    return null;
  }
}
