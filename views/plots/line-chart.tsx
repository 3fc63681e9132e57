/** @jsxImportSource @kitajs/html */
import { DateTime } from "../layout/date-time.tsx";
import { axisLabel, type PlotUnit, timeTicks, valueText, valueTicks } from "./scale.ts";

export type { PlotUnit } from "./scale.ts";

/** One line of a plot: its name and its points, [time in ms, value], oldest first. */
export interface PlotSeries {
  readonly label: string;
  readonly points: readonly (readonly [number, number])[];
}

/** A plot as the routes fill it in. */
export interface PlotView {
  /** Unique on the page: the SVG's title and description are named after it. */
  readonly id: string;
  readonly title: string;
  readonly unit: PlotUnit;
  /** The time axis, in ms. */
  readonly from: number;
  readonly to: number;
  /** How the window reads in a sentence: "the last 7 days". */
  readonly span: string;
  /** True when each value holds until the next point (drawn as steps). */
  readonly step: boolean;
  readonly series: readonly PlotSeries[];
  /** What to say when no series has a point. */
  readonly empty: string;
}

const WIDTH = 320;
const HEIGHT = 170;
const LEFT = 46;
const RIGHT = 10;
const TOP = 8;
const BOTTOM = 22;
/** Rows of the table under a plot, at evenly spaced moments. */
const TABLE_ROWS = 6;

/** The value a series held at `at`: its last point at or before it (null before its first). */
export function valueAt(points: PlotSeries["points"], at: number): number | null {
  let value: number | null = null;
  for (const [t, v] of points) {
    if (t > at) break;
    value = v;
  }
  return value;
}

/** One sentence a series: where it is now and its range over the window. */
export function plotSummary(plot: PlotView): string {
  const parts = plot.series
    .filter((s) => s.points.length > 0)
    .map((s) => {
      const values = s.points.map((p) => p[1]);
      const last = values[values.length - 1]!;
      const low = Math.min(...values);
      const high = Math.max(...values);
      const range =
        low === high
          ? `steady over ${plot.span}`
          : `from ${valueText(low, plot.unit)} to ${valueText(high, plot.unit)} over ${plot.span}`;
      return `${s.label}: ${valueText(last, plot.unit)} at the end, ${range}.`;
    });
  return parts.length ? parts.join(" ") : plot.empty;
}

/** The moments the text table lists: evenly spaced from the first point to the end. */
function tableMoments(plot: PlotView): number[] {
  const first = Math.min(...plot.series.filter((s) => s.points.length).map((s) => s.points[0]![0]));
  const start = Math.max(first, plot.from);
  if (plot.to <= start) return [plot.to];
  const out: number[] = [];
  for (let i = 0; i < TABLE_ROWS; i++)
    out.push(Math.round(start + ((plot.to - start) * i) / (TABLE_ROWS - 1)));
  return out;
}

const round = (n: number) => Math.round(n * 10) / 10;

/**
 * A line chart drawn on the server: axes with a few round ticks (UTC times, values from 0), one
 * line per series (steps when values hold), a legend, a sentence saying what it shows and a
 * small table of values for those who cannot see it. Scales to its box; readable at 390 px.
 */
export function LineChart(props: { plot: PlotView }) {
  const { plot } = props;
  const drawn = plot.series.filter((s) => s.points.length > 0);
  const summary = plotSummary(plot);
  const titleId = `${plot.id}-title`;
  const descId = `${plot.id}-desc`;
  if (drawn.length === 0)
    return (
      <figure class="plot" id={plot.id}>
        <figcaption safe>{plot.title}</figcaption>
        <p class="muted plot-empty" safe>
          {plot.empty}
        </p>
      </figure>
    );
  const max = Math.max(...drawn.flatMap((s) => s.points.map((p) => p[1])));
  const { ticks, scale } = valueTicks(max, plot.unit);
  const top = ticks[ticks.length - 1]!;
  const span = Math.max(plot.to - plot.from, 1);
  const x = (t: number) =>
    round(LEFT + ((Math.min(Math.max(t, plot.from), plot.to) - plot.from) / span) * (WIDTH - LEFT - RIGHT));
  const y = (v: number) => round(TOP + (1 - v / top) * (HEIGHT - TOP - BOTTOM));
  const path = (points: PlotSeries["points"]) =>
    points
      .map(([t, v], i) => {
        if (i === 0) return `M${x(t)} ${y(v)}`;
        return plot.step ? `H${x(t)}V${y(v)}` : `L${x(t)} ${y(v)}`;
      })
      .join("");
  const moments = tableMoments(plot);
  return (
    <figure class="plot" id={plot.id}>
      <figcaption>
        <span class="plot-title" safe>
          {plot.title}
        </span>
        <ul class="legend">
          {plot.series.map((s, i) => (
            <li class={`series-${i}`} safe>
              {s.label}
            </li>
          ))}
        </ul>
      </figcaption>
      <svg
        class="chart"
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        role="img"
        aria-labelledby={`${titleId} ${descId}`}
        xmlns="http://www.w3.org/2000/svg"
      >
        <title id={titleId} safe>
          {plot.title}
        </title>
        <desc id={descId} safe>
          {summary}
        </desc>
        <g class="grid">
          {ticks.map((v) => (
            <line x1={String(LEFT)} x2={String(WIDTH - RIGHT)} y1={String(y(v))} y2={String(y(v))} />
          ))}
        </g>
        <g class="ticks">
          {ticks.map((v) => (
            <text x={String(LEFT - 4)} y={String(y(v) + 3.5)} text-anchor="end" safe>
              {axisLabel(v, plot.unit, scale, ticks[1]! - ticks[0]!)}
            </text>
          ))}
          {timeTicks(plot.from, plot.to).map((tick) => (
            <text x={String(x(tick.at))} y={String(HEIGHT - 6)} text-anchor="middle" safe>
              {tick.label}
            </text>
          ))}
        </g>
        <line class="axis" x1={String(LEFT)} x2={String(WIDTH - RIGHT)} y1={String(y(0))} y2={String(y(0))} />
        {plot.series.map((s, i) =>
          s.points.length === 1 ? (
            <circle
              class={`dot series-${i}`}
              cx={String(x(s.points[0]![0]))}
              cy={String(y(s.points[0]![1]))}
              r="2.5"
            />
          ) : s.points.length > 1 ? (
            <path class={`line series-${i}`} d={path(s.points)} />
          ) : (
            ""
          ),
        )}
      </svg>
      <p class="plot-summary muted" safe>
        {summary}
      </p>
      <details class="plot-data">
        <summary>Values as a table</summary>
        <table class="values">
          <thead>
            <tr>
              <th scope="col">Time (UTC)</th>
              {plot.series.map((s) => (
                <th scope="col" class="num" safe>
                  {s.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {moments.map((at) => (
              <tr>
                <td>
                  <DateTime date={new Date(at)} />
                </td>
                {plot.series.map((s) => {
                  const value = valueAt(s.points, at);
                  return (
                    <td class="num" safe>
                      {value === null ? "—" : valueText(value, plot.unit)}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}

/** Plots side by side where there is room, one under the other on a phone. */
export function Plots(props: { plots: readonly PlotView[] }) {
  return (
    <div class="plots">
      {props.plots.map((plot) => (
        <LineChart plot={plot} />
      ))}
    </div>
  );
}
