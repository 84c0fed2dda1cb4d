/**
 * Bump allocation of small byte arrays from shared 32 KiB slabs. A slab is never reused: its
 * views stay valid for as long as anyone holds them, and the slab is collected once none does.
 * Much cheaper than one `new Uint8Array` (and ArrayBuffer) per small message.
 */

const SLAB_SIZE = 32 * 1024;
/** Larger arrays get their own buffer. */
const SLAB_MAX = 4 * 1024;
let slab = new ArrayBuffer(SLAB_SIZE);
let slabOff = 0;

/** A zero-filled array of `n` bytes that the caller owns. */
export function allocBytes(n: number): Uint8Array {
  if (n > SLAB_MAX) return new Uint8Array(n);
  if (slabOff + n > SLAB_SIZE) {
    slab = new ArrayBuffer(SLAB_SIZE);
    slabOff = 0;
  }
  const view = new Uint8Array(slab, slabOff, n);
  // 8-byte alignment keeps typed-array views of later allocations cheap.
  slabOff += (n + 7) & ~7;
  return view;
}
