import type { Int8, Sql } from "../client.ts";

/** How a member's history may be ordered. */
export const HISTORY_SORTS = [
  "last",
  "first",
  "uploaded",
  "downloaded",
  "seeded",
  "ratio",
  "completed",
  "title",
] as const;
/** One of {@link HISTORY_SORTS}. */
export type HistorySort = (typeof HISTORY_SORTS)[number];

/** One member's record on one torrent. */
export interface HistoryRow {
  userId: number;
  userName: string;
  torrentId: number;
  title: string;
  size: Int8;
  uploaded: Int8;
  downloaded: Int8;
  reportedUploaded: Int8;
  reportedDownloaded: Int8;
  seedSeconds: number;
  firstAnnounceAt: Date | null;
  lastAnnounceAt: Date | null;
  completedAt: Date | null;
  seeding: boolean;
  leeching: boolean;
  /**
   * Whether a peer of the member in the swarm now (as saved with the credit) accepted a BitTorrent
   * handshake at its last probe: true when one did, false when all probed did not, null when none
   * was probed (or none is there).
   */
  connectable: boolean | null;
}

function order(sql: Sql, sort: HistorySort, desc: boolean) {
  const dir = desc ? sql`desc` : sql`asc`;
  const nulls = desc ? sql`nulls last` : sql`nulls first`;
  switch (sort) {
    case "first":
      return sql`s.first_announce_at ${dir} ${nulls}, s.torrent_id ${dir}`;
    case "uploaded":
      return sql`s.uploaded ${dir}, s.torrent_id ${dir}`;
    case "downloaded":
      return sql`s.downloaded ${dir}, s.torrent_id ${dir}`;
    case "seeded":
      return sql`s.seed_seconds ${dir}, s.torrent_id ${dir}`;
    case "ratio":
      return sql`s.uploaded::float8 / nullif(s.downloaded, 0) ${dir} ${nulls}, s.torrent_id ${dir}`;
    case "completed":
      return sql`s.completed_at ${dir} ${nulls}, s.torrent_id ${dir}`;
    case "title":
      return sql`t.title ${dir}, s.torrent_id ${dir}`;
    default:
      return sql`s.last_announce_at ${dir} ${nulls}, s.torrent_id ${dir}`;
  }
}

const COLUMNS = (sql: Sql) => sql`
  s.user_id, u.name as user_name, s.torrent_id, t.title, t.size, s.uploaded, s.downloaded,
  s.reported_uploaded, s.reported_downloaded, s.seed_seconds, s.first_announce_at, s.last_announce_at,
  s.completed_at, s.seeding, s.leeching,
  (
    select bool_or(r.connectable)
    from tracker_peers p
    join peer_probes r on r.address = p.address and r.port = p.port and r.info_hash = t.info_hash
    where p.torrent_id = s.torrent_id and p.user_id = s.user_id and not p.kept
  ) as connectable
`;

/** A member's torrents, `limit + 1` rows from `offset` (the extra row says a next page exists). */
export async function memberHistory(
  sql: Sql,
  userId: number,
  q: { sort: HistorySort; desc: boolean; limit: number; offset: number },
): Promise<HistoryRow[]> {
  return await sql<HistoryRow[]>`
    select ${COLUMNS(sql)}
    from user_torrent_stats s
    join torrents t on t.id = s.torrent_id
    join users u on u.id = s.user_id
    where s.user_id = ${userId}
    order by ${order(sql, q.sort, q.desc)}
    limit ${q.limit + 1} offset ${q.offset}
  `;
}

/** Who completed a torrent, latest first, `limit + 1` rows from `offset`. */
export async function torrentSnatches(
  sql: Sql,
  torrentId: number,
  q: { limit: number; offset: number },
): Promise<HistoryRow[]> {
  return await sql<HistoryRow[]>`
    select ${COLUMNS(sql)}
    from user_torrent_stats s
    join torrents t on t.id = s.torrent_id
    join users u on u.id = s.user_id
    where s.torrent_id = ${torrentId} and s.completed_at is not null
    order by s.completed_at desc, s.user_id desc
    limit ${q.limit + 1} offset ${q.offset}
  `;
}

/** Whether a member hides their name in peer lists. */
export async function isAnonymous(sql: Sql, userId: number): Promise<boolean> {
  const [row] = await sql<{ anonymous: boolean }[]>`select anonymous from users where id = ${userId}`;
  return row?.anonymous ?? false;
}

/** Sets whether a member hides their name in peer lists. */
export async function setAnonymous(sql: Sql, userId: number, anonymous: boolean): Promise<void> {
  await sql`update users set anonymous = ${anonymous} where id = ${userId}`;
}
