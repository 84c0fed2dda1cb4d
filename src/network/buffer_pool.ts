/** Size-classed free lists of read buffers, so connections reuse memory instead of churning the GC. */

const CLASSES = [1024, 4096, 16384, 65536] as const;
/** Free buffers kept per class; beyond this they are left to the GC. */
const KEEP = [512, 256, 128, 64] as const;

const free: Uint8Array[][] = CLASSES.map(() => []);

export const MIN_READ_SIZE = CLASSES[0];
export const MAX_READ_SIZE = CLASSES[CLASSES.length - 1]!;

function classOf(size: number): number {
  for (let i = 0; i < CLASSES.length; i++) if (size <= CLASSES[i]!) return i;
  return CLASSES.length - 1;
}

/** A buffer of at least `size` bytes (capped at the largest class). */
export function takeBuffer(size: number): Uint8Array {
  const c = classOf(size);
  return free[c]!.pop() ?? new Uint8Array(CLASSES[c]!);
}

/** Returns a buffer obtained from takeBuffer; the caller must hold no view of it afterwards. */
export function releaseBuffer(buf: Uint8Array): void {
  const c = CLASSES.indexOf(buf.byteLength as typeof CLASSES[number]);
  if (c < 0) return;
  const list = free[c]!;
  if (list.length < KEEP[c]!) list.push(buf);
}

/**
 * The next read size: grow fast while reads fill the buffer; drop to the minimum once a read
 * comes back well short (the socket is drained), so that the read left pending on an idle
 * connection pins 1 KiB, not 64 KiB.
 */
export function nextReadSize(current: number, got: number): number {
  if (got >= current && current < MAX_READ_SIZE) return current * 4;
  if (got < current / 4 && current > MIN_READ_SIZE) return MIN_READ_SIZE;
  return current;
}
