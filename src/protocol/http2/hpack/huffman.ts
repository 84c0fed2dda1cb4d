/**
 * HPACK Huffman decoding (RFC 7541 §5.2). Peers (curl, nghttp2, grpc-js) Huffman-encode most
 * literals, so decoding is required; the encoder sends raw literals and never needs this.
 *
 * The code is walked four bits at a time through a table built once at load: each state is a
 * node of the code tree, and for each nibble the table gives the next state and the symbol
 * (if one completed). This keeps decoding to one table read per nibble.
 */

import { HpackError } from "../errors.ts";
import { HUFFMAN_BITS, HUFFMAN_CODES } from "./tables.ts";

const EOS = 256;

// Binary tree of the code: children[2*node + bit]; leaf symbols in sym[node] (-1 = inner).
const children: number[] = [0, 0];
const sym: number[] = [-1];
for (let s = 0; s <= EOS; s++) {
  const code = HUFFMAN_CODES[s]!;
  const bits = HUFFMAN_BITS[s]!;
  let node = 0;
  for (let i = bits - 1; i >= 0; i--) {
    const bit = (code >>> i) & 1;
    let next = children[2 * node + bit]!;
    if (next === 0) {
      next = sym.length;
      sym.push(-1);
      children.push(0, 0);
      children[2 * node + bit] = next;
    }
    node = next;
  }
  sym[node] = s;
}

/** Depth of each inner node, and whether its path so far is all ones (valid padding). */
const allOnes: boolean[] = new Array(sym.length).fill(false);
const depth: number[] = new Array(sym.length).fill(0);
{
  const stack: number[] = [0];
  allOnes[0] = true;
  while (stack.length > 0) {
    const n = stack.pop()!;
    for (let bit = 0; bit < 2; bit++) {
      const c = children[2 * n + bit]!;
      if (c === 0) continue;
      depth[c] = depth[n]! + 1;
      allOnes[c] = allOnes[n]! && bit === 1;
      if (sym[c]! < 0) stack.push(c);
    }
  }
}

// Nibble table over inner nodes: NEXT[node*16+nibble] = next inner node, EMIT = symbol or -1,
// FAIL when the path reaches EOS (a decoding error).
const inner: number[] = [];
const innerIndex = new Int32Array(sym.length).fill(-1);
for (let n = 0; n < sym.length; n++) {
  if (sym[n]! < 0) {
    innerIndex[n] = inner.length;
    inner.push(n);
  }
}
const NEXT = new Int32Array(inner.length * 16);
const EMIT = new Int32Array(inner.length * 16).fill(-1);
const FAIL = new Uint8Array(inner.length * 16);
for (let i = 0; i < inner.length; i++) {
  for (let nib = 0; nib < 16; nib++) {
    let node = inner[i]!;
    let emitted = -1;
    let fail = false;
    for (let b = 3; b >= 0; b--) {
      node = children[2 * node + ((nib >>> b) & 1)]!;
      const s = sym[node]!;
      if (s >= 0) {
        // At most one symbol per nibble: every code is at least 5 bits long.
        if (s === EOS) fail = true;
        emitted = s;
        node = 0;
      }
    }
    NEXT[i * 16 + nib] = innerIndex[node]!;
    EMIT[i * 16 + nib] = emitted;
    FAIL[i * 16 + nib] = fail ? 1 : 0;
  }
}

/** Decodes Huffman-coded bytes into a latin-1 string (header bytes map 1:1 to chars). */
export function huffmanDecode(src: Uint8Array, start: number, end: number): string {
  let state = 0; // index into the inner-node tables
  let out = "";
  const codes: number[] = [];
  for (let i = start; i < end; i++) {
    const byte = src[i]!;
    let k = state * 16 + (byte >>> 4);
    if (FAIL[k]) throw new HpackError("EOS in Huffman string");
    let e = EMIT[k]!;
    if (e >= 0) codes.push(e);
    state = NEXT[k]!;
    k = state * 16 + (byte & 15);
    if (FAIL[k]) throw new HpackError("EOS in Huffman string");
    e = EMIT[k]!;
    if (e >= 0) codes.push(e);
    state = NEXT[k]!;
    if (codes.length >= 4096) {
      out += String.fromCharCode.apply(null, codes);
      codes.length = 0;
    }
  }
  // Padding: fewer than 8 bits, all ones (RFC 7541 §5.2).
  const node = inner[state]!;
  if (node !== 0 && (depth[node]! > 7 || !allOnes[node])) {
    throw new HpackError("invalid Huffman padding");
  }
  return out + String.fromCharCode.apply(null, codes);
}
