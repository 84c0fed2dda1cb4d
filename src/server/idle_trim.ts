/**
 * Gives memory back after a burst. V8 grows its heap under load and, in a server that is never
 * idle in V8's sense, keeps it: RSS stays at the peak. When traffic has stopped (no new
 * connections and no bytes moved for one period) after a busy period, run one full GC so the
 * heap shrinks and freed socket buffers go back to the allocator. Needs `--v8-flags=--expose-gc`
 * (the deno tasks pass it); without it this does nothing.
 */

const PERIOD_MS = 5000;

export interface ActivityProbe {
  /** Any number that changes whenever traffic happens (bytes and connections summed). */
  activity(): number;
}

export function startIdleTrim(probe: ActivityProbe): () => void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc !== "function") return () => {};
  let last = probe.activity();
  let busySinceTrim = false;
  const timer = setInterval(() => {
    const now = probe.activity();
    if (now !== last) {
      busySinceTrim = true;
      last = now;
      return;
    }
    if (busySinceTrim) {
      busySinceTrim = false;
      gc();
    }
  }, PERIOD_MS);
  Deno.unrefTimer(timer);
  return () => clearInterval(timer);
}
