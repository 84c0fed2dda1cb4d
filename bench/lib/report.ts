/**
 * BENCHMARKS.md upkeep: the file has an intro (method) and one `## ` section per suite, each
 * between `<!-- bench:<suite>:begin -->` and `<!-- bench:<suite>:end -->` markers. A run rewrites
 * only its own section and leaves the rest of the file as it is.
 */

export const INTRO = `# Benchmarks

Throughput, latency, CPU and memory of mosn.ts against direct access, HAProxy 2.6 and nginx,
measured with the harness in \`bench/\` (\`./deno task bench --suite <name>\`). Each suite below has
its own section; the harness rewrites only the section of the suite it ran, so hand-written notes
belong here in the intro or outside the marked sections.

## Method

The method follows \`bench/reference/METHOD.md\` (the one behind the numbers in the research notes),
so that these tables can be compared with them:

- A 2-core machine, loopback only. The nginx origin (\`bench/reference/nginx-backend.conf\`: \`/hello\`
  with a 5-byte body, \`/100k.bin\` with 100 KiB) and the load generator \`wrk\` share cpu0
  (\`taskset -c 0\`); the proxy under test gets cpu1 alone (\`taskset -c 1\`, which covers all of its
  threads, Deno's included). Everything runs at \`nice -n -10\` when permitted.
- Every proxy runs as a fresh process in every round: RSS when fresh → 1000 idle keep-alive
  connections through the proxy, each after one \`GET /hello\` → RSS again (the difference divided
  by 1000 is the memory per idle proxied connection) → close them → 3 s warm-up →
  \`wrk -t1 -c50 -d10s --latency\` on \`/hello\` and on \`/100k.bin\`.
- CPU per request: the proxy's \`utime\` and \`stime\` from \`/proc/<pid>/stat\` over each wrk run,
  divided by the requests wrk completed (user and kernel µs per request).
- Rows run in the same order in every round; each figure is the median over the rounds, ratios are
  taken within a round and then the median is reported. Differences under ~15% are noise on this
  machine.
- HAProxy runs the reference config \`bench/reference/haproxy.cfg\` (\`nbthread 1\`); nginx as reverse
  proxy runs \`bench/reference/nginx-proxy.conf\` (\`worker_processes 1\`, upstream keep-alive; its
  CPU and RSS are master and worker together); mosn.ts runs as \`./deno task start\` does, with a
  generated config and logging at ERROR:
  \`./deno run --v8-flags=--expose-gc --allow-all --unstable-net src/main.ts start -c <config>\`.
`;

function markers(id: string): { begin: string; end: string } {
  return { begin: `<!-- bench:${id}:begin -->`, end: `<!-- bench:${id}:end -->` };
}

/**
 * Returns `doc` with the section `id` replaced by `heading` + `body` (or appended when absent).
 * An empty `doc` gets {@link INTRO} first.
 */
export function replaceSection(doc: string, id: string, heading: string, body: string): string {
  const { begin, end } = markers(id);
  const block = `${begin}\n\n## ${heading}\n\n${body.trim()}\n\n${end}`;
  if (doc.trim() === "") return `${INTRO}\n${block}\n`;
  const b = doc.indexOf(begin);
  const e = doc.indexOf(end);
  if (b >= 0 && e > b) return doc.slice(0, b) + block + doc.slice(e + end.length);
  // an unmarked section with the same heading (edited by hand): replace up to the next "## "
  const h = doc.indexOf(`\n## ${heading}\n`);
  if (h >= 0) {
    const next = doc.indexOf("\n## ", h + 1);
    return doc.slice(0, h + 1) + block + "\n" + (next >= 0 ? doc.slice(next + 1) : "");
  }
  return doc.trimEnd() + "\n\n" + block + "\n";
}

/** Reads `file` (absent = empty), replaces the section and writes it back. */
export function updateBenchmarksFile(file: string, id: string, heading: string, body: string) {
  let doc = "";
  try {
    doc = Deno.readTextFileSync(file);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  Deno.writeTextFileSync(file, replaceSection(doc, id, heading, body));
}
