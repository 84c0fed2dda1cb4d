/**
 * Gives memory back after a burst. V8 grows its heap under load and, in a server that is never
 * idle in V8's sense, keeps it: RSS stays at the peak. When traffic has stopped (no new
 * connections and no bytes moved for one period) after a busy period, run one full GC so the
 * heap shrinks and freed socket buffers go back to the allocator. Needs `--v8-flags=--expose-gc`
 * (the deno tasks pass it); without it this does nothing.
 */

/** Default quiet period before a trim; env MOSN_IDLE_TRIM_MS overrides it (0 turns trims off). */
const DEFAULT_PERIOD_MS = 5000;

function periodMs(): number {
  let v: string | undefined;
  try {
    v = Deno.env.get("MOSN_IDLE_TRIM_MS");
  } catch {
    return DEFAULT_PERIOD_MS; // no env permission
  }
  const n = v === undefined ? NaN : Number(v);
  return Number.isFinite(n) && n >= 0 ? n : DEFAULT_PERIOD_MS;
}

export interface ActivityProbe {
  /** Any number that changes whenever traffic happens (bytes and connections summed). */
  activity(): number;
}

export function startIdleTrim(probe: ActivityProbe): () => void {
  const gc = (globalThis as { gc?: () => void }).gc;
  const period = periodMs();
  if (typeof gc !== "function" || period === 0) return () => {};
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
  }, period);
  Deno.unrefTimer(timer);
  return () => clearInterval(timer);
}
