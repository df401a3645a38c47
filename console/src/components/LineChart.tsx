/**
 * A small SVG line chart (no chart library: the console bundle stays small). Fixed viewBox, scaled by
 * CSS; the latest values are also given as text so screen readers get the numbers.
 */
export interface Series {
  label: string;
  /** A CSS class setting the stroke colour (chart colours live in the stylesheet). */
  className: string;
  values: readonly number[];
  format: (v: number) => string;
}

const W = 560;
const H = 150;
const PAD = { left: 8, right: 8, top: 10, bottom: 18 };

function path(values: readonly number[], max: number): string {
  const n = values.length;
  if (n === 0) return "";
  const w = W - PAD.left - PAD.right;
  const h = H - PAD.top - PAD.bottom;
  return values
    .map((v, i) => {
      const x = PAD.left + (n === 1 ? w : (i / (n - 1)) * w);
      const y = PAD.top + h - (max > 0 ? (v / max) * h : 0);
      return `${i === 0 ? "M" : "L"}${x.toFixed(1)},${y.toFixed(1)}`;
    })
    .join("");
}

export function LineChart(props: {
  title: string;
  series: readonly Series[];
  spanSeconds: number;
  id: string;
}) {
  const { title, series, spanSeconds, id } = props;
  return (
    <figure class="chart" aria-labelledby={`${id}-title`} data-testid={id}>
      <figcaption id={`${id}-title`}>
        <span class="chart-title">{title}</span>
        {series.map((s) => {
          const last = s.values[s.values.length - 1];
          return (
            <span class={`legend ${s.className}`} key={s.label}>
              {s.label}:{" "}
              <strong data-testid={`${id}-${s.label}`}>{last === undefined ? "–" : s.format(last)}</strong>
            </span>
          );
        })}
      </figcaption>
      <div class="chart-plots">
        {series.map((s) => {
          const max = Math.max(0, ...s.values);
          return (
            <svg
              key={s.label}
              viewBox={`0 0 ${W} ${H}`}
              role="img"
              aria-label={`${s.label} over the last ${Math.round(spanSeconds)} s, peak ${s.format(max)}`}
              data-points={s.values.length}
            >
              <line class="axis" x1={PAD.left} x2={W - PAD.right} y1={H - PAD.bottom} y2={H - PAD.bottom} />
              <line class="grid" x1={PAD.left} x2={W - PAD.right} y1={PAD.top} y2={PAD.top} />
              <text class="tick" x={W - PAD.right} y={PAD.top - 1} text-anchor="end">
                {s.label} max {s.format(max)}
              </text>
              <text class="tick" x={PAD.left} y={H - 4}>
                −{Math.round(spanSeconds)} s
              </text>
              <text class="tick" x={W - PAD.right} y={H - 4} text-anchor="end">
                now
              </text>
              <path class={`line ${s.className}`} d={path(s.values, max)} />
            </svg>
          );
        })}
      </div>
    </figure>
  );
}
