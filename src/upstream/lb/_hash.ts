/**
 * The string hash of the consistent-hash balancers: MurmurHash3 (x86, 32-bit) run over the
 * string's UTF-16 code units, two units per 32-bit block, with a seed. Fast in JS (Math.imul, no
 * BigInt, no TextEncoder allocation) and well mixed; two seeds give the two independent hashes
 * Maglev needs. Values differ from Envoy's xxHash64, so hash keys map to other hosts than in
 * Envoy — consistency is only promised within this implementation.
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

function mixBlock(h: number, k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, C2);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** An unsigned 32-bit hash of `s`. */
export function hash32(s: string, seed = 0): number {
  const n = s.length;
  let h = seed | 0;
  let i = 0;
  for (; i + 1 < n; i += 2) h = mixBlock(h, s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16));
  if (i < n) {
    // Tail: one code unit left (two bytes), mixed without the final rotate-add.
    let k = Math.imul(s.charCodeAt(i), C1);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, C2);
  }
  h ^= n * 2;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
