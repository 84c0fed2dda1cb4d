/**
 * Builds the console (console/src, Preact TSX) into console/dist/: index.html plus content-hashed
 * JS and CSS under assets/, minified, no external URLs (it works offline). Fails when the bundle
 * is over 150 KB gzip.
 *
 *   deno run -A scripts/build_console.ts             build
 *   deno run -A scripts/build_console.ts --if-stale  build only when a source is newer than dist
 *
 * Kept out of src/main.ts' module graph: esbuild is a build tool, not a runtime dependency.
 */

import * as esbuild from "esbuild";

const ROOT = new URL("../", import.meta.url);
const CONSOLE = new URL("console/", ROOT);
const DIST = new URL("console/dist/", ROOT);
/** The bundle budget from the console issue: 150 KB gzip for everything the page loads. */
export const MAX_GZIP_BYTES = 150 * 1024;

export interface BuildResult {
  readonly js: string;
  readonly css: string;
  readonly rawBytes: number;
  readonly gzipBytes: number;
}

async function newestMtime(url: URL): Promise<number> {
  let newest = 0;
  const info = await Deno.stat(url);
  if (info.isFile) return info.mtime?.getTime() ?? 0;
  for await (const e of Deno.readDir(url)) {
    if (e.name === "dist") continue;
    const sub = new URL(e.isDirectory ? `${e.name}/` : e.name, url);
    newest = Math.max(newest, await newestMtime(sub));
  }
  return newest;
}

/** True when console/dist/index.html is missing or older than any console source. */
export async function isStale(): Promise<boolean> {
  let built: number;
  try {
    built = (await Deno.stat(new URL("index.html", DIST))).mtime?.getTime() ?? 0;
  } catch {
    return true;
  }
  const sources = [
    CONSOLE,
    new URL("src/admin/console_types.ts", ROOT),
    new URL("scripts/build_console.ts", ROOT),
  ];
  for (const s of sources) if ((await newestMtime(s)) > built) return true;
  return false;
}

async function gzipSize(data: Uint8Array<ArrayBuffer>): Promise<number> {
  const s = new Blob([data]).stream().pipeThrough(new CompressionStream("gzip"));
  return (await new Response(s).arrayBuffer()).byteLength;
}

/** Bundles the console into console/dist/ (replacing what was there). */
export async function buildConsole(): Promise<BuildResult> {
  const out = await esbuild.build({
    entryPoints: {
      app: new URL("src/main.tsx", CONSOLE).pathname,
      style: new URL("src/styles.css", CONSOLE).pathname,
    },
    bundle: true,
    minify: true,
    format: "esm",
    target: ["es2022"],
    platform: "browser",
    jsx: "automatic",
    jsxImportSource: "preact",
    entryNames: "[name]-[hash]",
    outdir: "/",
    write: false,
    metafile: true,
    legalComments: "none",
    logLevel: "error",
    absWorkingDir: new URL(".", ROOT).pathname,
  });
  await esbuild.stop();
  const files = new Map<string, Uint8Array<ArrayBuffer>>();
  for (const f of out.outputFiles) files.set(f.path.replace(/^\//, ""), new Uint8Array(f.contents));
  const js = [...files.keys()].find((n) => n.startsWith("app-") && n.endsWith(".js"));
  const css = [...files.keys()].find((n) => n.endsWith(".css"));
  if (!js || !css) throw new Error(`esbuild produced ${[...files.keys()].join(", ")}`);
  const template = await Deno.readTextFile(new URL("index.html", CONSOLE));
  const html = template.replace("%JS%", `/assets/${js}`).replace("%CSS%", `/assets/${css}`);
  const htmlBytes = new TextEncoder().encode(html);
  let raw = htmlBytes.byteLength, gz = await gzipSize(htmlBytes);
  await Deno.remove(DIST, { recursive: true }).catch(() => {});
  await Deno.mkdir(new URL("assets/", DIST), { recursive: true });
  for (const [name, bytes] of files) {
    if (!name.endsWith(".js") && !name.endsWith(".css")) continue;
    raw += bytes.byteLength;
    gz += await gzipSize(bytes);
    await Deno.writeFile(new URL(`assets/${name}`, DIST), bytes);
  }
  // index.html last: its mtime marks a complete build for isStale().
  await Deno.writeFile(new URL("index.html", DIST), htmlBytes);
  if (gz > MAX_GZIP_BYTES) {
    throw new Error(`console bundle is ${gz} bytes gzip, over the ${MAX_GZIP_BYTES} budget`);
  }
  return { js, css, rawBytes: raw, gzipBytes: gz };
}

/** Builds when stale (or always); returns undefined when nothing had to be done. */
export async function ensureConsole(force = false): Promise<BuildResult | undefined> {
  if (!force && !(await isStale())) return undefined;
  return await buildConsole();
}

if (import.meta.main) {
  const ifStale = Deno.args.includes("--if-stale");
  try {
    const r = await ensureConsole(!ifStale);
    if (r) {
      console.error(
        `console built: console/dist/ (${r.rawBytes} bytes, ${r.gzipBytes} bytes gzip)`,
      );
    }
  } catch (e) {
    console.error(`console build failed: ${(e as Error).message}`);
    // Before `start` (--if-stale) a failed build must not keep the proxy from starting: the admin
    // then serves its endpoint menu at / instead of the console.
    Deno.exit(ifStale ? 0 : 1);
  }
}
