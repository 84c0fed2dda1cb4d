/**
 * python3-grpcio as a gRPC peer (tests/proxy/python/echo.py): a server whose events arrive as
 * JSON lines, and a client that runs every scenario and reports one JSON object.
 */

const PY = "/usr/bin/python3"; // not a pyenv shim on PATH: Debian's python3-grpcio lives here
const SCRIPT = new URL("../proxy/python/echo.py", import.meta.url).pathname;

/** Fails loudly (CI installs python3-grpcio via .ci/run) instead of skipping. */
export async function requirePythonGrpc(): Promise<void> {
  const out = await new Deno.Command(PY, { args: ["-c", "import grpc"], stderr: "piped" })
    .output().catch((e) => ({ success: false, stderr: new TextEncoder().encode(String(e)) }));
  if (!out.success) {
    throw new Error(
      `python3-grpcio is missing (${PY} -c 'import grpc' failed: ` +
        `${new TextDecoder().decode(out.stderr).trim()}); install it: ` +
        "apt-get install -y --no-install-recommends python3-grpcio (.ci/run does)",
    );
  }
}

export interface PyServer {
  readonly port: number;
  readonly address: string;
  /** Methods whose calls the server saw cancelled. */
  readonly cancelled: string[];
  close(): Promise<void>;
}

export async function startPythonServer(): Promise<PyServer> {
  const child = new Deno.Command(PY, {
    args: [SCRIPT, "server"],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = readLines(child.stdout)[Symbol.asyncIterator]();
  const first = await lines.next();
  if (first.done) throw new Error("python gRPC server exited before reporting its port");
  const port = (JSON.parse(first.value) as { port: number }).port;
  const cancelled: string[] = [];
  const reading = (async () => {
    for (let l = await lines.next(); !l.done; l = await lines.next()) {
      const ev = JSON.parse(l.value) as { cancelled?: string };
      if (ev.cancelled) cancelled.push(ev.cancelled);
    }
  })();
  return {
    port,
    address: `127.0.0.1:${port}`,
    cancelled,
    async close() {
      await child.stdin.close(); // the script stops when its stdin ends
      await child.status;
      await reading;
    },
  };
}

/** The JSON lines the script prints (std's TextLineStream is not reachable here). */
async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const dec = new TextDecoder();
  let rest = "";
  for await (const chunk of stream) {
    rest += dec.decode(chunk, { stream: true });
    let nl;
    while ((nl = rest.indexOf("\n")) >= 0) {
      yield rest.slice(0, nl);
      rest = rest.slice(nl + 1);
    }
  }
}

export interface PyStatus {
  code: string;
  details: string;
  /** Binary (-bin) values as hex. */
  trailers: Record<string, string>;
}

/** What echo.py's client saw, scenario by scenario. */
export interface PyReport {
  unary: {
    res: [string, number];
    code: string;
    headers: Record<string, string>;
    trailers: Record<string, string>;
  };
  fail: PyStatus;
  server_stream: { count: number; ordered: boolean };
  bidi: { count: number; sum: number; ordered: boolean };
  cancel: { seen: number; code: string };
  deadline: PyStatus & { ms: number };
}

/** Runs the python client against 127.0.0.1:`port` (h2c, or TLS trusting `tls.ca`, a path). */
export async function runPythonClient(
  port: number,
  tls?: { caPath: string; serverName: string },
): Promise<PyReport> {
  const args = [SCRIPT, "client", `127.0.0.1:${port}`];
  if (tls) args.push(tls.caPath, tls.serverName);
  const out = await new Deno.Command(PY, { args, stdout: "piped", stderr: "piped" }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(
      `python gRPC client failed (${out.code}): ${new TextDecoder().decode(out.stderr)}`,
    );
  }
  return JSON.parse(stdout) as PyReport;
}
