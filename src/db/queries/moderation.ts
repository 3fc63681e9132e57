import type { Sql } from "../client.ts";
import type { Moderation } from "./torrents.ts";

/** A torrent in the moderation queue, as the staff's page lists it. */
export interface HeldTorrent {
  id: number;
  title: string;
  size: number;
  createdAt: Date;
  creatorId: number | null;
  creator: string | null;
  moderation: Moderation;
  moderationNote: string;
  queuedAt: Date | null;
  moderatedAt: Date | null;
  moderator: string | null;
}

/** Torrents in `state` (pending: oldest in the queue first; rejected: latest first), `limit` + 1 rows. */
export async function heldTorrents(
  sql: Sql,
  state: "pending" | "rejected",
  limit: number,
  offset: number,
): Promise<HeldTorrent[]> {
  const order = state === "pending" ? sql`t.queued_at asc, t.id asc` : sql`t.queued_at desc, t.id desc`;
  return await sql<HeldTorrent[]>`
    select t.id, t.title, t.size, t.created_at, t.creator_id, u.name as creator, t.moderation,
      t.moderation_note, t.queued_at, t.moderated_at, m.name as moderator
    from torrents t
    left join users u on u.id = t.creator_id
    left join users m on m.id = t.moderated_by
    where t.moderation <> 'approved' and t.moderation = ${state}
    order by ${order}
    limit ${limit + 1} offset ${offset}
  `;
}

/** How many torrents wait in the queue. */
export async function pendingCount(sql: Sql): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n from torrents where moderation <> 'approved' and moderation = 'pending'
  `;
  return row!.n;
}

/** A torrent's moderation state, locked for the decision in the caller's transaction; null when gone. */
export async function moderationForUpdate(
  sql: Sql,
  id: number,
): Promise<{
  id: number;
  title: string;
  creatorId: number | null;
  moderation: Moderation;
  moderationNote: string;
} | null> {
  const [row] = await sql<
    { id: number; title: string; creatorId: number | null; moderation: Moderation; moderationNote: string }[]
  >`
    select id, title, creator_id, moderation, moderation_note from torrents where id = ${id} for update
  `;
  return row ?? null;
}

/**
 * Records a decision: approved or rejected (with its note), or postponed (still pending, moved to
 * the back of the queue with its note).
 */
export async function setModeration(
  sql: Sql,
  id: number,
  change: { state: Moderation; note: string; by: number; requeue: boolean },
): Promise<void> {
  await sql`
    update torrents
    set moderation = ${change.state}, moderation_note = ${change.note}, moderated_by = ${change.by},
      moderated_at = now(), queued_at = case when ${change.requeue} then now() else queued_at end
    where id = ${id}
  `;
}
