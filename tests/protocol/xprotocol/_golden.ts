/** Loads the captured frames in `golden/<proto>/*.hex` (hex text, whitespace ignored). */

const DIR = new URL("./golden/", import.meta.url);

export function hexToBytes(hex: string): Uint8Array {
  const clean = hex.replace(/\s+/g, "");
  if (clean.length % 2 !== 0 || /[^0-9a-f]/i.test(clean)) throw new Error(`bad hex: ${hex}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** One golden frame by file name (without `.hex`). */
export function golden(proto: string, name: string): Uint8Array {
  return hexToBytes(Deno.readTextFileSync(new URL(`${proto}/${name}.hex`, DIR)));
}

/** Every golden frame of a protocol, sorted by name. */
export function allGolden(proto: string): { name: string; bytes: Uint8Array }[] {
  const out: { name: string; bytes: Uint8Array }[] = [];
  for (const e of Deno.readDirSync(new URL(`${proto}/`, DIR))) {
    if (e.isFile && e.name.endsWith(".hex")) {
      const name = e.name.slice(0, -4);
      out.push({ name, bytes: golden(proto, name) });
    }
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}
