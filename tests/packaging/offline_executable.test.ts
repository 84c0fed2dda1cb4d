/**
 * dist/mosn-offline, the self-extracting single file made by `deno task compile`: built (or
 * reused when newer than its sources), copied away from the repo, then run as a user would —
 * first-run extraction (also several at once), `version`, exit codes, and `start` proxying the
 * built-in demo upstream until SIGTERM stops it with exit code 0.
 */

import assert from "node:assert/strict";
import { VERSION } from "../../src/version.ts";

const REPO = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
const OFFLINE = `${REPO}/dist/mosn-offline`;
const decoder = new TextDecoder();

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; SIGKILLs it after `timeoutMs`. */
async function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: Record<string, string>; timeoutMs: number },
): Promise<Result> {
  const child = new Deno.Command(cmd, {
    args,
    cwd: opts.cwd,
    env: opts.env,
    clearEnv: opts.env !== undefined,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }, opts.timeoutMs);
  try {
    const out = await child.output();
    const r = {
      code: out.code,
      stdout: decoder.decode(out.stdout),
      stderr: decoder.decode(out.stderr),
    };
    if (timedOut) {
      throw new Error(`${cmd} ${args.join(" ")} timed out after ${opts.timeoutMs} ms\n${r.stderr}`);
    }
    return r;
  } finally {
    clearTimeout(timer);
  }
}

async function mtime(path: string): Promise<number> {
  try {
    return (await Deno.stat(path)).mtime?.getTime() ?? 0;
  } catch {
    return 0;
  }
}

async function newestUnder(dir: string): Promise<number> {
  let newest = 0;
  for await (const e of Deno.readDir(dir)) {
    const p = `${dir}/${e.name}`;
    newest = Math.max(newest, e.isDirectory ? await newestUnder(p) : await mtime(p));
  }
  return newest;
}

/** Builds dist/mosn-offline with `--offline-only` unless it is newer than everything it embeds. */
async function ensureBuilt(): Promise<void> {
  const inputs = await Promise.all([
    newestUnder(`${REPO}/src`),
    newestUnder(`${REPO}/console/src`),
    mtime(`${REPO}/deno.json`),
    mtime(`${REPO}/deno.lock`),
    mtime(`${REPO}/scripts/compile.ts`),
    mtime(Deno.execPath()),
  ]);
  if ((await mtime(OFFLINE)) > Math.max(...inputs)) return;
  const r = await run(
    Deno.execPath(),
    ["run", "--allow-all", `${REPO}/scripts/compile.ts`, "--offline-only"],
    { cwd: REPO, timeoutMs: 180_000 },
  );
  assert.equal(r.code, 0, `scripts/compile.ts --offline-only failed:\n${r.stdout}${r.stderr}`);
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** A clean environment: nothing of the caller's HOME, DENO_DIR or caches leaks in. */
function userEnv(home: string): Record<string, string> {
  return {
    PATH: Deno.env.get("PATH") ?? "/usr/local/bin:/usr/bin:/bin",
    HOME: home,
    XDG_CACHE_HOME: `${home}/.cache`,
    NO_COLOR: "1",
  };
}

async function cacheEntries(home: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(`${home}/.cache/mosn-ts`)) names.push(e.name);
  return names.sort();
}

Deno.test({
  name: "packaging: dist/mosn-offline extracts, runs from anywhere and proxies until SIGTERM",
  async fn(t) {
    await t.step("build (or reuse) with scripts/compile.ts --offline-only", ensureBuilt);

    const work = await Deno.makeTempDir({ prefix: "mosn-offline-test-" });
    try {
      const exe = `${work}/mosn-offline`;
      await Deno.copyFile(OFFLINE, exe);
      await Deno.chmod(exe, 0o755);
      const home = `${work}/home`;
      await Deno.mkdir(home);
      const env = userEnv(home);

      await t.step("first run extracts into $XDG_CACHE_HOME/mosn-ts/<hash>; version", async () => {
        const r = await run(exe, ["version"], { cwd: work, env, timeoutMs: 60_000 });
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout.trim(), `mosn.ts ${VERSION} (deno ${Deno.version.deno})`);
        const entries = await cacheEntries(home);
        assert.equal(entries.length, 1, `one cache dir, no leftovers: ${entries}`);
        assert.match(entries[0]!, /^[0-9a-f]{20}$/);
        const dir = `${home}/.cache/mosn-ts/${entries[0]}`;
        for (const f of [".complete", "deno", "mosn.js"]) await Deno.stat(`${dir}/${f}`);
        // Second run: extracted already.
        const again = await run(exe, ["version"], { cwd: work, env, timeoutMs: 30_000 });
        assert.equal(again.code, 0, again.stderr);
        assert.deepEqual(await cacheEntries(home), entries);
      });

      await t.step("several first runs at once share one extraction", async () => {
        const home2 = `${work}/home2`;
        await Deno.mkdir(home2);
        const rs = await Promise.all(
          [1, 2, 3].map(() =>
            run(exe, ["version"], { cwd: work, env: userEnv(home2), timeoutMs: 60_000 })
          ),
        );
        for (const r of rs) assert.equal(r.code, 0, r.stderr);
        const entries = await cacheEntries(home2);
        assert.equal(entries.length, 1, `one cache dir, no leftovers: ${entries}`);
        const inside: string[] = [];
        for await (const e of Deno.readDir(`${home2}/.cache/mosn-ts/${entries[0]}`)) {
          inside.push(e.name);
        }
        assert.ok(!inside.some((n) => n.startsWith(".extract.")), `stray temp dir: ${inside}`);
        await Deno.remove(home2, { recursive: true });
      });

      await t.step("exit codes pass through (validate of a missing file = 2)", async () => {
        const r = await run(exe, ["validate", "-c", "missing.json"], {
          cwd: work,
          env,
          timeoutMs: 30_000,
        });
        assert.equal(r.code, 2, r.stdout + r.stderr);
      });

      await t.step(
        "start -c <relative path>: ready, proxies the demo upstream, SIGTERM → 0",
        async () => {
          // configs/default.json with free ports instead of 2045/2046/34901 (which a developer's
          // running proxy may hold), written next to the cwd to check relative config paths.
          const [listen, demo, admin] = [freePort(), freePort(), freePort()];
          const original = await Deno.readTextFile(`${REPO}/configs/default.json`);
          const text = original.replaceAll("127.0.0.1:2045", `127.0.0.1:${listen}`)
            .replaceAll("127.0.0.1:2046", `127.0.0.1:${demo}`);
          assert.notEqual(
            text,
            original,
            "configs/default.json no longer uses 127.0.0.1:2045/2046",
          );
          const doc = JSON.parse(text);
          assert.equal(doc.admin.address.socket_address.port_value, 34901);
          doc.admin.address.socket_address.port_value = admin;
          await Deno.writeTextFile(`${work}/mosn.json`, JSON.stringify(doc, null, 2));

          const child = new Deno.Command(exe, {
            args: ["start", "-c", "mosn.json"],
            cwd: work,
            env,
            clearEnv: true,
            stdin: "null",
            stdout: "piped",
            stderr: "piped",
          }).spawn();
          let output = "";
          const pump = async (s: ReadableStream<Uint8Array>) => {
            for await (const c of s) output += decoder.decode(c, { stream: true });
          };
          const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]);
          let exited = false;
          const status = child.status.then((s) => {
            exited = true;
            return s;
          });
          const client = Deno.createHttpClient({});
          const kill = () => {
            try {
              child.kill("SIGKILL");
            } catch { /* gone */ }
          };
          try {
            // Ready within 30 s (includes nothing to extract: the cache is warm from step 1).
            const deadline = Date.now() + 30_000;
            for (;;) {
              const ok = await fetch(`http://127.0.0.1:${admin}/ready`, {
                client,
                signal: AbortSignal.timeout(2_000),
              }).then(async (r) => {
                await r.body?.cancel();
                return r.status === 200;
              }, () => false);
              if (ok) break;
              if (exited) throw new Error(`mosn-offline exited before it was ready:\n${output}`);
              if (Date.now() > deadline) throw new Error(`not ready after 30 s:\n${output}`);
              await new Promise((r) => setTimeout(r, 100));
            }

            // exec: the process we started *is* the Deno process running the extracted bundle.
            const cmdline = await Deno.readTextFile(`/proc/${child.pid}/cmdline`).catch(() => "");
            if (cmdline) {
              const argv = cmdline.split("\0");
              assert.match(argv[0]!, /\/mosn-ts\/[0-9a-f]{20}\/deno$/, argv.join(" "));
              assert.ok(argv.some((a) => a.endsWith("/mosn.js")), argv.join(" "));
            }

            const res = await fetch(`http://127.0.0.1:${listen}/`, {
              client,
              headers: { connection: "close" },
              signal: AbortSignal.timeout(10_000),
            });
            const body = await res.text();
            assert.equal(res.status, 200);
            assert.match(body, /Hello from mosn\.ts/);

            // The console travels inside the executable.
            const page = await fetch(`http://127.0.0.1:${admin}/`, {
              client,
              signal: AbortSignal.timeout(10_000),
            });
            assert.match(await page.text(), /<script type="module" src="\/assets\/app-/);

            child.kill("SIGTERM");
            let timer: ReturnType<typeof setTimeout> | undefined;
            const code = await Promise.race([
              status.then((s) => s.code),
              new Promise<string>((r) => timer = setTimeout(() => r("timeout"), 45_000)),
            ]);
            clearTimeout(timer);
            assert.equal(code, 0, `exit after SIGTERM:\n${output}`);
          } finally {
            client.close();
            if (!exited) kill();
            await status;
            await pumps;
          }
        },
      );
    } finally {
      await Deno.remove(work, { recursive: true }).catch(() => {});
    }
  },
});
