// Small charts drawn as SVG from data: bars per day (stacked by series,
// with a budget line) and horizontal bars per item. Each chart carries a
// text description, and its numbers are also given as a table. The day
// chart is drawn at the width it is shown at, so its text keeps its size
// on a phone as on a desktop.

import { useEffect, useRef, useState } from 'preact/hooks';

export const SERIES_COLOURS = ['var(--series-1)', 'var(--series-2)', 'var(--series-3)', 'var(--series-4)', 'var(--series-5)', 'var(--series-6)'];

export interface DayBar {
  label: string;
  parts: { series: string; value: number }[];
}

function niceMaximum(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (value <= step * power) return step * power;
  return 10 * power;
}

/** The width an element is laid out at, followed as it changes. */
function useWidth(fallback: number) {
  const element = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(fallback);
  useEffect(() => {
    if (!element.current) return;
    const observer = new ResizeObserver(([entry]) => setWidth(Math.max(Math.floor(entry.contentRect.width), 200)));
    observer.observe(element.current);
    return () => observer.disconnect();
  }, []);
  return { element, width };
}

export function DayBars(props: {
  bars: DayBar[];
  series: string[];
  budget?: number | null;
  format: (value: number) => string;
  description: string;
}) {
  const { element, width } = useWidth(720);
  const height = 220;
  const left = 60;
  const bottom = 24;
  const top = 10;
  const totals = props.bars.map((bar) => bar.parts.reduce((sum, part) => sum + part.value, 0));
  const maximum = niceMaximum(Math.max(...totals, props.budget ?? 0, 0));
  const plotHeight = height - bottom - top;
  const slot = (width - left) / Math.max(props.bars.length, 1);
  const barWidth = Math.max(Math.min(slot * 0.7, 28), 2);
  const y = (value: number) => top + plotHeight - (value / maximum) * plotHeight;
  const labelEvery = Math.ceil(props.bars.length / Math.max(Math.floor((width - left) / 56), 1));
  return (
    <figure class="chart">
      <div class="chart-area" ref={element}>
      <svg width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={props.description}>
        {[0, 0.5, 1].map((share) => (
          <g key={share}>
            <line x1={left} x2={width} y1={y(maximum * share)} y2={y(maximum * share)} class="grid-line" />
            <text x={left - 6} y={y(maximum * share) + 4} class="axis-label" text-anchor="end">
              {props.format(maximum * share)}
            </text>
          </g>
        ))}
        {props.bars.map((bar, index) => {
          let stacked = 0;
          const x = left + index * slot + (slot - barWidth) / 2;
          return (
            <g key={bar.label}>
              {bar.parts.map((part) => {
                const from = stacked;
                stacked += part.value;
                const colour = SERIES_COLOURS[props.series.indexOf(part.series) % SERIES_COLOURS.length];
                return part.value > 0 ? (
                  <rect key={part.series} x={x} width={barWidth} y={y(stacked)} height={Math.max(y(from) - y(stacked), 1)} fill={colour}>
                    <title>{`${bar.label}, ${part.series}: ${props.format(part.value)}`}</title>
                  </rect>
                ) : null;
              })}
              {index % labelEvery === 0 && (
                <text x={x + barWidth / 2} y={height - 6} class="axis-label" text-anchor="middle">
                  {bar.label}
                </text>
              )}
            </g>
          );
        })}
        {props.budget ? (
          <g>
            <line x1={left} x2={width} y1={y(props.budget)} y2={y(props.budget)} class="budget-line" />
            <text x={width - 4} y={y(props.budget) - 4} class="axis-label budget-label" text-anchor="end">
              daily budget {props.format(props.budget)}
            </text>
          </g>
        ) : null}
      </svg>
      </div>
      {props.series.length > 1 && (
        <figcaption class="legend">
          {props.series.map((series, index) => (
            <span key={series} class="legend-item">
              <span class="swatch" style={{ background: SERIES_COLOURS[index % SERIES_COLOURS.length] }} aria-hidden="true" />
              {series}
            </span>
          ))}
        </figcaption>
      )}
    </figure>
  );
}

export interface HorizontalBar {
  label: string;
  value: number;
  /** A limit to draw as a mark on the bar (a budget). */
  limit?: number | null;
  note?: string;
}

export function HorizontalBars(props: { bars: HorizontalBar[]; format: (value: number) => string; label: string }) {
  const maximum = niceMaximum(Math.max(...props.bars.map((bar) => Math.max(bar.value, bar.limit ?? 0)), 0));
  return (
    <ul class="hbars" aria-label={props.label}>
      {props.bars.map((bar) => {
        const over = bar.limit !== null && bar.limit !== undefined && bar.value > bar.limit;
        return (
          <li key={bar.label} class="hbar">
            <span class="hbar-label">{bar.label}</span>
            <span class="hbar-track" aria-hidden="true">
              <span class={`hbar-fill${over ? ' over' : ''}`} style={{ width: `${(bar.value / maximum) * 100}%` }} />
              {bar.limit !== null && bar.limit !== undefined && <span class="hbar-limit" style={{ left: `${(bar.limit / maximum) * 100}%` }} />}
            </span>
            <span class="hbar-value">
              {props.format(bar.value)}
              {bar.limit !== null && bar.limit !== undefined && <span class="muted"> of {props.format(bar.limit)}</span>}
              {bar.note && <span class="muted"> {bar.note}</span>}
            </span>
          </li>
        );
      })}
    </ul>
  );
}
