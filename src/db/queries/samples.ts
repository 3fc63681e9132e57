import type { Sql } from "../client.ts";
import { pgArray } from "./stats.ts";

/** The site's totals at one moment: members, torrents, peers and cumulative traffic. */
export interface SiteTotals {
  /** Members who are not disabled. */
  members: number;
  torrents: number;
  seeders: number;
  leechers: number;
  /** Bytes every member uploaded and downloaded, in all. */
  uploaded: number;
  downloaded: number;
}

/** A site sample: the totals at `at`. */
export interface SiteSample extends SiteTotals {
  at: Date;
}

/** The figures the home page shows as they are now: members, torrents and peers (not traffic). */
export type LiveFigures = Pick<SiteTotals, "members" | "torrents" | "seeders" | "leechers">;

/** Members, torrents and peers now (peer counts as last stored from the tracker's reports). */
export async function liveFigures(sql: Sql): Promise<LiveFigures> {
  const [row] = await sql<LiveFigures[]>`
    select
      (select count(*)::int from users where not disabled) as members,
      (select count(*)::int from torrents) as torrents,
      coalesce(sum(seeders), 0)::int as seeders,
      coalesce(sum(leechers), 0)::int as leechers
    from torrent_counts
  `;
  return row!;
}

/** The site's totals as they are now (counts as last stored from the tracker's reports). */
export async function siteTotals(sql: Sql): Promise<SiteTotals> {
  const [row] = await sql<SiteTotals[]>`
    select
      (select count(*)::int from users where not disabled) as members,
      (select count(*)::int from torrents) as torrents,
      c.seeders, c.leechers, m.uploaded, m.downloaded
    from
      (select coalesce(sum(seeders), 0)::int as seeders, coalesce(sum(leechers), 0)::int as leechers
        from torrent_counts) as c,
      (select coalesce(sum(uploaded), 0)::bigint as uploaded, coalesce(sum(downloaded), 0)::bigint as downloaded
        from users) as m
  `;
  return row!;
}

/** Records `totals` as the site sample at `at`; false when that sample was taken already. */
export async function recordSiteSample(sql: Sql, at: Date, totals: SiteTotals): Promise<boolean> {
  const rows = await sql`
    insert into site_samples (at, members, torrents, seeders, leechers, uploaded, downloaded)
    values (
      ${at}, ${totals.members}, ${totals.torrents}, ${totals.seeders}, ${totals.leechers},
      ${totals.uploaded}, ${totals.downloaded}
    )
    on conflict (at) do nothing
    returning at
  `;
  return rows.length > 0;
}

/** The newest site sample, or null. */
export async function latestSiteSample(sql: Sql): Promise<SiteSample | null> {
  const [row] = await sql<SiteSample[]>`
    select at, members, torrents, seeders, leechers, uploaded, downloaded
    from site_samples
    order by at desc
    limit 1
  `;
  return row ?? null;
}

/** The last site sample taken before `at`, or null. */
export async function siteSampleBefore(sql: Sql, at: Date): Promise<SiteSample | null> {
  const [row] = await sql<SiteSample[]>`
    select at, members, torrents, seeders, leechers, uploaded, downloaded
    from site_samples
    where at < ${at}
    order by at desc
    limit 1
  `;
  return row ?? null;
}

/** The first site sample taken at or after `at`, or null. */
export async function siteSampleFrom(sql: Sql, at: Date): Promise<SiteSample | null> {
  const [row] = await sql<SiteSample[]>`
    select at, members, torrents, seeders, leechers, uploaded, downloaded
    from site_samples
    where at >= ${at}
    order by at
    limit 1
  `;
  return row ?? null;
}

/** Site samples from `from` on, oldest first, with the last one before it (where a plot starts). */
export async function siteSamples(sql: Sql, from: Date): Promise<SiteSample[]> {
  return await sql<SiteSample[]>`
    select at, members, torrents, seeders, leechers, uploaded, downloaded
    from site_samples
    where at >= coalesce((select max(at) from site_samples where at < ${from}), ${from})
    order by at
  `;
}

/** Seeders and leechers of one torrent at one moment. */
export interface TorrentSample {
  at: Date;
  seeders: number;
  leechers: number;
}

/**
 * Records counts (torrent id, seeders, leechers) as samples at `at`, each only where it differs
 * from that torrent's last sample and the torrent still exists. Returns how many were written.
 */
export async function takeTorrentSamples(
  sql: Sql,
  at: Date,
  counts: readonly (readonly [number, number, number])[],
): Promise<number> {
  if (counts.length === 0) return 0;
  const rows = await sql`
    insert into torrent_samples (torrent_id, at, seeders, leechers)
    select c.id, ${at}, c.seeders, c.leechers
    from unnest(
      ${pgArray(counts.map((c) => c[0]))}::bigint[],
      ${pgArray(counts.map((c) => c[1]))}::int[],
      ${pgArray(counts.map((c) => c[2]))}::int[]
    ) as c (id, seeders, leechers)
    join torrents t on t.id = c.id
    left join lateral (
      select s.seeders, s.leechers from torrent_samples s
      where s.torrent_id = c.id
      order by s.at desc
      limit 1
    ) as last on true
    where (last.seeders, last.leechers) is distinct from (c.seeders, c.leechers)
    on conflict (torrent_id, at) do nothing
    returning torrent_id
  `;
  return rows.length;
}

/** A torrent's samples from `from` on, oldest first, with the last one before it. */
export async function torrentSamples(sql: Sql, torrentId: number, from: Date): Promise<TorrentSample[]> {
  return await sql<TorrentSample[]>`
    select at, seeders, leechers
    from torrent_samples
    where torrent_id = ${torrentId}
      and at >= coalesce(
        (select max(at) from torrent_samples where torrent_id = ${torrentId} and at < ${from}),
        ${from}
      )
    order by at
  `;
}

/** A member's cumulative totals at one moment. */
export interface MemberSample {
  at: Date;
  uploaded: number;
  downloaded: number;
}

/**
 * Records the totals of members whose totals changed since their last sample (and who have any) as
 * samples at `at`: at most `limit`, those sampled longest ago first, so none waits forever. Returns
 * how many were written.
 */
export async function takeMemberSamples(sql: Sql, at: Date, limit: number): Promise<number> {
  const rows = await sql`
    insert into member_samples (user_id, at, uploaded, downloaded)
    select u.id, ${at}, u.uploaded, u.downloaded
    from users u
    left join lateral (
      select m.at, m.uploaded, m.downloaded from member_samples m
      where m.user_id = u.id
      order by m.at desc
      limit 1
    ) as last on true
    where (last.uploaded, last.downloaded) is distinct from (u.uploaded, u.downloaded)
      and (last.at is not null or u.uploaded > 0 or u.downloaded > 0)
    order by last.at nulls first, u.id
    limit ${limit}
    on conflict (user_id, at) do nothing
    returning user_id
  `;
  return rows.length;
}

/** A member's samples from `from` on, oldest first, with the last one before it. */
export async function memberSamples(sql: Sql, userId: number, from: Date): Promise<MemberSample[]> {
  return await sql<MemberSample[]>`
    select at, uploaded, downloaded
    from member_samples
    where user_id = ${userId}
      and at >= coalesce(
        (select max(at) from member_samples where user_id = ${userId} and at < ${from}),
        ${from}
      )
    order by at
  `;
}

/** The tables of samples. */
export type SampleTable = "site_samples" | "torrent_samples" | "member_samples";

/** What a sample of each table belongs to (null: the site as a whole). */
const OWNER: Record<SampleTable, string | null> = {
  site_samples: null,
  torrent_samples: "torrent_id",
  member_samples: "user_id",
};

/**
 * Thins the samples taken in [from, to) to the last one of each bucket of `bucketSeconds` (UTC),
 * per torrent or member: the value each held at the end of the bucket. Returns the rows deleted.
 */
export async function thinSamples(
  sql: Sql,
  table: SampleTable,
  range: { from: Date; to: Date },
  bucketSeconds: number,
): Promise<number> {
  const owner = OWNER[table];
  const same = owner ? sql`and n.${sql(owner)} = s.${sql(owner)}` : sql``;
  const result = await sql`
    delete from ${sql(table)} as s
    where s.at >= ${range.from} and s.at < ${range.to}
      and exists (
        select 1 from ${sql(table)} as n
        where n.at > s.at
          and n.at < to_timestamp((floor(extract(epoch from s.at) / ${bucketSeconds}) + 1) * ${bucketSeconds})
          ${same}
      )
  `;
  return result.count;
}

/** Deletes the samples taken before `before`; returns how many. */
export async function deleteSamplesBefore(sql: Sql, table: SampleTable, before: Date): Promise<number> {
  const result = await sql`delete from ${sql(table)} where at < ${before}`;
  return result.count;
}

/** Rows in each table of samples, for tests and the operators' curiosity. */
export async function sampleCounts(sql: Sql): Promise<Record<SampleTable, number>> {
  const [row] = await sql<{ site: number; torrents: number; members: number }[]>`
    select
      (select count(*)::int from site_samples) as site,
      (select count(*)::int from torrent_samples) as torrents,
      (select count(*)::int from member_samples) as members
  `;
  return { site_samples: row!.site, torrent_samples: row!.torrents, member_samples: row!.members };
}
