import type { Sql } from "../client.ts";

/** PostgreSQL's error code for a foreign key refusing a row (the torrent went meanwhile). */
const FOREIGN_KEY_VIOLATION = "23503";
/** The high half of the advisory lock each author's comments are posted under. */
const COMMENT_LOCK = 0x636f6d;

/** A comment as the torrent page shows it. */
export interface CommentRow {
  id: number;
  torrentId: number;
  authorId: number | null;
  author: string | null;
  body: string;
  /** The body rendered when written; null for comments written before the site stored it. */
  html: string | null;
  createdAt: Date;
  editedAt: Date | null;
}

/** One page of a torrent's comments, oldest first, and how many it has in all. */
export async function torrentComments(
  sql: Sql,
  torrentId: number,
  limit: number,
  offset: number,
): Promise<{ rows: CommentRow[]; total: number }> {
  const rows = await sql<CommentRow[]>`
    select c.id, c.torrent_id, c.author_id, u.name as author, c.body, c.html, c.created_at, c.edited_at
    from comments c
    left join users u on u.id = c.author_id
    where c.torrent_id = ${torrentId}
    order by c.id
    limit ${limit}
    offset ${offset}
  `;
  const [count] = await sql<{ n: number }[]>`
    select count(*)::int as n from comments where torrent_id = ${torrentId}
  `;
  return { rows, total: count!.n };
}

/** One comment, or null. */
export async function getComment(sql: Sql, id: number): Promise<CommentRow | null> {
  const [row] = await sql<CommentRow[]>`
    select c.id, c.torrent_id, c.author_id, u.name as author, c.body, c.html, c.created_at, c.edited_at
    from comments c
    left join users u on u.id = c.author_id
    where c.id = ${id}
  `;
  return row ?? null;
}

/** How many comments of its torrent come before this one (its place, from 0). */
export async function commentsBefore(sql: Sql, torrentId: number, id: number): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n from comments where torrent_id = ${torrentId} and id < ${id}
  `;
  return row!.n;
}

/** The outcome of posting: the new comment's id, a throttle (with seconds to wait), or no torrent. */
export type CommentInsert = { id: number } | { throttled: number } | null;

/**
 * Stores a comment unless its author wrote `perMinute` or more in the last minute, and tells the
 * torrent's uploader (when someone else wrote it) there is something new. One transaction, under a
 * lock per author so that two comments sent at once cannot both slip under the limit. Null when
 * the torrent does not exist (or went meanwhile).
 */
export async function insertComment(
  sql: Sql,
  input: { torrentId: number; authorId: number; body: string; html: string; perMinute: number },
): Promise<CommentInsert> {
  try {
    return (await sql.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(${COMMENT_LOCK}::bigint * 4294967296 + ${input.authorId}::bigint)`;
      const [recent] = await tx<{ n: number; wait: number | null }[]>`
        select count(*)::int as n,
          ceil(extract(epoch from min(created_at) + interval '1 minute' - now()))::int as wait
        from comments
        where author_id = ${input.authorId} and created_at > now() - interval '1 minute'
      `;
      if (recent!.n >= input.perMinute) return { throttled: Math.max(1, recent!.wait ?? 1) };
      const [row] = await tx<{ id: number; creatorId: number | null }[]>`
        insert into comments (torrent_id, author_id, body, html)
        select id, ${input.authorId}, ${input.body}, ${input.html} from torrents where id = ${input.torrentId}
        returning id, (select creator_id from torrents where id = ${input.torrentId}) as creator_id
      `;
      if (!row) return null;
      if (row.creatorId !== null && row.creatorId !== input.authorId)
        await tx`
          insert into comment_notices (user_id, torrent_id, first_unread_id)
          values (${row.creatorId}, ${input.torrentId}, ${row.id})
          on conflict (user_id, torrent_id) do nothing
        `;
      return { id: row.id };
    })) as CommentInsert;
  } catch (error) {
    if ((error as { code?: string }).code === FOREIGN_KEY_VIOLATION) return null;
    throw error;
  }
}

/** Replaces a comment's text (and its rendering) and marks it edited. */
export async function updateComment(sql: Sql, id: number, body: string, html: string): Promise<void> {
  await sql`update comments set body = ${body}, html = ${html}, edited_at = now() where id = ${id}`;
}

/** Stores the rendering of a comment written before the site stored them (unless it changed meanwhile). */
export async function storeCommentHtml(sql: Sql, id: number, body: string, html: string): Promise<void> {
  await sql`update comments set html = ${html} where id = ${id} and html is null and body = ${body}`;
}

/** Deletes a comment. */
export async function deleteComment(sql: Sql, id: number): Promise<void> {
  await sql`delete from comments where id = ${id}`;
}

/** New comments on one of a member's torrents. */
export interface CommentNoticeRow {
  torrentId: number;
  title: string;
  /** Comments by others since the member last opened the torrent's page. */
  unread: number;
  /** How many comments come before the first new one (to find its page). */
  before: number;
}

/** A member's torrents with comments they have not seen, the most recently commented first. */
export async function commentNotices(sql: Sql, userId: number, limit: number): Promise<CommentNoticeRow[]> {
  return await sql<CommentNoticeRow[]>`
    select n.torrent_id, t.title, count(c.id)::int as unread,
      (select count(*)::int from comments b where b.torrent_id = n.torrent_id and b.id < min(c.id)) as before
    from comment_notices n
    join torrents t on t.id = n.torrent_id
    join comments c on c.torrent_id = n.torrent_id and c.id >= n.first_unread_id
      and c.author_id is distinct from n.user_id
    where n.user_id = ${userId}
    group by n.torrent_id, t.title
    order by max(c.id) desc
    limit ${limit}
  `;
}

/** Marks a torrent's comments as seen by the member. */
export async function clearCommentNotice(sql: Sql, userId: number, torrentId: number): Promise<void> {
  await sql`delete from comment_notices where user_id = ${userId} and torrent_id = ${torrentId}`;
}
