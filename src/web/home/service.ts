import { completedWithFewSeeders, leastSeeded, type SeedingRow } from "../../db/queries/home.ts";
import {
  latestSiteSample,
  type SiteTotals,
  siteSampleBefore,
  siteSampleFrom,
  siteTotals,
} from "../../db/queries/samples.ts";
import type { TorrentRow } from "../../db/queries/torrents.ts";
import type { WebDeps } from "../deps.ts";
import { findMember } from "../members/service.ts";
import { newsPage, type ShownNews } from "../news/service.ts";
import { SAMPLING } from "../plots/sampler.ts";
import { torrentPage } from "../torrents/service.ts";

/** What the home page lists: news items, latest torrents, rows of the seeding list. */
export const HOME_LIMITS = { news: 3, torrents: 10, seeding: 8 } as const;
/** A torrent the member completed with fewer seeders than this needs them. */
export const FEW_SEEDERS = 3;

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/** The site's figures on the home page and in the API. */
export interface SiteStatistics extends SiteTotals {
  /** Bytes uploaded and downloaded since midnight UTC; null before the first sample of the day. */
  today: { uploaded: number; downloaded: number } | null;
  /** When the figures were taken: the latest sample, or now when none is recent. */
  asOf: Date;
}

/**
 * The site's figures: from the latest sample when it is recent (counting a million torrents on every
 * visit would cost more than the page), otherwise counted now. Traffic today is what the totals
 * grew by since the last sample before midnight UTC (or the day's first sample).
 */
export async function siteStatistics(deps: WebDeps, now = Date.now()): Promise<SiteStatistics> {
  const latest = await latestSiteSample(deps.sql);
  const fresh = latest !== null && now - latest.at.getTime() <= 3 * SAMPLING.site.periodMs;
  const totals: SiteTotals = fresh ? latest : await siteTotals(deps.sql);
  const asOf = fresh ? latest.at : new Date(now);
  const dayStart = new Date(Math.floor(now / DAY_MS) * DAY_MS);
  const before = await siteSampleBefore(deps.sql, dayStart);
  // A sample from long before midnight (the site was down) would count days of traffic as today's.
  const baseline =
    before && before.at.getTime() >= dayStart.getTime() - HOUR_MS
      ? before
      : await siteSampleFrom(deps.sql, dayStart);
  const today =
    baseline && baseline.at.getTime() <= asOf.getTime()
      ? {
          uploaded: Math.max(0, totals.uploaded - baseline.uploaded),
          downloaded: Math.max(0, totals.downloaded - baseline.downloaded),
        }
      : null;
  return {
    members: totals.members,
    torrents: totals.torrents,
    seeders: totals.seeders,
    leechers: totals.leechers,
    uploaded: totals.uploaded,
    downloaded: totals.downloaded,
    today,
    asOf,
  };
}

/** Torrents that need seeding: the member's own completed ones with few seeders, else the site's least seeded. */
export interface SeedingList {
  kind: "yours" | "site";
  rows: SeedingRow[];
}

/** What needs seeding, for this member (live counts where the tracker reported some). */
export async function needsSeeding(deps: WebDeps, userId: number): Promise<SeedingList> {
  const live = (row: SeedingRow): SeedingRow => {
    const counts = deps.counts.get(row.id);
    return counts ? { ...row, ...counts } : row;
  };
  const yours = await completedWithFewSeeders(deps.sql, userId, FEW_SEEDERS, HOME_LIMITS.seeding);
  if (yours.length > 0) return { kind: "yours", rows: yours.map(live) };
  return { kind: "site", rows: (await leastSeeded(deps.sql, HOME_LIMITS.seeding)).map(live) };
}

/** Everything the home page shows a member. */
export interface HomeOverview {
  news: ShownNews[];
  latest: TorrentRow[];
  stats: SiteStatistics;
  me: { id: number; name: string; uploaded: number | bigint; downloaded: number | bigint };
  seeding: SeedingList;
}

/** The home page's news, latest torrents, site figures, the member's totals and what needs seeding. */
export async function homeOverview(deps: WebDeps, userId: number, now = Date.now()): Promise<HomeOverview> {
  const member = await findMember(deps, userId);
  if (!member) throw new Error(`member ${userId} of a live session is missing`);
  const news = await newsPage(deps, { page: 1, limit: HOME_LIMITS.news });
  const latest = await torrentPage(deps, { q: "", order: "desc", page: 1, limit: HOME_LIMITS.torrents });
  return {
    news: news.rows,
    latest: latest.rows,
    stats: await siteStatistics(deps, now),
    me: { id: member.id, name: member.name, uploaded: member.uploaded, downloaded: member.downloaded },
    seeding: await needsSeeding(deps, userId),
  };
}
