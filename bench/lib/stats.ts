/** Small statistics and number formatting for the reports. */

/** Median of the finite values; NaN when there are none. */
export function median(values: readonly number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = v.length >> 1;
  return v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

/** Min and max of the finite values, for spread. */
export function range(values: readonly number[]): [number, number] {
  const v = values.filter((x) => Number.isFinite(x));
  return v.length === 0 ? [NaN, NaN] : [Math.min(...v), Math.max(...v)];
}

const DASH = "—";

/** 45123 → "45.1k". */
export function fmtRps(x: number): string {
  if (!Number.isFinite(x)) return DASH;
  return x >= 1000 ? `${(x / 1000).toFixed(1)}k` : x.toFixed(0);
}

/** Milliseconds → "0.72 ms" / "12.4 ms". */
export function fmtMs(x: number): string {
  if (!Number.isFinite(x)) return DASH;
  return x < 10 ? `${x.toFixed(2)} ms` : `${x.toFixed(1)} ms`;
}

/** 0.934 → "0.93×". */
export function fmtRatio(x: number): string {
  return Number.isFinite(x) ? `${x.toFixed(2)}×` : DASH;
}

/** A plain number with `digits` decimals. */
export function fmtNum(x: number, digits = 1): string {
  return Number.isFinite(x) ? x.toFixed(digits) : DASH;
}

/** KiB → "18.2 MiB". */
export function fmtMiB(kib: number): string {
  return Number.isFinite(kib) ? `${(kib / 1024).toFixed(1)} MiB` : DASH;
}

/** A Markdown table from a header row and body rows. */
export function mdTable(header: string[], rows: string[][], align?: ("l" | "r")[]): string {
  const sep = header.map((_, i) => (align?.[i] ?? (i === 0 ? "l" : "r")) === "r" ? "---:" : "---");
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(header), line(sep), ...rows.map(line)].join("\n");
}
