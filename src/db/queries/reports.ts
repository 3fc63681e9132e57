import type { Sql } from "../client.ts";

/** What a report is about. */
export type ReportTarget = "torrent" | "comment" | "member";
/** Where a report stands. */
export type ReportStatus = "open" | "claimed" | "resolved" | "dismissed";

/** A report as pages and the API show it. */
export interface ReportRow {
  id: number;
  reporterId: number;
  reporter: string | null;
  targetType: ReportTarget;
  targetId: number;
  /** A name for the target: the torrent's title, the member's name, the comment's torrent title. */
  targetLabel: string | null;
  /** The torrent a comment is on (to link to it). */
  targetTorrentId: number | null;
  reason: string;
  status: ReportStatus;
  claimer: string | null;
  decider: string | null;
  note: string;
  createdAt: Date;
  decidedAt: Date | null;
}

function reportColumns(sql: Sql) {
  return sql`
    r.id, r.reporter_id, rep.name as reporter, r.target_type, r.target_id, r.reason, r.status,
    cl.name as claimer, de.name as decider, r.note, r.created_at, r.decided_at,
    case r.target_type
      when 'torrent' then (select title from torrents where id = r.target_id)
      when 'member' then (select name from users where id = r.target_id)
      when 'comment' then (
        select t.title from comments c join torrents t on t.id = c.torrent_id where c.id = r.target_id
      )
    end as target_label,
    case r.target_type
      when 'torrent' then r.target_id
      when 'comment' then (select torrent_id from comments where id = r.target_id)
    end as target_torrent_id
  `;
}

/** Whether the target exists. */
export async function reportTargetExists(sql: Sql, type: ReportTarget, id: number): Promise<boolean> {
  const table = { torrent: sql`torrents`, comment: sql`comments`, member: sql`users` }[type];
  const rows = await sql`select 1 from ${table} where id = ${id}`;
  return rows.length > 0;
}

/**
 * Files a report unless the member filed `perHour` in the last hour (`throttled`: seconds to
 * wait), has `maxWaiting` waiting, or has one waiting on the same target (`duplicate`). The
 * member's row is locked meanwhile, so concurrent reports cannot pass the counts together.
 */
export async function insertReport(
  sql: Sql,
  r: {
    reporterId: number;
    targetType: ReportTarget;
    targetId: number;
    reason: string;
    perHour: number;
    maxWaiting: number;
  },
): Promise<{ id: number } | { throttled: number } | { full: true } | { duplicate: true }> {
  return (await sql.begin(async (tx) => {
    await tx`select id from users where id = ${r.reporterId} for update`;
    const [recent] = await tx<{ n: number; wait: number }[]>`
      select count(*)::int as n,
        coalesce(ceil(extract(epoch from min(created_at) + interval '1 hour' - now())), 1)::int as wait
      from reports where reporter_id = ${r.reporterId} and created_at > now() - interval '1 hour'
    `;
    if (recent!.n >= r.perHour) return { throttled: Math.max(1, recent!.wait) };
    const [waiting] = await tx<{ n: number }[]>`
      select count(*)::int as n from reports
      where reporter_id = ${r.reporterId} and status in ('open', 'claimed')
    `;
    if (waiting!.n >= r.maxWaiting) return { full: true };
    const [same] = await tx`
      select 1 from reports
      where reporter_id = ${r.reporterId} and target_type = ${r.targetType} and target_id = ${r.targetId}
        and status in ('open', 'claimed')
    `;
    if (same) return { duplicate: true };
    const [row] = await tx<{ id: number }[]>`
      insert into reports (reporter_id, target_type, target_id, reason)
      values (${r.reporterId}, ${r.targetType}, ${r.targetId}, ${r.reason})
      returning id
    `;
    return { id: row!.id };
  })) as { id: number } | { throttled: number } | { full: true } | { duplicate: true };
}

/** A member's own reports, latest first (at most 200). */
export async function reportsBy(sql: Sql, reporterId: number): Promise<ReportRow[]> {
  return await sql<ReportRow[]>`
    select ${reportColumns(sql)}
    from reports r
    left join users rep on rep.id = r.reporter_id
    left join users cl on cl.id = r.claimed_by
    left join users de on de.id = r.decided_by
    where r.reporter_id = ${reporterId}
    order by r.created_at desc, r.id desc
    limit 200
  `;
}

/** Reports for staff: waiting ones oldest first, or decided ones latest first; `limit` + 1 rows. */
export async function staffReports(
  sql: Sql,
  decided: boolean,
  limit: number,
  offset: number,
): Promise<ReportRow[]> {
  const where = decided ? sql`r.status in ('resolved', 'dismissed')` : sql`r.status in ('open', 'claimed')`;
  const order = decided ? sql`r.decided_at desc, r.id desc` : sql`r.created_at asc, r.id asc`;
  return await sql<ReportRow[]>`
    select ${reportColumns(sql)}
    from reports r
    left join users rep on rep.id = r.reporter_id
    left join users cl on cl.id = r.claimed_by
    left join users de on de.id = r.decided_by
    where ${where}
    order by ${order}
    limit ${limit + 1} offset ${offset}
  `;
}

/** A report's state, locked in the caller's transaction; null when there is none. */
export async function reportForUpdate(
  sql: Sql,
  id: number,
): Promise<{
  id: number;
  reporterId: number;
  status: ReportStatus;
  claimedBy: number | null;
  note: string;
} | null> {
  const [row] = await sql<
    { id: number; reporterId: number; status: ReportStatus; claimedBy: number | null; note: string }[]
  >`select id, reporter_id, status, claimed_by, note from reports where id = ${id} for update`;
  return row ?? null;
}

/** Marks a report claimed by a staff member. */
export async function claimReport(sql: Sql, id: number, by: number): Promise<void> {
  await sql`update reports set status = 'claimed', claimed_by = ${by} where id = ${id}`;
}

/** Records the decision on a report. */
export async function decideReport(
  sql: Sql,
  id: number,
  d: { status: "resolved" | "dismissed"; note: string; by: number },
): Promise<void> {
  await sql`
    update reports set status = ${d.status}, note = ${d.note}, decided_by = ${d.by}, decided_at = now()
    where id = ${id}
  `;
}
