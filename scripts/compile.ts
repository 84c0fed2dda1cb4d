/**
 * `deno task compile`: builds the distributable artefacts of mosn.ts into dist/.
 *
 *   (a) dist/mosn          `deno compile` of src/main.ts (one native executable). Deno downloads
 *                          `denort` from dl.deno.land on first use; where that is impossible
 *                          (offline machines) this step reports it in one line and is skipped.
 *   (b) dist/mosn-offline  a self-extracting single file built without any download: a POSIX sh
 *                          stub + a gzip'd tar of the Deno binary running this script and the
 *                          `deno bundle` output of src/main.ts (npm packages inlined). The first
 *                          run extracts into ${XDG_CACHE_HOME:-$HOME/.cache}/mosn-ts/<hash>; every
 *                          run then execs `deno run <permissions> mosn.js "$@"`.
 *
 * Options:
 *   --offline-only   skip (a)
 *   --compile-only   skip (b); a failure of (a) is then an error (used by the Dockerfile)
 *   --xz             compress the payload of (b) with xz (needs xz here and where it runs;
 *                    ~25% smaller, ~7x slower to build, ~2.5x slower first run)
 *   --out-dir <dir>  output directory (default dist)
 *
 * Exit code 0 when every requested artefact that can be built here was built.
 */

import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { VERSION } from "../src/version.ts";
import { ensureConsole } from "./build_console.ts";

/** Permissions the CLI needs; the same list as the `start` task in deno.json. */
export const PERMISSIONS = [
  "--allow-net",
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-sys",
  "--allow-run",
  "--allow-ffi",
] as const;
/** deno.json has "unstable": ["net"] (Deno.listen reusePort); outside the project it is a flag. */
export const UNSTABLE = ["--unstable-net"] as const;
/** Lets the server hand memory back after bursts (src/server/idle_trim.ts). */
export const V8_FLAGS = ["--v8-flags=--expose-gc"] as const;

const ROOT = new URL("../", import.meta.url).pathname.replace(/\/$/, "");
const ENTRY = "src/main.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function say(line: string): void {
  Deno.stderr.writeSync(encoder.encode(`compile: ${line}\n`));
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function since(t0: number): string {
  return `${((performance.now() - t0) / 1000).toFixed(1)} s`;
}

/** Writes `data` next to `path` and renames it into place, so readers never see a partial file. */
async function writeAtomic(path: string, data: Uint8Array, mode: number): Promise<void> {
  const tmp = `${path}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  try {
    await Deno.writeFile(tmp, data, { mode });
    await Deno.chmod(tmp, mode); // writeFile's mode is filtered by the umask
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// (a) deno compile

/** Messages of `deno compile` that mean "could not fetch the denort base binary". */
const DENORT_UNAVAILABLE =
  /Setting up base binary|error sending request for url \(https:\/\/dl\.deno\.land/;

type CompileResult = "ok" | "no-denort" | "failed";

async function denoCompile(outDir: string, required: boolean): Promise<CompileResult> {
  const out = `${outDir}/mosn`;
  const t0 = performance.now();
  await ensureConsole();
  say(`deno compile ${ENTRY} -> ${out} (downloads denort on first use; --offline-only skips)`);
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "compile",
      ...PERMISSIONS,
      ...UNSTABLE,
      ...V8_FLAGS,
      // The console's static files, found at run time next to the admin module's source path.
      "--include",
      "console/dist",
      "--output",
      out,
      ENTRY,
    ],
    cwd: ROOT,
    env: { DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const [status, stdout, stderr] = await Promise.all([
    child.status,
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
  ]);
  if (status.success) {
    const size = (await Deno.stat(out)).size;
    say(`built ${out} (${mib(size)}) in ${since(t0)}`);
    return "ok";
  }
  const text = (stdout + stderr).trim();
  // A type error is reported before the download is attempted, so this test is unambiguous.
  if (DENORT_UNAVAILABLE.test(text) && !/Type checking failed|error: Module not found/.test(text)) {
    say(
      required
        ? "deno compile failed: denort could not be downloaded from dl.deno.land (offline?); " +
          "drop --compile-only to build dist/mosn-offline, which needs no download"
        : "deno compile skipped: denort could not be downloaded from dl.deno.land (offline?); " +
          "dist/mosn-offline needs no download",
    );
    return "no-denort";
  }
  Deno.stderr.writeSync(encoder.encode(text + "\n"));
  say(`deno compile failed (exit ${status.code})`);
  return "failed";
}

// ---------------------------------------------------------------------------------------------
// (b) offline self-extracting file

/** `deno bundle --platform=deno` of the entry, npm packages inlined; returns the JS text. */
async function bundle(): Promise<Uint8Array> {
  const dir = await Deno.makeTempDir({ prefix: "mosn-bundle-" });
  try {
    const out = `${dir}/mosn.js`;
    const { success, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["bundle", "--platform=deno", "--packages=bundle", "--output", out, ENTRY],
      cwd: ROOT,
      env: { DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
      stdout: "inherit",
      stderr: "piped",
    }).output();
    if (!success) {
      Deno.stderr.writeSync(stderr);
      throw new Error("deno bundle failed");
    }
    const js = await Deno.readFile(out);
    // Everything must be inside the file: the extracted program runs with --no-npm --no-remote.
    const text = decoder.decode(js);
    const leftover = /\bfrom\s*["'](npm:|jsr:|https?:)[^"']*["']|import\(\s*["'](npm:|jsr:)/.exec(
      text,
    );
    if (leftover) throw new Error(`bundle still imports ${leftover[0]}: it would not run offline`);
    return js;
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

interface TarEntry {
  name: string;
  mode: number;
  data: Uint8Array;
}

/** A POSIX ustar archive (regular files only, fixed mtime so equal inputs give equal bytes). */
export function tar(entries: TarEntry[], mtime = 0): Uint8Array {
  const blocks = entries.reduce((n, e) => n + 1 + Math.ceil(e.data.byteLength / 512), 2);
  const out = new Uint8Array(blocks * 512);
  let off = 0;
  const field = (h: Uint8Array, at: number, len: number, text: string) => {
    const b = encoder.encode(text);
    if (b.byteLength > len) throw new Error(`tar: ${JSON.stringify(text)} does not fit`);
    h.set(b, at);
  };
  const octal = (n: number, len: number) => n.toString(8).padStart(len - 1, "0");
  for (const e of entries) {
    const h = out.subarray(off, off + 512);
    field(h, 0, 100, e.name);
    field(h, 100, 8, octal(e.mode, 8));
    field(h, 108, 8, octal(0, 8));
    field(h, 116, 8, octal(0, 8));
    field(h, 124, 12, octal(e.data.byteLength, 12));
    field(h, 136, 12, octal(mtime, 12));
    field(h, 148, 8, "        ");
    field(h, 156, 1, "0");
    field(h, 257, 8, "ustar\u000000");
    field(h, 265, 32, "root");
    field(h, 297, 32, "root");
    let sum = 0;
    for (const b of h) sum += b;
    field(h, 148, 8, octal(sum, 7) + "\u0000 ");
    off += 512;
    out.set(e.data, off);
    off += Math.ceil(e.data.byteLength / 512) * 512;
  }
  return out; // ends with two zero blocks
}

async function sha256Hex(data: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", data as Uint8Array<ArrayBuffer>));
  return Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** `uname -s`/`uname -m` values of the platform the embedded Deno binary runs on. */
function unamePatterns(): string {
  const os = Deno.build.os === "darwin" ? "Darwin" : Deno.build.os === "linux" ? "Linux" : "";
  if (!os) throw new Error(`the offline file is not supported on ${Deno.build.os}`);
  const arch = Deno.build.arch === "x86_64" ? ["x86_64", "amd64"] : ["aarch64", "arm64"];
  return arch.map((a) => `${os}/${a}`).join(" | ");
}

/** The sh stub; `offset` is the 1-based byte position of the payload (for `tail -c +N`). */
export function stub(
  p: { hash: string; offset: number; decompress: string; platforms: string; deno: string },
): string {
  const flags = ["--no-config", "--no-lock", "--no-remote", "--no-npm", "--no-prompt"]
    .concat(UNSTABLE, V8_FLAGS, PERMISSIONS).join(" ");
  return `#!/bin/sh
# mosn.ts ${VERSION}: offline single-file executable (generated by scripts/compile.ts).
# A POSIX sh stub followed by a compressed tar of the Deno runtime (deno ${p.deno}) and the
# bundled program. The first run extracts them into
# \${MOSN_CACHE_DIR:-\${XDG_CACHE_HOME:-$HOME/.cache}/mosn-ts}/<content hash> (temp dir + rename,
# safe when started concurrently); every run then execs \`deno run <flags> mosn.js "$@"\`.
set -eu
hash=${p.hash}
offset=${p.offset}
fail() { echo "mosn-offline: $*" >&2; exit 1; }
case "$(uname -s)/$(uname -m)" in
  ${p.platforms}) ;;
  *) fail "built for ${p.platforms.split(" | ")[0]}, this machine is $(uname -s)/$(uname -m)" ;;
esac
if [ -n "\${MOSN_CACHE_DIR:-}" ]; then base=$MOSN_CACHE_DIR
elif [ -n "\${XDG_CACHE_HOME:-}" ]; then base=$XDG_CACHE_HOME/mosn-ts
elif [ -n "\${HOME:-}" ]; then base=$HOME/.cache/mosn-ts
else base=\${TMPDIR:-/tmp}/mosn-ts-$(id -u); fi
dir=$base/$hash
if [ ! -f "$dir/.complete" ]; then
  self=$0
  [ -f "$self" ] || self=$(command -v -- "$0") || fail "cannot find my own file ($0)"
  mkdir -p "$base" || fail "cannot create $base (set MOSN_CACHE_DIR)"
  tmp=$(mktemp -d "$base/.extract.XXXXXX") || fail "cannot create a temp dir in $base"
  trap 'rm -rf "$tmp"' EXIT
  trap 'exit 129' HUP
  trap 'exit 130' INT
  trap 'exit 143' TERM
  { tail -c +"$offset" "$self" | ${p.decompress} || : >"$tmp/.failed"; } | tar -xmf - -C "$tmp" ||
    fail "extracting into $tmp failed (disk full? truncated file?)"
  [ ! -e "$tmp/.failed" ] && [ -f "$tmp/.complete" ] && [ -x "$tmp/deno" ] ||
    fail "the embedded payload is damaged (${p.decompress} failed); rebuild or re-download"
  chmod 755 "$tmp"
  # rename(2) is atomic; if another run got there first, mv puts tmp inside its dir: remove it.
  mv "$tmp" "$dir" 2>/dev/null || :
  rm -rf "$tmp" "$dir/\${tmp##*/}"
  trap - EXIT HUP INT TERM
  [ -f "$dir/.complete" ] || fail "could not install into $dir (remove it and retry)"
fi
DENO_NO_UPDATE_CHECK=1
export DENO_NO_UPDATE_CHECK
if [ -z "\${DENO_DIR:-}" ]; then DENO_DIR=$dir/deno_dir; export DENO_DIR; fi
exec "$dir/deno" run ${flags} "$dir/mosn.js" "$@"
exit 127
# --- payload (compressed tar) follows ---
`;
}

/** The built console (built first when stale) as tar entries under `console/`. */
async function consoleEntries(): Promise<TarEntry[]> {
  await ensureConsole();
  const dist = `${ROOT}/console/dist`;
  const out: TarEntry[] = [];
  const walk = async (rel: string): Promise<void> => {
    for await (const e of Deno.readDir(`${dist}/${rel}`)) {
      const name = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory) await walk(name);
      else if (e.isFile) {
        out.push({
          name: `console/${name}`,
          mode: 0o644,
          data: await Deno.readFile(`${dist}/${name}`),
        });
      }
    }
  };
  await walk("");
  return out.sort((a, b) => (a.name < b.name ? -1 : 1));
}

async function buildOffline(outDir: string, useXz: boolean): Promise<void> {
  const out = `${outDir}/mosn-offline`;
  const t0 = performance.now();
  const denoPath = Deno.execPath();
  say(`bundling ${ENTRY} and embedding ${denoPath}`);
  const [js, denoBin, consoleFiles] = await Promise.all([
    bundle(),
    Deno.readFile(denoPath),
    consoleEntries(),
  ]);
  const archive = tar([
    { name: "deno", mode: 0o755, data: denoBin },
    { name: "mosn.js", mode: 0o644, data: js },
    // Unpacked next to mosn.js, where the admin looks for a bundled program's console.
    ...consoleFiles,
    { name: "VERSION", mode: 0o644, data: encoder.encode(`${VERSION}\n`) },
    // Last entry: present only when everything before it was extracted.
    { name: ".complete", mode: 0o644, data: new Uint8Array() },
  ]);
  const hash = (await sha256Hex(archive)).slice(0, 20);

  let payload: Uint8Array;
  if (useXz) {
    const child = new Deno.Command("xz", {
      args: ["-6", "-T0", "-c"],
      stdin: "piped",
      stdout: "piped",
    }).spawn();
    const w = child.stdin.getWriter();
    const written = w.write(archive).then(() => w.close());
    const [res] = await Promise.all([child.output(), written]);
    if (!res.success) throw new Error("xz failed");
    payload = res.stdout;
  } else {
    payload = gzipSync(archive, { level: 9 });
  }

  const p = {
    hash,
    offset: 0,
    decompress: useXz ? "xz -dc" : "gzip -dc",
    platforms: unamePatterns(),
    deno: Deno.version.deno,
  };
  // The stub's length depends on the offset it names: iterate to the fixed point.
  let head = encoder.encode(stub(p));
  while (head.byteLength + 1 !== p.offset) {
    p.offset = head.byteLength + 1;
    head = encoder.encode(stub(p));
  }
  const file = new Uint8Array(head.byteLength + payload.byteLength);
  file.set(head);
  file.set(payload, head.byteLength);
  await writeAtomic(out, file, 0o755);
  say(
    `built ${out} (${mib(file.byteLength)}; payload ${mib(archive.byteLength)} -> ` +
      `${mib(payload.byteLength)} ${useXz ? "xz" : "gzip"}; cache key ${hash}) in ${since(t0)}`,
  );
}

// ---------------------------------------------------------------------------------------------

async function run(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      "offline-only": { type: "boolean", default: false },
      "compile-only": { type: "boolean", default: false },
      xz: { type: "boolean", default: false },
      "out-dir": { type: "string", default: "dist" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    const doc = (await Deno.readTextFile(new URL(import.meta.url))).split("*/")[0]!;
    console.log(doc.replace(/^\/\*\*\n?/, "").replace(/^ \* ?/gm, ""));
    return 0;
  }
  if (values["offline-only"] && values["compile-only"]) {
    say("--offline-only and --compile-only exclude each other");
    return 2;
  }
  const outDir = values["out-dir"].startsWith("/")
    ? values["out-dir"]
    : `${ROOT}/${values["out-dir"]}`;
  await Deno.mkdir(outDir, { recursive: true });

  let ok = true;
  if (!values["offline-only"]) {
    const r = await denoCompile(outDir, values["compile-only"]);
    if (r === "failed" || (r === "no-denort" && values["compile-only"])) ok = false;
  }
  if (!values["compile-only"]) {
    try {
      await buildOffline(outDir, values.xz);
    } catch (e) {
      say(`building mosn-offline failed: ${(e as Error).message}`);
      ok = false;
    }
  }
  return ok ? 0 : 1;
}

if (import.meta.main) Deno.exit(await run());
