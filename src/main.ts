/**
 * The mosn.ts command line: flags → config → server. The only module that exits the process.
 *
 *   mosn start -c <file>      run the proxy (JSON or YAML; env MOSN_CONFIG as fallback)
 *   mosn validate -c <file>   check a config and exit (0 valid, 2 invalid)
 *   mosn version              print the version
 *   mosn healthcheck [url]    exit 0 when the admin /ready answers 200 (for containers)
 */

import { parseArgs } from "node:util";
import { ConfigError, MosnError } from "./common/errors.ts";
import { log } from "./common/logger.ts";
import { loadConfigFile } from "./config/load.ts";
import { parseConfig } from "./config/parse.ts";
import type { MosnConfig } from "./config/model.ts";
import { PARSE_OPTIONS } from "./server/parse_options.ts";
import { MosnServer } from "./server/server.ts";
import {
  ControlClient,
  type ControlServer,
  resolveStateDir,
  serveControl,
} from "./server/upgrade/control.ts";
import { VERSION } from "./version.ts";

const HELP = `mosn.ts ${VERSION} — MOSN-compatible proxy on Deno

Usage:
  mosn start -c <config.json|yaml>    run the proxy (env MOSN_CONFIG if -c is absent)
  mosn start -c <config> --upgrade    take over from the mosn.ts running with the same state dir
  mosn validate -c <config>           check a config; exit 0 when valid, 2 when not
  mosn version                        print the version
  mosn healthcheck [url]              exit 0 when url (default http://127.0.0.1:34901/ready) answers 200

Options:
  -c, --config <file>   config file
  --upgrade             smooth upgrade: take the listeners over from the running process (also
                        automatic when the state dir's control socket answers)
  --state-dir <dir>     where the upgrade control socket lives (env MOSN_STATE_DIR; default
                        /tmp/mosn-ts-<admin port>)
  -h, --help            this help

Signals: SIGTERM = graceful stop (drain up to graceful_timeout), SIGINT = fast stop,
SIGHUP = reload the config file.
`;

const encoder = new TextEncoder();
function err(text: string): void {
  Deno.stderr.writeSync(encoder.encode(text.endsWith("\n") ? text : text + "\n"));
}
function out(text: string): void {
  Deno.stdout.writeSync(encoder.encode(text.endsWith("\n") ? text : text + "\n"));
}

/** Loads and validates; on failure prints each problem with its JSON path and returns undefined. */
async function load(file: string | undefined): Promise<MosnConfig | undefined> {
  const path = file ?? Deno.env.get("MOSN_CONFIG");
  if (!path) {
    err("mosn: no config file: pass -c <file> or set MOSN_CONFIG");
    return undefined;
  }
  try {
    const { config, warnings } = await loadConfigFile(path, PARSE_OPTIONS);
    for (const w of warnings) log.warn("config: " + w.message, { path: w.path, file: path });
    return config;
  } catch (e) {
    if (e instanceof ConfigError) {
      err(`mosn: invalid config ${path}:`);
      for (const i of e.issues) err(`  ${i.path || "$"}: ${i.message}`);
      return undefined;
    }
    throw e;
  }
}

function setUpLogging(config: MosnConfig): void {
  const s = config.servers[0];
  if (!s) return;
  log.setLevel(s.defaultLogLevel);
  const p = s.defaultLogPath;
  if (p && p !== "stderr") {
    if (p === "stdout") {
      log.setSink((line) => Deno.stdout.writeSync(encoder.encode(line)));
      return;
    }
    const f = Deno.openSync(p, { append: true, create: true });
    log.setSink((line) => {
      try {
        f.writeSync(encoder.encode(line));
      } catch { /* disk full: never fatal */ }
    });
  }
}

interface StartFlags {
  upgrade: boolean;
  stateDir: string | undefined;
}

/** How long the old process keeps accepting after steering new connections away (upgrade). */
const HANDOVER_GRACE_MS = 500;

async function start(file: string | undefined, flags: StartFlags): Promise<number> {
  let config = await load(file);
  if (!config) return 2;
  setUpLogging(config);
  const path = file ?? Deno.env.get("MOSN_CONFIG")!;
  const admin = config.admin.address;
  let sockPath: string | undefined;
  try {
    sockPath = `${
      resolveStateDir(flags.stateDir, admin.kind === "tcp" ? admin.port : 0)
    }/mosn.sock`;
  } catch (e) {
    // Not fatal: the proxy runs, it only cannot be upgraded smoothly.
    log.warn("upgrade: state dir unusable; smooth upgrade disabled", { err: (e as Error).message });
  }

  // A live process on the control socket means this start is an upgrade (MOSN: reconfig.sock).
  const old = sockPath ? await ControlClient.connect(sockPath) : undefined;
  if (flags.upgrade && !old) {
    log.warn("upgrade: no running mosn.ts found; starting normally", { control: sockPath });
  }
  let shared: Set<string> | undefined;
  if (old) {
    try {
      const hello = await old.hello();
      log.info("upgrade: taking over", { old_pid: hello.pid, addresses: hello.addresses });
      shared = new Set(hello.addresses);
      if (config.inheritOldConfig) {
        config = parseConfig(hello.config, PARSE_OPTIONS).config;
        log.info("upgrade: running the old process's config (inherit_old_mosnconfig)");
      }
    } catch (e) {
      old.close();
      err(`mosn: upgrade failed: ${(e as Error).message}`);
      return 1;
    }
  }
  const server = new MosnServer(config, {
    configSource: async () => (await loadConfigFile(path, PARSE_OPTIONS)).config,
    parse: (doc) => parseConfig(doc, PARSE_OPTIONS).config,
  });
  // The OpenTelemetry SDK loads in the background when configured: trace from the first request.
  await server.telemetry.ready;
  try {
    server.start(shared ? { sharedAddresses: shared } : {});
  } catch (e) {
    old?.close(); // the old process goes on serving
    err(`mosn: ${(e as Error).message}`);
    return 1;
  }
  if (old) {
    try {
      const r = await old.takeover();
      server.releaseSteering();
      log.info("upgrade: old process stopped accepting; it drains and exits", { ...r });
    } catch (e) {
      old.close();
      if (e instanceof MosnError && e.code === "CONNECTION_CLOSED") {
        // The old process went away mid-handover: this one serves alone now.
        log.warn("upgrade: the old process closed the control socket; serving alone");
      } else {
        // It refused (another process is taking over): leave it serving, step back.
        err(`mosn: upgrade refused by the running process: ${(e as Error).message}`);
        await server.stop("fast");
        return 1;
      }
    } finally {
      old.close();
    }
  }

  return await new Promise<number>((resolve) => {
    let control: ControlServer | undefined;
    const stop = (mode: "graceful" | "fast") => {
      control?.close();
      server.stop(mode).then(() => resolve(0), (e) => {
        log.error("stop failed", { err: e });
        resolve(1);
      });
    };
    let handedOver = false;
    try {
      if (sockPath) {
        control = serveControl(sockPath, {
          hello: () => ({
            pid: Deno.pid,
            addresses: server.boundAddresses(),
            config: server.documentCopy(),
          }),
          takeover: async () => {
            // One successor only: a second newcomer started at the same time gets an error.
            if (handedOver || server.state() !== "RUNNING") {
              throw new Error(`this process is ${handedOver ? "handing over" : server.state()}`);
            }
            handedOver = true;
            const r = await server.handover(HANDOVER_GRACE_MS);
            // No third process may find us now: the new one serves the control socket next.
            control?.close();
            // Drain (HTTP/1 Connection: close, bolt GoAway where enabled) up to
            // graceful_timeout, then exit; after the reply has gone out.
            setTimeout(() => stop("graceful"), 0);
            return r;
          },
        });
      }
    } catch (e) {
      log.warn("upgrade control socket unavailable; smooth upgrade disabled", {
        path: sockPath,
        err: (e as Error).message,
      });
    }
    const onSignal = (mode: "graceful" | "fast", sig: string) => () => {
      log.info("signal received", { signal: sig });
      stop(mode);
    };
    Deno.addSignalListener("SIGTERM", onSignal("graceful", "SIGTERM"));
    // SIGHUP: smooth reload of the config file; an invalid file changes nothing.
    Deno.addSignalListener("SIGHUP", () => {
      log.info("signal received", { signal: "SIGHUP" });
      server.reloadFromSource().catch((e) => log.error("reload failed", { err: e }));
    });
    Deno.addSignalListener("SIGINT", onSignal("fast", "SIGINT"));
  });
}

async function healthcheck(url: string): Promise<number> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
    await res.body?.cancel();
    return res.status === 200 ? 0 : 1;
  } catch {
    return 1;
  }
}

export async function main(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        config: { type: "string", short: "c" },
        upgrade: { type: "boolean" },
        "state-dir": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (e) {
    err(`mosn: ${(e as Error).message}\n\n${HELP}`);
    return 2;
  }
  const [cmd, ...rest] = parsed.positionals;
  if (parsed.values.help || cmd === "help") {
    out(HELP);
    return 0;
  }
  switch (cmd) {
    case "start":
      return await start(parsed.values.config, {
        upgrade: parsed.values.upgrade ?? false,
        stateDir: parsed.values["state-dir"],
      });
    case "validate": {
      const config = await load(parsed.values.config);
      if (!config) return 2;
      out(
        `mosn: config is valid (${
          config.servers[0]?.listeners.length ?? 0
        } listeners, ${config.clusterManager.clusters.length} clusters)`,
      );
      return 0;
    }
    case "version":
      out(`mosn.ts ${VERSION} (deno ${Deno.version.deno})`);
      return 0;
    case "healthcheck":
      return await healthcheck(rest[0] ?? "http://127.0.0.1:34901/ready");
    case undefined:
      err(HELP);
      return 2;
    default:
      err(`mosn: unknown command ${JSON.stringify(cmd)}\n\n${HELP}`);
      return 2;
  }
}

if (import.meta.main) {
  // A stray rejection in one connection must never take the proxy down: log it and go on.
  globalThis.addEventListener("unhandledrejection", (e) => {
    e.preventDefault();
    log.error("unhandled rejection", { err: e.reason });
  });
  globalThis.addEventListener("error", (e) => {
    e.preventDefault();
    log.error("uncaught error", { err: e.error });
  });
  try {
    Deno.exit(await main(Deno.args));
  } catch (e) {
    err(`mosn: ${e instanceof MosnError ? `${e.code}: ` : ""}${(e as Error).message}`);
    Deno.exit(1);
  }
}
