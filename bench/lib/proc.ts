/**
 * Process control for the benchmarks: start tools pinned to a CPU (`taskset`) at raised priority
 * (`nice -n -10` when permitted), log their output to files, and kill every process started —
 * including its descendants — even when the run fails. Nothing here signals a process the
 * benchmark did not start.
 */

/** A process started by {@link Procs.spawn}. */
export interface Spawned {
  /** Short name for messages, e.g. "haproxy". */
  readonly name: string;
  /** Pid of the tool itself (`nice` and `taskset` exec into it, so the pid is the tool's). */
  readonly pid: number;
  /** Resolves when the process exits. */
  readonly status: Promise<Deno.CommandStatus>;
  /** File that receives stdout and stderr. */
  readonly logFile: string;
  /** True once the process has exited. */
  exited(): boolean;
}

export interface SpawnOptions {
  /** CPU list for `taskset -c`, e.g. "0" or "1"; omitted = no pinning. */
  cpu?: string;
  /** Working directory. */
  cwd?: string;
  /** Extra environment. */
  env?: Record<string, string>;
  /** Where stdout+stderr go; default a fresh file from {@link Procs.logPath}. */
  logFile?: string;
}

const decoder = new TextDecoder();

/** Returns the absolute path of `tool` on PATH, or undefined. */
export function which(tool: string): string | undefined {
  const path = Deno.env.get("PATH") ?? "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
  for (const dir of path.split(":")) {
    if (!dir) continue;
    const full = `${dir}/${tool}`;
    try {
      const st = Deno.statSync(full);
      if (st.isFile && st.mode !== null && (st.mode & 0o111) !== 0) return full;
    } catch {
      // not here
    }
  }
  for (const dir of ["/usr/sbin", "/sbin"]) {
    try {
      if (Deno.statSync(`${dir}/${tool}`).isFile) return `${dir}/${tool}`;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Throws a clear message naming the missing tools and how to install them. */
export function requireTools(tools: Record<string, string>): Record<string, string> {
  const found: Record<string, string> = {};
  const missing: string[] = [];
  for (const [tool, pkg] of Object.entries(tools)) {
    const p = which(tool);
    if (p) found[tool] = p;
    else missing.push(`${tool} (Debian package ${pkg})`);
  }
  if (missing.length > 0) {
    const pkgs = [...new Set(Object.entries(tools).filter(([t]) => !found[t]).map(([, p]) => p))];
    throw new Error(
      `missing tools: ${missing.join(", ")}\n  install with: apt-get install -y ${pkgs.join(" ")}`,
    );
  }
  return found;
}

/** Runs a short command to completion (bounded by `timeoutMs`) and returns its output. */
export async function runQuiet(
  cmd: string,
  args: string[],
  timeoutMs = 10_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped", stdin: "null" })
    .spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }, timeoutMs);
  try {
    const out = await child.output();
    return {
      code: out.code,
      stdout: decoder.decode(out.stdout),
      stderr: decoder.decode(out.stderr),
    };
  } finally {
    clearTimeout(timer);
  }
}

/** True when `nice -n -10` works silently (root or CAP_SYS_NICE). */
export async function canRaisePriority(): Promise<boolean> {
  if (!which("nice")) return false;
  try {
    const r = await runQuiet("nice", ["-n", "-10", "true"]);
    return r.code === 0 && r.stderr.trim() === "";
  } catch {
    return false;
  }
}

/** Pins the calling process (all its threads) to `cpu`; returns false when that failed. */
export async function pinSelf(cpu: string): Promise<boolean> {
  if (!which("taskset")) return false;
  const r = await runQuiet("taskset", ["-a", "-c", "-p", cpu, String(Deno.pid)]);
  return r.code === 0;
}

/** Pids of all descendants of `pid` (children first-level, then theirs), read from /proc. */
export function descendants(pid: number): number[] {
  const out: number[] = [];
  const queue = [pid];
  const seen = new Set<number>([pid]);
  while (queue.length > 0 && out.length < 10_000) {
    const p = queue.shift()!;
    let tasks: Deno.DirEntry[] = [];
    try {
      tasks = [...Deno.readDirSync(`/proc/${p}/task`)];
    } catch {
      continue;
    }
    for (const t of tasks) {
      let text = "";
      try {
        text = Deno.readTextFileSync(`/proc/${p}/task/${t.name}/children`);
      } catch {
        continue;
      }
      for (const s of text.split(/\s+/)) {
        const c = Number(s);
        if (s && Number.isInteger(c) && !seen.has(c)) {
          seen.add(c);
          out.push(c);
          queue.push(c);
        }
      }
    }
  }
  return out;
}

function signal(pid: number, sig: Deno.Signal): void {
  try {
    Deno.kill(pid, sig);
  } catch {
    // already gone
  }
}

function alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // a zombie has exited; it only waits to be reaped
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Owns every process the benchmark starts. `killAll()` (also run on SIGINT/SIGTERM of the
 * runner) stops them all: SIGTERM, then SIGKILL for whatever is left after a grace period.
 */
export class Procs {
  readonly #live = new Map<number, Spawned & { child: Deno.ChildProcess }>();
  readonly #logDir: string;
  readonly #nice: boolean;

  constructor(logDir: string, nice: boolean) {
    this.#logDir = logDir;
    this.#nice = nice;
  }

  #seq = 0;

  /** A fresh log file path in the log directory: `<logDir>/<NNN>-<name>.log`. */
  logPath(name: string): string {
    return `${this.#logDir}/${String(++this.#seq).padStart(3, "0")}-${name}.log`;
  }

  get nice(): boolean {
    return this.#nice;
  }

  /** Starts `cmd args` pinned to `opts.cpu`, stdout+stderr into a log file. */
  spawn(name: string, cmd: string, args: string[], opts: SpawnOptions = {}): Spawned {
    const argv: string[] = [];
    if (this.#nice) argv.push("nice", "-n", "-10");
    if (opts.cpu !== undefined) argv.push("taskset", "-c", opts.cpu);
    argv.push(cmd, ...args);
    const logFile = opts.logFile ?? this.logPath(name);
    const child = new Deno.Command(argv[0]!, {
      args: argv.slice(1),
      cwd: opts.cwd,
      env: opts.env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const file = Deno.openSync(logFile, { create: true, append: true });
    const copy = async (stream: ReadableStream<Uint8Array>) => {
      try {
        for await (const chunk of stream) file.writeSync(chunk);
      } catch {
        // the process went away
      }
    };
    const copies = Promise.all([copy(child.stdout), copy(child.stderr)]).finally(() => {
      try {
        file.close();
      } catch {
        // closed
      }
    });
    let done = false;
    const status = child.status.then(async (s) => {
      done = true;
      this.#live.delete(child.pid);
      await copies;
      return s;
    });
    const sp = { name, pid: child.pid, status, logFile, exited: () => done, child };
    this.#live.set(child.pid, sp);
    return sp;
  }

  /**
   * Stops `p` and its descendants: SIGTERM to all, wait up to `graceMs`, then SIGKILL whatever
   * is still alive. Resolves once `p` has exited.
   */
  async kill(p: Spawned, graceMs = 3000): Promise<void> {
    const kids = descendants(p.pid);
    if (!p.exited()) signal(p.pid, "SIGTERM");
    for (const k of kids) signal(k, "SIGTERM");
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline && (!p.exited() || kids.some(alive))) await sleep(50);
    if (!p.exited()) signal(p.pid, "SIGKILL");
    for (const k of kids) if (alive(k)) signal(k, "SIGKILL");
    await Promise.race([p.status, sleep(5000)]);
  }

  /** Kills everything still running. */
  async killAll(): Promise<void> {
    await Promise.all([...this.#live.values()].map((p) => this.kill(p, 2000)));
  }

  /** Synchronous last resort (process exit): SIGKILL everything still known. */
  killAllSync(): void {
    for (const p of this.#live.values()) {
      for (const k of descendants(p.pid)) signal(k, "SIGKILL");
      signal(p.pid, "SIGKILL");
    }
  }
}

/** True when something accepts TCP connections on 127.0.0.1:`port`. */
export async function portOpen(port: number): Promise<boolean> {
  try {
    const c = await Deno.connect({ hostname: "127.0.0.1", port });
    c.close();
    return true;
  } catch {
    return false;
  }
}

/** Throws when any of `ports` is already taken on 127.0.0.1 (a stale run, or someone else). */
export async function assertPortsFree(ports: number[]): Promise<void> {
  const busy: number[] = [];
  for (const p of ports) if (await portOpen(p)) busy.push(p);
  if (busy.length > 0) {
    throw new Error(
      `ports already in use on 127.0.0.1: ${busy.join(", ")} — a previous benchmark may still ` +
        `be running (check with: ss -ltnp | grep -E '${busy.join("|")}')`,
    );
  }
}

/** Waits until `check()` is true, the process `p` exits (error), or `timeoutMs` passes (error). */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  p: Spawned | undefined,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    if (p?.exited()) {
      throw new Error(`${p.name} exited before ${what}; see ${p.logFile}:\n${tail(p.logFile)}`);
    }
    await sleep(100);
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}` +
      (p ? `; see ${p.logFile}:\n${tail(p.logFile)}` : ""),
  );
}

/** Last lines of a log file, for error messages. */
export function tail(file: string, lines = 15): string {
  try {
    return Deno.readTextFileSync(file).trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}
