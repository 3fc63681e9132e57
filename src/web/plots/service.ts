import type { PlotSeries, PlotView } from "../../../views/plots/line-chart.tsx";
import { memberSamples, siteSamples, torrentSamples } from "../../db/queries/samples.ts";
import type { WebDeps } from "../deps.ts";
import { SAMPLING } from "./sampler.ts";

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** How far back each plot looks. */
export const PLOT_WINDOWS = { torrent: 7 * DAY_MS, member: 30 * DAY_MS, site: 7 * DAY_MS } as const;
/** Most points a line gets: about one per pixel of a phone's plot. */
export const MAX_POINTS = 240;

type Point = readonly [number, number];

/**
 * At most `max` points: the value held at `from` (the last point at or before it), then the window
 * split into equal slices, each keeping the last point that falls in it (for values that hold until
 * the next point, that is the value at the end of the slice).
 */
export function downsample(points: readonly Point[], from: number, to: number, max = MAX_POINTS): Point[] {
  const slices = max - 1;
  const slice = Math.max((to - from) / slices, 1);
  const out: Point[] = [];
  let held: Point | null = null;
  for (const point of points) if (point[0] <= from) held = point;
  if (held) out.push([from, held[1]]);
  let lastSlice = -1;
  for (const point of points) {
    if (point[0] <= from) continue;
    const index = Math.min(Math.floor((point[0] - from) / slice), slices - 1);
    if (index === lastSlice) out[out.length - 1] = point;
    else out.push(point);
    lastSlice = index;
  }
  return out;
}

const ms = (date: Date) => date.getTime();

/** A torrent's seeders and leechers over the last 7 days, ending with its counts now. */
export async function swarmHistory(
  deps: WebDeps,
  torrent: { id: number; seeders: number; leechers: number },
  now = Date.now(),
): Promise<PlotView> {
  const from = now - PLOT_WINDOWS.torrent;
  const samples = await torrentSamples(deps.sql, torrent.id, new Date(from));
  const line = (pick: (s: { seeders: number; leechers: number }) => number): PlotSeries["points"] =>
    samples.length === 0
      ? []
      : downsample([...samples.map((s): Point => [ms(s.at), pick(s)]), [now, pick(torrent)]], from, now);
  return {
    id: `swarm-${torrent.id}`,
    title: "Seeders and leechers, last 7 days",
    unit: "count",
    from,
    to: now,
    span: "the last 7 days",
    step: true,
    series: [
      { label: "Seeders", points: line((s) => s.seeders) },
      { label: "Leechers", points: line((s) => s.leechers) },
    ],
    empty: `No history yet: the counts are recorded every ${SAMPLING.torrents.periodMs / 60_000} minutes when they change.`,
  };
}

/** A member's uploaded and downloaded totals, and their ratio, over the last 30 days, ending now. */
export async function memberHistory(
  deps: WebDeps,
  member: { id: number; uploaded: number; downloaded: number },
  now = Date.now(),
): Promise<PlotView[]> {
  const from = now - PLOT_WINDOWS.member;
  const samples = await memberSamples(deps.sql, member.id, new Date(from));
  const all =
    samples.length === 0
      ? []
      : [
          ...samples.map((s) => ({ at: ms(s.at), uploaded: s.uploaded, downloaded: s.downloaded })),
          { at: now, uploaded: member.uploaded, downloaded: member.downloaded },
        ];
  const empty = "No history yet: totals are recorded every hour when they change.";
  const common = { from, to: now, span: "the last 30 days", step: true, empty } as const;
  return [
    {
      ...common,
      id: `transfer-${member.id}`,
      title: "Uploaded and downloaded, last 30 days",
      unit: "bytes",
      series: [
        {
          label: "Uploaded",
          points: downsample(
            all.map((s) => [s.at, s.uploaded]),
            from,
            now,
          ),
        },
        {
          label: "Downloaded",
          points: downsample(
            all.map((s) => [s.at, s.downloaded]),
            from,
            now,
          ),
        },
      ],
    },
    {
      ...common,
      id: `ratio-${member.id}`,
      title: "Ratio, last 30 days",
      unit: "ratio",
      series: [
        {
          label: "Ratio",
          points: downsample(
            all.filter((s) => s.downloaded > 0).map((s) => [s.at, s.uploaded / s.downloaded]),
            from,
            now,
          ),
        },
      ],
      empty: "No ratio yet: it needs something downloaded.",
    },
  ];
}

/** Site-wide peers and traffic (bytes an hour) over the last 7 days. */
export async function siteHistory(deps: WebDeps, now = Date.now()): Promise<PlotView[]> {
  const from = now - PLOT_WINDOWS.site;
  const samples = await siteSamples(deps.sql, new Date(from));
  const points = (pick: (s: (typeof samples)[number]) => number) =>
    downsample(
      samples.map((s): Point => [ms(s.at), pick(s)]),
      from,
      now,
    );
  // Traffic of each hour: what the totals grew by since the sample before (never negative: a
  // deleted member takes their totals with them).
  const hours = new Map<number, { up: number; down: number }>();
  for (let i = 1; i < samples.length; i++) {
    const at = ms(samples[i]!.at);
    if (at <= from) continue;
    const hour = Math.floor((at - 1) / HOUR_MS) * HOUR_MS;
    const slot = hours.get(hour) ?? { up: 0, down: 0 };
    slot.up += Math.max(0, samples[i]!.uploaded - samples[i - 1]!.uploaded);
    slot.down += Math.max(0, samples[i]!.downloaded - samples[i - 1]!.downloaded);
    hours.set(hour, slot);
  }
  const traffic = [...hours.entries()].sort((a, b) => a[0] - b[0]);
  const period = SAMPLING.site.periodMs / 60_000;
  return [
    {
      id: "site-peers",
      title: "Peers, last 7 days",
      unit: "count",
      from,
      to: now,
      span: "the last 7 days",
      step: false,
      series: [
        { label: "Seeders", points: points((s) => s.seeders) },
        { label: "Leechers", points: points((s) => s.leechers) },
      ],
      empty: `No history yet: the site's totals are recorded every ${period} minutes.`,
    },
    {
      id: "site-traffic",
      title: "Traffic per hour, last 7 days",
      unit: "bytes",
      from,
      to: now,
      span: "the last 7 days",
      step: false,
      series: [
        {
          label: "Uploaded",
          points: traffic.map(([hour, t]) => [Math.min(hour + HOUR_MS, now), t.up] as const),
        },
        {
          label: "Downloaded",
          points: traffic.map(([hour, t]) => [Math.min(hour + HOUR_MS, now), t.down] as const),
        },
      ],
      empty: `No traffic recorded yet: it needs two samples of the site's totals, ${period} minutes apart.`,
    },
  ];
}
