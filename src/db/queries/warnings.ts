import type { Sql } from "../client.ts";

/** A warning as pages and the API show it. */
export interface WarningRow {
  id: number;
  userId: number;
  givenBy: number | null;
  giver: string | null;
  reason: string;
  createdAt: Date;
  expiresAt: Date;
  liftedAt: Date | null;
  /** Neither expired nor lifted. */
  active: boolean;
}

/** Gives a warning lasting `days` days; returns its id. */
export async function insertWarning(
  sql: Sql,
  w: { userId: number; givenBy: number; reason: string; days: number },
): Promise<number> {
  const [row] = await sql<{ id: number }[]>`
    insert into warnings (user_id, given_by, reason, expires_at)
    values (${w.userId}, ${w.givenBy}, ${w.reason}, now() + make_interval(days => ${w.days}))
    returning id
  `;
  return row!.id;
}

/** Lifts an active warning; returns it as it was, or null when there is no active one with that id. */
export async function liftWarning(sql: Sql, id: number): Promise<WarningRow | null> {
  const [row] = await sql<WarningRow[]>`
    update warnings set lifted_at = now()
    where id = ${id} and lifted_at is null and expires_at > now()
    returning id, user_id, given_by, null::text as giver, reason, created_at, expires_at, null::timestamptz as lifted_at,
      true as active
  `;
  return row ?? null;
}

/** A member's warnings, latest first (at most 200). */
export async function memberWarnings(sql: Sql, userId: number): Promise<WarningRow[]> {
  return await sql<WarningRow[]>`
    select w.id, w.user_id, w.given_by, g.name as giver, w.reason, w.created_at, w.expires_at, w.lifted_at,
      (w.lifted_at is null and w.expires_at > now()) as active
    from warnings w
    left join users g on g.id = w.given_by
    where w.user_id = ${userId}
    order by w.created_at desc, w.id desc
    limit 200
  `;
}

/**
 * Sets `warnings_paused`: true for members with `limit` active warnings or more, false otherwise
 * (everyone when `limit` is 0), for one member or all. Returns the members whose flag changed.
 */
export async function updateWarningPauses(sql: Sql, limit: number, userId?: number): Promise<number[]> {
  const one = userId === undefined ? sql`` : sql`where m.id = ${userId}`;
  const rows = await sql<{ id: number }[]>`
    update users u
    set warnings_paused = p.paused
    from (
      select m.id, ${limit}::int > 0 and (
        select count(*) from warnings w
        where w.user_id = m.id and w.lifted_at is null and w.expires_at > now()
      ) >= ${limit}::int as paused
      from users m
      ${one}
    ) p
    where u.id = p.id and u.warnings_paused <> p.paused
    returning u.id
  `;
  return rows.map((r) => Number(r.id));
}
