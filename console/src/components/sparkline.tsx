/** A tiny SVG line chart of the last values; the accessible name carries the newest value. */

interface Props {
  readonly label: string;
  readonly values: readonly number[];
  readonly unit: string;
  readonly digits?: number;
}

const W = 240, H = 48;

export function Sparkline({ label, values, unit, digits = 1 }: Props) {
  const last = values.at(-1) ?? 0;
  const max = Math.max(1e-9, ...values);
  const n = values.length;
  const points = values.map((v, i) => {
    const x = n <= 1 ? W : (i / (n - 1)) * W;
    const y = H - 2 - (v / max) * (H - 4);
    return `${x.toFixed(1)},${y.toFixed(1)}`;
  }).join(" ");
  const text = `${last.toFixed(digits)} ${unit}`;
  return (
    <figure class="spark">
      <figcaption>
        <span class="spark-label">{label}</span>
        <strong class="spark-value" data-metric={label}>{text}</strong>
      </figcaption>
      <svg
        viewBox={`0 0 ${W} ${H}`}
        preserveAspectRatio="none"
        role="img"
        aria-label={`${label}: ${text}, peak ${max.toFixed(digits)} over the last ${n} samples`}
      >
        {n > 1 && <polyline points={points} fill="none" stroke="currentColor" stroke-width="2" />}
      </svg>
    </figure>
  );
}
