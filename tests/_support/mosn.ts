/** Starts mosn.ts in-process (for filter/upstream behaviour) or as a child process (for CLI, signals, RSS). */

import { PARSE_OPTIONS } from "../../src/server/parse_options.ts";
import { parseConfig } from "../../src/config/parse.ts";
import { MosnServer } from "../../src/server/server.ts";
import { log } from "../../src/common/logger.ts";
import { freePort } from "./net.ts";

export const REPO = new URL("../../", import.meta.url).pathname;
export const MAIN = REPO + "src/main.ts";

/** A server from a config document; admin off unless the document names an admin port. */
export function startInProcess(doc: unknown, opts: { admin?: boolean } = {}): MosnServer {
  const { config } = parseConfig(doc, PARSE_OPTIONS);
  // Expected failures (dead hosts, resets) log warnings; keep test output for real errors.
  log.setLevel("ERROR");
  const server = new MosnServer(config, {
    noAdmin: !opts.admin,
    parse: (d) => parseConfig(d, PARSE_OPTIONS).config,
    logger: log,
  });
  server.start();
  return server;
}

/** A minimal one-listener tcp_proxy config; listener on port 0 unless given. */
export function tcpProxyDoc(
  clusters: { name: string; lb_type?: string; hosts: { address: string; weight?: number }[] }[],
  proxy: Record<string, unknown>,
  listener: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    servers: [{
      default_log_level: "ERROR",
      graceful_timeout: "5s",
      listeners: [{
        name: "l1",
        address: "127.0.0.1:0",
        ...listener,
        filter_chains: [{ filters: [{ type: "tcp_proxy", config: proxy }] }],
      }],
    }],
    cluster_manager: {
      clusters: clusters.map((c) => ({ type: "SIMPLE", connect_timeout: "1s", ...c })),
    },
    admin: { address: { socket_address: { address: "127.0.0.1", port_value: 0 } } },
  };
}

export interface MosnProcess {
  readonly child: Deno.ChildProcess;
  /** The config file the process was started with (rewrite it, then SIGHUP, to reload). */
  readonly configPath: string;
  readonly adminPort: number;
  readonly stderr: () => string;
  /** Resolves with the exit code. */
  readonly exited: Promise<number>;
  kill(sig?: Deno.Signal): void;
}

export interface StartProcessOptions {
  /** Use this admin port instead of a free one (a second process for an upgrade). */
  adminPort?: number;
  /** More arguments after `start -c <file>` (e.g. `--upgrade`). */
  args?: string[];
}

/**
 * Runs `deno run src/main.ts start -c <file>` with the given document written to a temp file;
 * waits until the admin API answers RUNNING from this very process (during an upgrade the old
 * one answers on the same port first). The document's admin port is replaced by a free one.
 */
export async function startProcess(
  doc: Record<string, unknown>,
  env: Record<string, string> = {},
  opts: StartProcessOptions = {},
): Promise<MosnProcess> {
  const adminPort = opts.adminPort ?? freePort();
  const d = structuredClone(doc);
  d.admin = { address: { socket_address: { address: "127.0.0.1", port_value: adminPort } } };
  const dir = await Deno.makeTempDir();
  const file = `${dir}/config.json`;
  await Deno.writeTextFile(file, JSON.stringify(d));
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      "--unstable-net",
      "--v8-flags=--expose-gc",
      MAIN,
      "start",
      "-c",
      file,
      ...(opts.args ?? []),
    ],
    stdout: "null",
    stderr: "piped",
    env,
  }).spawn();
  let err = "";
  const decoder = new TextDecoder();
  const pump = (async () => {
    for await (const c of child.stderr) err += decoder.decode(c, { stream: true });
  })();
  const exited = child.status.then(async (s) => {
    await pump;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    return s.code;
  });
  const deadline = Date.now() + 20_000;
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${adminPort}/api/v1/states`).then(async (r) => {
      const s = await r.json() as { state?: string; pid?: number };
      return s.state === "RUNNING" && s.pid === child.pid;
    }, () => false);
    if (ok) break;
    const done = await Promise.race([
      exited.then(() => true),
      new Promise((r) => setTimeout(() => r(false), 100)),
    ]);
    if (done || Date.now() > deadline) {
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
      await exited;
      throw new Error(`mosn did not become ready:\n${err}`);
    }
  }
  return {
    child,
    configPath: file,
    adminPort,
    stderr: () => err,
    exited,
    kill(sig: Deno.Signal = "SIGTERM") {
      try {
        child.kill(sig);
      } catch { /* already gone */ }
    },
  };
}

/** Resident set size of a process in KiB, from /proc. */
export async function rssKiB(pid: number): Promise<number> {
  const s = await Deno.readTextFile(`/proc/${pid}/status`);
  const m = /VmRSS:\s+(\d+) kB/.exec(s);
  return m ? Number(m[1]) : 0;
}
