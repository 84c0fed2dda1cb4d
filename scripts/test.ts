/**
 * `deno task test`: runs every test under tests/ with `deno test`, streams its output, and ends
 * with the plain line `N passed, N failed` (plus `, N skipped`) that CI reads.
 * Extra arguments are passed to `deno test` (e.g. a file or `--filter`).
 */

const args = Deno.args.length > 0 ? Deno.args : ["tests/"];
const cmd = new Deno.Command(Deno.execPath(), {
  args: ["test", "--allow-all", ...args],
  stdout: "piped",
  stderr: "inherit",
  env: { NO_COLOR: "1" },
});
const child = cmd.spawn();
const decoder = new TextDecoder();
let tail = "";
const stdout = Deno.stdout;
for await (const chunk of child.stdout) {
  await stdout.write(chunk);
  tail = (tail + decoder.decode(chunk, { stream: true })).slice(-4096);
}
const status = await child.status;

// Deno's summary: "ok | 12 passed (3 steps) | 0 failed | 2 ignored (4s)"
const m =
  /(?:ok|FAILED) \| (\d+) passed(?: \(\d+ steps?\))? \| (\d+) failed(?: \(\d+ steps?\))?(?: \| (\d+) ignored)?/
    .exec(tail);
const passed = m ? Number(m[1]) : 0;
const failed = m ? Number(m[2]) : (status.success ? 0 : 1);
const skipped = m && m[3] ? Number(m[3]) : 0;
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
Deno.exit(status.success && failed === 0 && passed > 0 ? 0 : 1);
