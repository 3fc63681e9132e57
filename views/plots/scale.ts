import { formatSize } from "../layout/format.ts";

/** What a plot's values are: counts, bytes or a ratio. */
export type PlotUnit = "count" | "bytes" | "ratio";

const BINARY = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/**
 * A value as an axis label: short ("12", "1.5k", "512 MiB", "0.75"); a ratio with as many decimals
 * as the axis' `step` needs, so every label of an axis has the same.
 */
export function axisLabel(value: number, unit: PlotUnit, scale = 1, step = 1): string {
  if (unit === "ratio") return value.toFixed(Math.max(0, Math.min(3, -Math.floor(Math.log10(step) + 1e-9))));
  if (unit === "bytes") {
    const power = Math.round(Math.log2(scale) / 10);
    const scaled = value / 1024 ** power;
    return `${Number.isInteger(scaled) ? scaled : scaled.toFixed(1)} ${BINARY[power]}`;
  }
  if (value >= 1_000_000) return `${+(value / 1_000_000).toFixed(1)}M`;
  if (value >= 1000) return `${+(value / 1000).toFixed(1)}k`;
  return String(Math.round(value));
}

/** A value in full, for tables and sentences ("3", "1.50 GiB", "0.75"). */
export function valueText(value: number, unit: PlotUnit): string {
  if (unit === "bytes") return formatSize(Math.round(value));
  if (unit === "ratio") return value.toFixed(2);
  return String(Math.round(value));
}

/**
 * Evenly spaced round values from 0 to at least `max` for the value axis (about `count` steps of 1,
 * 2 or 5 times a power of ten; for bytes, of 1024), and the unit scale the labels use.
 */
export function valueTicks(max: number, unit: PlotUnit, count = 4): { ticks: number[]; scale: number } {
  const floor = unit === "ratio" ? 1 : unit === "count" ? 4 : 1024;
  const top = Math.max(max, floor);
  let scale = 1;
  if (unit === "bytes") while (scale * 1024 <= top && scale < 1024 ** 5) scale *= 1024;
  const raw = top / scale / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((m) => m * magnitude >= raw) ?? 10) * magnitude;
  const ticks: number[] = [];
  // A count axis never needs steps below one.
  const unitStep = unit === "count" ? Math.max(1, step) : step;
  for (let v = 0; v < top / scale + unitStep * 0.999; v += unitStep) ticks.push(+(v * scale).toPrecision(12));
  return { ticks, scale };
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const STEPS_MS = [
  HOUR_MS,
  3 * HOUR_MS,
  6 * HOUR_MS,
  12 * HOUR_MS,
  DAY_MS,
  2 * DAY_MS,
  7 * DAY_MS,
  14 * DAY_MS,
];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** A moment as a short UTC label: "14:00" within a day's steps, "12 Mar" otherwise. */
export function timeLabel(ms: number, byDay: boolean): string {
  const d = new Date(ms);
  if (byDay) return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]}`;
  return `${String(d.getUTCHours()).padStart(2, "0")}:${String(d.getUTCMinutes()).padStart(2, "0")}`;
}

/** Round moments (UTC) across [from, to] for the time axis, at most `count`, with their labels. */
export function timeTicks(from: number, to: number, count = 5): { at: number; label: string }[] {
  const span = Math.max(to - from, 1);
  // Beyond a day, hours alone would not say which day: ticks fall on days then.
  const steps = span > DAY_MS ? STEPS_MS.filter((s) => s >= DAY_MS) : STEPS_MS;
  const step = steps.find((s) => span / s <= count) ?? steps[steps.length - 1]!;
  // Labels at the very ends would run into the value axis or off the plot.
  const margin = span * 0.04;
  const ticks: { at: number; label: string }[] = [];
  for (let at = Math.ceil((from + margin) / step) * step; at <= to - margin; at += step)
    ticks.push({ at, label: timeLabel(at, step >= DAY_MS) });
  return ticks;
}
