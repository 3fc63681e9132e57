import type { Sql } from "../client.ts";

/** One line of the audit log as pages and the API show it. */
export interface StaffActionRow {
  id: number;
  at: Date;
  actorId: number;
  /** The actor's name now (null when the account is gone). */
  actor: string | null;
  action: string;
  targetType: string;
  targetId: number | null;
  before: unknown;
  after: unknown;
}

/** What the log may be filtered by (each optional). */
export interface StaffActionFilter {
  actorId?: number;
  action?: string;
  targetType?: string;
  targetId?: number;
  /** From this time (inclusive). */
  since?: Date;
  /** Before this time (exclusive). */
  until?: Date;
}

/** Appends one line to the audit log; the time is the database's. */
export async function insertStaffAction(
  sql: Sql,
  row: {
    actorId: number;
    action: string;
    targetType: string;
    targetId: number | null;
    before: unknown;
    after: unknown;
  },
): Promise<number> {
  const [inserted] = await sql<{ id: number }[]>`
    insert into staff_actions (actor_id, action, target_type, target_id, before, after)
    values (
      ${row.actorId}, ${row.action}, ${row.targetType}, ${row.targetId},
      ${row.before === null || row.before === undefined ? null : sql.json(row.before as never)},
      ${row.after === null || row.after === undefined ? null : sql.json(row.after as never)}
    )
    returning id
  `;
  return inserted!.id;
}

/** One page of the log, newest first, filtered; one row more than `limit` says a next page exists. */
export async function listStaffActions(
  sql: Sql,
  filter: StaffActionFilter,
  limit: number,
  offset: number,
): Promise<StaffActionRow[]> {
  const actor = filter.actorId !== undefined ? sql`and a.actor_id = ${filter.actorId}` : sql``;
  const action = filter.action !== undefined ? sql`and a.action = ${filter.action}` : sql``;
  const type = filter.targetType !== undefined ? sql`and a.target_type = ${filter.targetType}` : sql``;
  const target = filter.targetId !== undefined ? sql`and a.target_id = ${filter.targetId}` : sql``;
  const since = filter.since !== undefined ? sql`and a.at >= ${filter.since}` : sql``;
  const until = filter.until !== undefined ? sql`and a.at < ${filter.until}` : sql``;
  return await sql<StaffActionRow[]>`
    select a.id, a.at, a.actor_id, u.name as actor, a.action, a.target_type, a.target_id, a.before, a.after
    from staff_actions a
    left join users u on u.id = a.actor_id
    where true ${actor} ${action} ${type} ${target} ${since} ${until}
    order by a.at desc, a.id desc
    limit ${limit + 1} offset ${offset}
  `;
}

/** The distinct actions in the log, for the filter's choices. */
export async function staffActionNames(sql: Sql): Promise<string[]> {
  const rows = await sql<{ action: string }[]>`select distinct action from staff_actions order by action`;
  return rows.map((r) => r.action);
}

/** A member's id by name (case-insensitive), or null. */
export async function memberIdByName(sql: Sql, name: string): Promise<number | null> {
  const [row] = await sql<{ id: number }[]>`select id from users where lower(name) = lower(${name})`;
  return row?.id ?? null;
}
