import type { LiveCounts } from "../../bridge/counts.ts";
import type { Sql } from "../../db/client.ts";
import {
  deleteSamplesBefore,
  recordSiteSample,
  type SampleTable,
  siteTotals,
  takeMemberSamples,
  takeTorrentSamples,
  thinSamples,
} from "../../db/queries/samples.ts";
import { log } from "../../log.ts";

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/** How one series is sampled and how long its samples are kept. */
export interface SeriesPolicy {
  /** Samples are taken at the multiples of this (UTC), at most one a period. */
  readonly periodMs: number;
  /** Samples younger than this stay at full resolution. */
  readonly fullMs: number;
  /** Older ones are thinned to the last of each bucket this long (UTC). */
  readonly coarseMs: number;
  /** Samples older than this are deleted. */
  readonly keepMs: number;
  /** Most rows one period writes (the site writes one). */
  readonly maxPerPeriod: number;
}

/** The three series: site totals, each torrent's counts, each member's totals. */
export type Series = "site" | "torrents" | "members";

/** A policy for every series. */
export type SamplingPolicy = Readonly<Record<Series, SeriesPolicy>>;

/**
 * The sampling periods and retention, as the README states them, and the bounds they give (full
 * resolution reaches back to the start of a bucket, so up to one bucket more than `fullMs`):
 * - site totals every 5 minutes, kept 7 days, then hourly to 90 days: about 4,000 rows;
 * - each torrent's counts every 5 minutes when they changed, kept 1 day, then hourly to 7 days
 *   (the torrent page's plot): at most about 450 rows a torrent; and as at most 1,000 torrents are
 *   written a period (the rest wait for the next), at most about 300 × 1,000 + 145 × 12,000,
 *   some 2 million rows, however busy the site;
 * - each member's totals hourly when they changed, kept 7 days, then daily to 30 days (the
 *   profile's plot): at most about 215 rows a member, and at most 2,000 members written an hour,
 *   about 400,000 + 24 × 48,000, some 1.5 million rows in all.
 */
export const SAMPLING: SamplingPolicy = {
  site: {
    periodMs: 5 * MINUTE_MS,
    fullMs: 7 * DAY_MS,
    coarseMs: HOUR_MS,
    keepMs: 90 * DAY_MS,
    maxPerPeriod: 1,
  },
  torrents: {
    periodMs: 5 * MINUTE_MS,
    fullMs: DAY_MS,
    coarseMs: HOUR_MS,
    keepMs: 7 * DAY_MS,
    maxPerPeriod: 1000,
  },
  members: {
    periodMs: HOUR_MS,
    fullMs: 7 * DAY_MS,
    coarseMs: DAY_MS,
    keepMs: 30 * DAY_MS,
    maxPerPeriod: 2000,
  },
};

const TABLE: Record<Series, SampleTable> = {
  site: "site_samples",
  torrents: "torrent_samples",
  members: "member_samples",
};

/** What one tick did: samples written per series, and rows thinned and deleted by retention. */
export interface TickReport {
  site: number;
  torrents: number;
  members: number;
  thinned: number;
  deleted: number;
}

/**
 * Samples the site's totals, each torrent's seeders and leechers (only those the tracker reported
 * a change for, and only when different from their last sample) and each member's totals into the
 * sample tables, and applies the retention. `tick()` does whatever is due at `now()`: a series is
 * sampled once per period, at the period's start time, however often it is called; `start()` calls
 * it every `checkEveryMs`. The clock is injected so tests can move time.
 */
export class Sampler {
  /** Torrents whose counts changed since they were last written, oldest change first. */
  private readonly pending = new Map<number, readonly [number, number]>();
  private readonly taken: Record<Series, number> = { site: -1, torrents: -1, members: -1 };
  /** Up to where each table is thinned already (null: not yet in this process). */
  private readonly thinnedTo: Record<Series, number | null> = { site: null, torrents: null, members: null };
  private readonly now: () => number;
  private readonly policy: SamplingPolicy;
  private readonly checkEveryMs: number;
  private unsubscribe: (() => void) | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  private running: Promise<TickReport> | null = null;

  constructor(
    private readonly sql: Sql,
    counts: LiveCounts,
    options: { now?: () => number; policy?: SamplingPolicy; checkEveryMs?: number } = {},
  ) {
    this.now = options.now ?? Date.now;
    this.policy = options.policy ?? SAMPLING;
    this.checkEveryMs = options.checkEveryMs ?? 30_000;
    this.unsubscribe = counts.subscribe((changed) => {
      for (const c of changed) this.pending.set(c[0], [c[1], c[2]]);
    });
  }

  /** Torrents waiting for their next sample. */
  get pendingTorrents(): number {
    return this.pending.size;
  }

  /** Checks every `checkEveryMs` (and once now) whether a sample is due. */
  start(): this {
    this.timer ??= setInterval(() => void this.tick(), this.checkEveryMs);
    void this.tick();
    return this;
  }

  /** Takes the samples due now and applies the retention; a failed series is retried next time. */
  tick(): Promise<TickReport> {
    this.running ??= this.run().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** Stops sampling (a tick under way finishes first). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.unsubscribe?.();
    this.unsubscribe = null;
    await this.running;
  }

  private async run(): Promise<TickReport> {
    const report: TickReport = { site: 0, torrents: 0, members: 0, thinned: 0, deleted: 0 };
    const now = this.now();
    for (const series of ["site", "torrents", "members"] as const) {
      const { periodMs } = this.policy[series];
      const slot = Math.floor(now / periodMs) * periodMs;
      if (slot <= this.taken[series]) continue;
      try {
        report[series] = await this.sample(series, new Date(slot));
        this.taken[series] = slot;
        const { thinned, deleted } = await this.retain(series, slot);
        report.thinned += thinned;
        report.deleted += deleted;
      } catch (error) {
        log.warn("samples not taken; will retry", { series, error: error as Error });
      }
    }
    return report;
  }

  private async sample(series: Series, at: Date): Promise<number> {
    if (series === "site") return (await recordSiteSample(this.sql, at, await siteTotals(this.sql))) ? 1 : 0;
    if (series === "members") return takeMemberSamples(this.sql, at, this.policy.members.maxPerPeriod);
    const batch: [number, number, number][] = [];
    for (const [id, [seeders, leechers]] of this.pending) {
      if (batch.length >= this.policy.torrents.maxPerPeriod) break;
      batch.push([id, seeders, leechers]);
    }
    for (const [id] of batch) this.pending.delete(id);
    try {
      return await takeTorrentSamples(this.sql, at, batch);
    } catch (error) {
      // Back in the queue, unless newer counts arrived meanwhile.
      for (const [id, seeders, leechers] of batch)
        if (!this.pending.has(id)) this.pending.set(id, [seeders, leechers]);
      throw error;
    }
  }

  private async retain(series: Series, slot: number): Promise<{ thinned: number; deleted: number }> {
    const { fullMs, coarseMs, keepMs } = this.policy[series];
    const table = TABLE[series];
    const oldest = slot - keepMs;
    const deleted = await deleteSamplesBefore(this.sql, table, new Date(oldest));
    // Whole buckets only: every sample of a bucket before the cutoff is past full resolution.
    const cutoff = Math.floor((slot - fullMs) / coarseMs) * coarseMs;
    const from = this.thinnedTo[series] ?? oldest;
    let thinned = 0;
    if (cutoff > from) {
      thinned = await thinSamples(
        this.sql,
        table,
        { from: new Date(from), to: new Date(cutoff) },
        coarseMs / 1000,
      );
      this.thinnedTo[series] = cutoff;
    }
    return { thinned, deleted };
  }
}
