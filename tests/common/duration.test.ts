import assert from "node:assert/strict";
import { formatDuration, parseDuration } from "../../src/common/duration.ts";

Deno.test("Go durations parse to milliseconds", () => {
  assert.equal(parseDuration("15s"), 15_000);
  assert.equal(parseDuration("300ms"), 300);
  assert.equal(parseDuration("1h2m3.5s"), 3_723_500);
  assert.equal(parseDuration("1.5m"), 90_000);
  assert.equal(parseDuration("0"), 0);
  assert.equal(parseDuration("250us"), 0.25);
});

Deno.test("text that is not a Go duration is rejected", () => {
  for (const bad of ["", "15", "15 s", "s", "1d", "ten seconds", "1s2"]) {
    assert.equal(parseDuration(bad), undefined, bad);
  }
});

Deno.test("durations format back for config dumps", () => {
  assert.equal(formatDuration(30_000), "30s");
  assert.equal(formatDuration(120_000), "2m0s");
  assert.equal(formatDuration(250), "250ms");
});
