/**
 * Serves the built console (console/dist/: index.html plus content-hashed files under assets/)
 * from memory. Files are read and gzip-compressed once, on first request; hashed assets are
 * cached for a year (their name changes with their content), index.html is revalidated.
 */

const TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".json": "application/json; charset=utf-8",
  ".ico": "image/x-icon",
  ".png": "image/png",
  ".map": "application/json; charset=utf-8",
};

interface Asset {
  readonly type: string;
  readonly body: Uint8Array<ArrayBuffer>;
  readonly gzip: Uint8Array<ArrayBuffer> | undefined;
  readonly etag: string;
  readonly immutable: boolean;
}

/** Where `./deno task build` writes the console, relative to this file in a source checkout. */
export const DEFAULT_CONSOLE_DIR = new URL("../../../console/dist/", import.meta.url);

/**
 * Where to look for the built console, first hit wins: `MOSN_CONSOLE_DIR`, the checkout's
 * console/dist/ (also where `deno compile --include` puts it), and `console/` next to a bundled
 * program (the offline executable unpacks it there).
 */
export function consoleDirCandidates(): URL[] {
  const out: URL[] = [];
  try {
    const env = Deno.env.get("MOSN_CONSOLE_DIR");
    if (env) out.push(new URL(env.endsWith("/") ? env : env + "/", `file://${Deno.cwd()}/`));
  } catch {
    // no env permission: skip the override
  }
  out.push(DEFAULT_CONSOLE_DIR, new URL("console/", import.meta.url));
  return out;
}

async function gzip(data: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  const stream = new Blob([data]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function digest(data: Uint8Array<ArrayBuffer>): Promise<string> {
  const h = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
  return [...h.slice(0, 8)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function loadDir(dir: URL): Promise<Map<string, Asset> | undefined> {
  const out = new Map<string, Asset>();
  const walk = async (sub: string): Promise<void> => {
    for await (const e of Deno.readDir(new URL(sub, dir))) {
      const rel = sub + e.name;
      if (e.isDirectory) await walk(rel + "/");
      else if (e.isFile) {
        const body = await Deno.readFile(new URL(rel, dir));
        const ext = rel.slice(rel.lastIndexOf("."));
        const compress = body.byteLength > 512 && !ext.match(/\.(png|ico)$/);
        out.set("/" + rel, {
          type: TYPES[ext] ?? "application/octet-stream",
          body,
          gzip: compress ? await gzip(body) : undefined,
          etag: `"${await digest(body)}"`,
          immutable: rel.startsWith("assets/"),
        });
      }
    }
  };
  try {
    await walk("");
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
  return out.has("/index.html") ? out : undefined;
}

export class ConsoleAssets {
  readonly #dirs: readonly URL[];
  #loading: Promise<Map<string, Asset> | undefined> | undefined;

  /** `dir` given: only there; else the {@link consoleDirCandidates}. */
  constructor(dir?: URL) {
    this.#dirs = dir ? [dir] : consoleDirCandidates();
  }

  /** True once loaded and the console is built (index.html exists). */
  async available(): Promise<boolean> {
    return (await this.#load()) !== undefined;
  }

  #load(): Promise<Map<string, Asset> | undefined> {
    this.#loading ??= (async () => {
      for (const d of this.#dirs) {
        const files = await loadDir(d).catch(() => undefined);
        if (files) return files;
      }
      return undefined;
    })();
    return this.#loading;
  }

  /** The response for `path` ("/" = index.html), or undefined when there is no such file. */
  async serve(request: Request, path: string): Promise<Response | undefined> {
    const files = await this.#load();
    if (!files) return undefined;
    const a = files.get(path === "/" ? "/index.html" : path);
    if (!a) return undefined;
    const headers = new Headers({
      "content-type": a.type,
      "etag": a.etag,
      "cache-control": a.immutable ? "public, max-age=31536000, immutable" : "no-cache",
      "vary": "accept-encoding",
      "x-content-type-options": "nosniff",
    });
    if (a.type.startsWith("text/html")) {
      // The console loads only its own files and talks only to this origin.
      headers.set(
        "content-security-policy",
        "default-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
          "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
      );
      headers.set("referrer-policy", "no-referrer");
    }
    if (request.headers.get("if-none-match") === a.etag) {
      return new Response(null, { status: 304, headers });
    }
    const head = request.method === "HEAD";
    const gz = a.gzip && /\bgzip\b/.test(request.headers.get("accept-encoding") ?? "");
    if (gz) headers.set("content-encoding", "gzip");
    const body = gz ? a.gzip! : a.body;
    headers.set("content-length", String(body.byteLength));
    return new Response(head ? null : body, { headers });
  }
}
