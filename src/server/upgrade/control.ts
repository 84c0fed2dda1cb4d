/**
 * The upgrade control socket: `<state dir>/mosn.sock`, a unix stream socket served by the
 * running process. A new process (started with `--upgrade`, or finding the socket alive)
 * connects and speaks newline-delimited JSON:
 *
 *   new → {"type":"hello","pid":N}
 *   old → {"type":"hello","pid":M,"addresses":["127.0.0.1:2045",…],"config":{…running document…}}
 *   new → {"type":"takeover"}                      (once it listens on every address too)
 *   old → {"type":"done","steered":[…],"unsteered":[…]}  (its listeners are closed now)
 *   old → {"type":"error","message":"…"}           (instead of an answer)
 *
 * The old process then drains and exits by itself. MOSN does the same over reconfig.sock, where
 * it also passes the listening fds; Deno cannot pass fds, so sockets are shared by SO_REUSEPORT
 * instead (see network/reuseport.ts).
 */

import { MosnError } from "../../common/errors.ts";
import { log } from "../../common/logger.ts";

/** What the running process tells a newcomer. */
export interface HelloReply {
  pid: number;
  /** Every TCP "host:port" it listens on (listeners, admin, demo upstreams). */
  addresses: string[];
  /** Its running config document (for inherit_old_mosnconfig). */
  config: Record<string, unknown>;
}

export interface TakeoverReply {
  steered: string[];
  unsteered: string[];
}

/** The old side's answers. */
export interface ControlHandlers {
  hello(): HelloReply;
  /** Hands the listeners over; resolves once this process no longer accepts. */
  takeover(): Promise<TakeoverReply>;
}

/** Longest accepted line: a config document is the biggest thing sent. */
const MAX_LINE = 16 * 1024 * 1024;
const encoder = new TextEncoder();

export interface ControlServer {
  readonly path: string;
  /** Stops serving and removes the socket file (only if it is still ours). */
  close(): void;
}

/** Serves the control socket at `path` (a stale file there is replaced). */
export function serveControl(path: string, handlers: ControlHandlers): ControlServer {
  try {
    Deno.removeSync(path);
  } catch { /* none */ }
  const listener = Deno.listen({ transport: "unix", path });
  const ino = inode(path);
  let closed = false;
  (async () => {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch {
        break; // closed
      }
      session(conn, handlers).catch((e) => log.warn("upgrade control session failed", { err: e }));
    }
  })();
  return {
    path,
    close() {
      if (closed) return;
      closed = true;
      try {
        listener.close();
      } catch { /* closed */ }
      // The new process may already have put its own socket at this path: keep that one.
      if (ino !== null && inode(path) === ino) {
        try {
          Deno.removeSync(path);
        } catch { /* gone */ }
      }
    },
  };
}

async function session(conn: Deno.Conn, handlers: ControlHandlers): Promise<void> {
  const lines = new LineReader(conn);
  try {
    for (;;) {
      const msg = await lines.next();
      if (msg === null) return;
      let reply: Record<string, unknown>;
      try {
        const type = (msg as { type?: unknown }).type;
        if (type === "hello") {
          log.info("upgrade: a new process connected", { pid: (msg as { pid?: unknown }).pid });
          reply = { type: "hello", ...handlers.hello() };
        } else if (type === "takeover") {
          reply = { type: "done", ...(await handlers.takeover()) };
        } else {
          reply = { type: "error", message: `unknown message type ${JSON.stringify(type)}` };
        }
      } catch (e) {
        reply = { type: "error", message: (e as Error).message };
      }
      await writeLine(conn, reply);
    }
  } finally {
    try {
      conn.close();
    } catch { /* closed */ }
  }
}

/** The new side's connection to a running process. */
export class ControlClient {
  readonly #conn: Deno.Conn;
  readonly #lines: LineReader;

  private constructor(conn: Deno.Conn) {
    this.#conn = conn;
    this.#lines = new LineReader(conn);
  }

  /**
   * Connects to the process serving `path`; undefined when none does (no file, or a stale file
   * left by a process that died — that file is removed).
   */
  static async connect(path: string): Promise<ControlClient | undefined> {
    try {
      return new ControlClient(await Deno.connect({ transport: "unix", path }));
    } catch (e) {
      if (e instanceof Deno.errors.ConnectionRefused) {
        try {
          Deno.removeSync(path);
        } catch { /* gone */ }
      }
      return undefined;
    }
  }

  async hello(): Promise<HelloReply> {
    const r = await this.#call({ type: "hello", pid: Deno.pid }, "hello");
    return {
      pid: Number(r.pid),
      addresses: Array.isArray(r.addresses) ? r.addresses.map(String) : [],
      config: (r.config && typeof r.config === "object" ? r.config : {}) as Record<
        string,
        unknown
      >,
    };
  }

  async takeover(): Promise<TakeoverReply> {
    const r = await this.#call({ type: "takeover" }, "done");
    const list = (v: unknown) => (Array.isArray(v) ? v.map(String) : []);
    return { steered: list(r.steered), unsteered: list(r.unsteered) };
  }

  close(): void {
    try {
      this.#conn.close();
    } catch { /* closed */ }
  }

  async #call(msg: Record<string, unknown>, expect: string): Promise<Record<string, unknown>> {
    let r: unknown;
    try {
      await writeLine(this.#conn, msg);
      r = await this.#lines.next();
    } catch (e) {
      throw new MosnError("CONNECTION_CLOSED", `upgrade: control socket: ${(e as Error).message}`, {
        cause: e,
      });
    }
    if (r === null) {
      throw new MosnError(
        "CONNECTION_CLOSED",
        "upgrade: the old process closed the control socket",
      );
    }
    const reply = r as Record<string, unknown>;
    if (reply.type !== expect) {
      throw new Error(
        `upgrade: old process answered ${JSON.stringify(reply.message ?? reply.type)}`,
      );
    }
    return reply;
  }
}

async function writeLine(conn: Deno.Conn, msg: unknown): Promise<void> {
  const bytes = encoder.encode(JSON.stringify(msg) + "\n");
  let off = 0;
  while (off < bytes.byteLength) off += await conn.write(bytes.subarray(off));
}

/** Reads JSON lines from a connection; a line longer than MAX_LINE is an error. */
class LineReader {
  readonly #conn: Deno.Conn;
  readonly #decoder = new TextDecoder();
  #buf = "";

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  /** The next message, or null at EOF. */
  async next(): Promise<unknown> {
    const chunk = new Uint8Array(64 * 1024);
    for (;;) {
      const nl = this.#buf.indexOf("\n");
      if (nl >= 0) {
        const line = this.#buf.slice(0, nl);
        this.#buf = this.#buf.slice(nl + 1);
        return JSON.parse(line);
      }
      if (this.#buf.length > MAX_LINE) throw new Error("upgrade: control message too long");
      const n = await this.#conn.read(chunk);
      if (n === null) return null;
      this.#buf += this.#decoder.decode(chunk.subarray(0, n), { stream: true });
    }
  }
}

function inode(path: string): number | null {
  try {
    return Deno.statSync(path).ino;
  } catch {
    return null;
  }
}

/**
 * The state directory holding the control socket: `--state-dir`, else `$MOSN_STATE_DIR`, else
 * `/tmp/mosn-ts-<admin port>` (one per instance, since two instances cannot share an admin
 * port). Created 0700: whoever can reach the socket can take the proxy over.
 */
export function resolveStateDir(flag: string | undefined, adminPort: number): string {
  const dir = flag ?? Deno.env.get("MOSN_STATE_DIR") ?? `/tmp/mosn-ts-${adminPort}`;
  Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}
