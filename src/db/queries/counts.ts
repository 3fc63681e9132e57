import type { TorrentCounts } from "../../shared/channel.ts";
import type { Sql } from "../client.ts";
import { pgArray } from "./stats.ts";

/** Stores the tracker's latest counts: for the list's sort orders, and for other web processes. */
export async function writeSwarmCounts(sql: Sql, counts: readonly TorrentCounts[]): Promise<void> {
  if (counts.length === 0) return;
  await sql`
    update torrent_counts t
    set seeders = c.seeders, leechers = c.leechers, snatches = c.snatches
    from unnest(
      ${pgArray(counts.map((c) => c[0]))}::bigint[],
      ${pgArray(counts.map((c) => c[1]))}::int[],
      ${pgArray(counts.map((c) => c[2]))}::int[],
      ${pgArray(counts.map((c) => c[3]))}::int[]
    ) as c (id, seeders, leechers, snatches)
    where t.torrent_id = c.id
      and (t.seeders, t.leechers, t.snatches) is distinct from (c.seeders, c.leechers, c.snatches)
  `;
}

/** The counts the tracker's process last wrote for the torrents among `ids`. */
export async function liveCounts(sql: Sql, ids: readonly number[]): Promise<TorrentCounts[]> {
  if (ids.length === 0) return [];
  const rows = await sql`
    select torrent_id, seeders, leechers, snatches from torrent_counts
    where torrent_id = any(${pgArray(ids)}::bigint[])
  `.values();
  return rows.map((r) => [Number(r[0]), Number(r[1]), Number(r[2]), Number(r[3])] as const);
}
