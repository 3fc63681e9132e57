import type { Sql } from "../client.ts";
import { rowColumns, type TorrentRow } from "./torrents.ts";

/** A bookmarked torrent as lists show it, with when it was bookmarked. */
export interface BookmarkRow extends TorrentRow {
  bookmarkedAt: Date;
}

/** Bookmarks `torrentId` for the member (again: nothing changes). False when there is no such torrent. */
export async function addBookmark(sql: Sql, userId: number, torrentId: number, now: Date): Promise<boolean> {
  const rows = await sql`
    insert into bookmarks (user_id, torrent_id, created_at)
    select ${userId}, id, ${now} from torrents where id = ${torrentId}
    on conflict (user_id, torrent_id) do nothing
    returning torrent_id
  `;
  if (rows.length === 1) return true;
  const [there] = await sql`select 1 from torrents where id = ${torrentId}`;
  return there !== undefined;
}

/** Removes the member's bookmark of `torrentId`, if any. */
export async function removeBookmark(sql: Sql, userId: number, torrentId: number): Promise<void> {
  await sql`delete from bookmarks where user_id = ${userId} and torrent_id = ${torrentId}`;
}

/** Which of `torrentIds` the member has bookmarked. */
export async function bookmarkedAmong(
  sql: Sql,
  userId: number,
  torrentIds: readonly number[],
): Promise<Set<number>> {
  if (torrentIds.length === 0) return new Set();
  const rows = await sql<{ torrentId: number }[]>`
    select torrent_id from bookmarks
    where user_id = ${userId} and torrent_id = any(${torrentIds as number[]}::bigint[])
  `;
  return new Set(rows.map((r) => Number(r.torrentId)));
}

/** One page of the member's bookmarks, newest first (one more than `limit` when there is a next page). */
export async function memberBookmarks(
  sql: Sql,
  userId: number,
  limit: number,
  offset: number,
): Promise<BookmarkRow[]> {
  return sql<BookmarkRow[]>`
    select ${rowColumns(sql)}, b.created_at as bookmarked_at
    from bookmarks b
    join torrents t on t.id = b.torrent_id
    join torrent_counts c on c.torrent_id = t.id
    left join users u on u.id = t.creator_id
    left join categories cat on cat.id = t.category_id
    where b.user_id = ${userId}
    order by b.created_at desc, b.torrent_id desc
    limit ${limit + 1}
    offset ${offset}
  `;
}
