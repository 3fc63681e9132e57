import type { Sql } from "../client.ts";

/** A torrent as the home page's seeding list shows it. */
export interface SeedingRow {
  id: number;
  title: string;
  size: number;
  seeders: number;
  leechers: number;
  snatches: number;
}

/** Torrents the member completed that have fewer than `fewerThan` seeders, fewest first. */
export async function completedWithFewSeeders(
  sql: Sql,
  userId: number,
  fewerThan: number,
  limit: number,
): Promise<SeedingRow[]> {
  return await sql<SeedingRow[]>`
    select t.id, t.title, t.size, c.seeders, c.leechers, t.snatches
    from user_torrent_stats s
    join torrents t on t.id = s.torrent_id
    join torrent_counts c on c.torrent_id = t.id
    where s.user_id = ${userId}
      and s.completed_at is not null
      and c.seeders < ${fewerThan}
    order by c.seeders, c.leechers desc, t.id desc
    limit ${limit}
  `;
}

/**
 * The least-seeded torrents: first those someone is downloading, then, to fill the list, the
 * others; fewest seeders first either way. Both follow the seeders index and stop after `limit`
 * rows (sorting by leechers too would sort every active swarm: 85 ms at a million torrents,
 * 290 ms when most have leechers, against well under a millisecond this way).
 */
export async function leastSeeded(sql: Sql, limit: number): Promise<SeedingRow[]> {
  const waiting = await sql<SeedingRow[]>`
    select t.id, t.title, t.size, c.seeders, c.leechers, t.snatches
    from torrent_counts c
    join torrents t on t.id = c.torrent_id
    where c.leechers > 0
    order by c.seeders, c.torrent_id
    limit ${limit}
  `;
  if (waiting.length >= limit) return waiting;
  const rest = await sql<SeedingRow[]>`
    select t.id, t.title, t.size, c.seeders, c.leechers, t.snatches
    from torrent_counts c
    join torrents t on t.id = c.torrent_id
    where c.leechers = 0
    order by c.seeders, c.torrent_id
    limit ${limit - waiting.length}
  `;
  return [...waiting, ...rest];
}
