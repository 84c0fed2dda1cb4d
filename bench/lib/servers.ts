/**
 * The processes under test and around it: the nginx origin, HAProxy, nginx as reverse proxy and
 * mosn.ts, started from the
 * reference configs in `bench/reference/` (copied from the research notes so results stay
 * comparable) with `@DIR@` replaced by the scratch folder.
 */

import { oneRequest } from "./idle.ts";
import type { Procs, Spawned } from "./proc.ts";
import { portOpen, waitFor } from "./proc.ts";

export const BENCH_DIR = new URL("../", import.meta.url).pathname.replace(/\/$/, "");
export const REPO_ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
const REFERENCE = `${BENCH_DIR}/reference`;

/** Ports fixed by the reference configs. */
export const PORTS = {
  origin: 29080,
  originH2c: 29443,
  haproxyHttp: 29081,
  haproxyTcp: 29082,
  nginxProxy: 29083,
  haproxyH2: 29444,
  haproxyH2H1: 29445,
} as const;

/** Size of the large static body. */
export const LARGE_BODY_BYTES = 100 * 1024;

/**
 * Creates `dir/logs`, `dir/www` (with `100k.bin`) and renders the reference configs into `dir`.
 * The folder is made world-readable: nginx workers run as `nobody` when started by root.
 */
export function prepareScratch(dir: string): void {
  Deno.mkdirSync(`${dir}/logs`, { recursive: true });
  Deno.mkdirSync(`${dir}/www`, { recursive: true });
  Deno.chmodSync(dir, 0o755);
  Deno.chmodSync(`${dir}/www`, 0o755);
  const body = new Uint8Array(LARGE_BODY_BYTES);
  let x = 0x9e3779b9;
  for (let i = 0; i < body.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    body[i] = x & 0xff;
  }
  Deno.writeFileSync(`${dir}/www/100k.bin`, body, { mode: 0o644 });
  for (const f of ["nginx-backend.conf", "nginx-proxy.conf", "haproxy.cfg"]) {
    const text = Deno.readTextFileSync(`${REFERENCE}/${f}`).replaceAll("@DIR@", dir);
    Deno.writeTextFileSync(`${dir}/${f}`, text);
  }
}

/** Makes one request on a fresh connection and returns the body (throws on failure). */
export async function fetchOnce(port: number, path: string, timeoutMs = 5000): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const timer = setTimeout(() => conn.close(), timeoutMs);
  try {
    return await oneRequest(conn, path);
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch {
      // closed by the timer
    }
  }
}

/** Checks that `port` serves the origin's content (5-byte hello and the 100 KiB file). */
export async function verifyServes(port: number, via: string): Promise<void> {
  const hello = await fetchOnce(port, "/hello");
  if (hello !== "hello") throw new Error(`${via}: /hello answered ${JSON.stringify(hello)}`);
  const big = await fetchOnce(port, "/100k.bin");
  if (big.length === 0) throw new Error(`${via}: /100k.bin answered an empty body`);
}

/** Starts the nginx origin (h1 on 29080, h2c on 29443) on `cpu` and waits until it serves. */
export async function startOrigin(procs: Procs, dir: string, cpu: string): Promise<Spawned> {
  const p = procs.spawn("nginx-origin", "nginx", [
    "-p",
    dir,
    "-e",
    `${dir}/logs/nginx-backend.err`,
    "-c",
    `${dir}/nginx-backend.conf`,
  ], { cpu });
  await waitFor("the nginx origin on :29080", () => portOpen(PORTS.origin), p, 10_000);
  await verifyServes(PORTS.origin, "nginx origin");
  return p;
}

/** Starts HAProxy with the reference config (nbthread 1) on `cpu` and waits for `port`. */
export async function startHaproxy(
  procs: Procs,
  dir: string,
  cpu: string,
  port: number,
): Promise<Spawned> {
  const p = procs.spawn("haproxy", "haproxy", ["-db", "-f", `${dir}/haproxy.cfg`], { cpu });
  await waitFor(`HAProxy on :${port}`, () => portOpen(port), p, 10_000);
  return p;
}

/** Writes a mosn.ts config to `file`. */
export function writeJson(file: string, value: unknown): void {
  Deno.writeTextFileSync(file, JSON.stringify(value, null, 2) + "\n");
}

async function adminReady(port: number): Promise<boolean> {
  try {
    // a raw one-shot connection: fetch() would keep a pooled connection open in this process
    await fetchOnce(port, "/ready", 1000);
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts nginx as reverse proxy (reference config: `worker_processes 1`, upstream keep-alive) on
 * `cpu` (master and worker) and waits for it to serve on :29083.
 */
export function startNginxProxy(procs: Procs, dir: string, cpu: string): Promise<Spawned> {
  return startNginx(procs, dir, cpu, "nginx-proxy", PORTS.nginxProxy, "nginx as reverse proxy");
}

/**
 * nginx with `<dir>/<name>.conf` (written by the caller), its error log in `<dir>/logs`; resolves
 * once it listens on `port` (`what` names it in the wait's error).
 */
export async function startNginx(
  procs: Procs,
  dir: string,
  cpu: string,
  name: string,
  port: number,
  what = name,
): Promise<Spawned> {
  const p = procs.spawn(name, "nginx", [
    "-p",
    dir,
    "-e",
    `${dir}/logs/${name}.err`,
    "-c",
    `${dir}/${name}.conf`,
  ], { cpu });
  await waitFor(`${what} on :${port}`, () => portOpen(port), p, 10_000);
  return p;
}

/** The arguments `./deno task start` passes to Deno, with `--allow-all` for the permissions. */
export const MOSN_DENO_ARGS = [
  "run",
  "--v8-flags=--expose-gc",
  "--allow-all",
  "--unstable-net",
] as const;

/**
 * Starts mosn.ts as `./deno task start` does
 * (`./deno run --v8-flags=--expose-gc --allow-all --unstable-net src/main.ts start -c <config>`)
 * on `cpu` and waits for `GET /ready` on the admin port to answer 200.
 */
export async function startMosn(
  procs: Procs,
  config: string,
  cpu: string,
  adminPort: number,
): Promise<Spawned> {
  const p = procs.spawn("mosn", `${REPO_ROOT}/deno`, [
    ...MOSN_DENO_ARGS,
    `${REPO_ROOT}/src/main.ts`,
    "start",
    "-c",
    config,
  ], { cpu, cwd: REPO_ROOT, env: { NO_COLOR: "1" } });
  await waitFor(
    `mosn.ts admin GET /ready on :${adminPort}`,
    () => adminReady(adminPort),
    p,
    30_000,
  );
  return p;
}
