/** Test helper: the dubbo golden frames (hex text captured from real peers) as bytes. */

// Copied from ../shared/golden/dubbo so that the tests read nothing outside the repository.
export const GOLDEN_DIR = new URL("../golden/dubbo", import.meta.url).pathname;

/** Parses hex text (whitespace ignored) into bytes. */
export function fromHex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, "");
  if (clean.length % 2 !== 0 || /[^0-9a-f]/i.test(clean)) throw new Error("bad hex text");
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** One golden frame by file name (without ".hex"). */
export function golden(name: string): Uint8Array {
  return fromHex(Deno.readTextFileSync(`${GOLDEN_DIR}/${name}.hex`));
}

/** Every golden frame, sorted by file name. */
export function allGolden(): { name: string; bytes: Uint8Array }[] {
  const names: string[] = [];
  for (const e of Deno.readDirSync(GOLDEN_DIR)) {
    if (e.isFile && e.name.endsWith(".hex")) names.push(e.name.slice(0, -4));
  }
  return names.sort().map((name) => ({ name, bytes: golden(name) }));
}
