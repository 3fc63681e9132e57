import type { TrackerTorrent } from "../../shared/channel.ts";
import type { Sql } from "../client.ts";

/** Every torrent as the tracker needs it (hashes in hex). */
export async function trackerTorrents(sql: Sql): Promise<TrackerTorrent[]> {
  return (await sql`
    select id, encode(info_hash, 'hex') as "infoHash", encode(info_hash_v2, 'hex') as "infoHashV2", snatches
    from torrents
  `) as unknown as TrackerTorrent[];
}

/** One torrent as the tracker needs it, or null. */
export async function trackerTorrent(sql: Sql, id: number): Promise<TrackerTorrent | null> {
  const [row] = await sql`
    select id, encode(info_hash, 'hex') as "infoHash", encode(info_hash_v2, 'hex') as "infoHashV2", snatches
    from torrents
    where id = ${id}
  `;
  return (row as TrackerTorrent | undefined) ?? null;
}
