import { hashSecret, newSecret } from "../../shared/secrets.ts";
import type { Sql } from "../client.ts";

/** The member's e-mail address, or null when they gave none. */
export async function emailOf(sql: Sql, userId: number): Promise<string | null> {
  const [row] = await sql<{ email: string | null }[]>`select email from users where id = ${userId}`;
  return row?.email ?? null;
}

/** Sets (or, with null, removes) the member's e-mail address. */
export async function setEmail(sql: Sql, userId: number, email: string | null): Promise<void> {
  await sql`update users set email = ${email} where id = ${userId}`;
}

/** Enabled members found by name or e-mail address (any case), with the address mail goes to. */
export async function membersToMail(
  sql: Sql,
  nameOrEmail: string,
): Promise<{ id: number; name: string; email: string }[]> {
  return sql<{ id: number; name: string; email: string }[]>`
    select id, name, email
    from users
    where email is not null
      and not disabled
      and (lower(name) = lower(${nameOrEmail}) or lower(email) = lower(${nameOrEmail}))
    order by id
    limit 5
  `;
}

/** Creates a reset link's token for a member, valid `minutes`; only its hash is stored. */
export async function createReset(
  sql: Sql,
  userId: number,
  minutes: number,
  createdBy: number | null,
): Promise<{ token: string; expiresAt: Date }> {
  const token = newSecret();
  const [row] = await sql<{ expiresAt: Date }[]>`
    insert into password_resets (user_id, token_hash, created_by, expires_at)
    values (${userId}, ${hashSecret(token)}, ${createdBy}, now() + make_interval(mins => ${minutes}))
    returning expires_at
  `;
  return { token, expiresAt: row!.expiresAt };
}

/** The member a reset token opens, while it is unused and unexpired; null otherwise. */
export async function resetHolder(sql: Sql, token: string): Promise<{ userId: number; name: string } | null> {
  const [row] = await sql<{ userId: number; name: string }[]>`
    select r.user_id, u.name
    from password_resets r
    join users u on u.id = r.user_id
    where r.token_hash = ${hashSecret(token)} and r.used_at is null and r.expires_at > now()
  `;
  return row ?? null;
}

/**
 * Uses a reset token once: sets the member's password hash, marks the token (and every other
 * open link of theirs) used and ends all their sessions and half-finished log-ins, in one
 * transaction. A link staff issued also removes the member's second factors (staff stood in for
 * them: that is how a member who lost their phone and codes gets back in); a mailed one keeps them.
 * Returns the member's id, or null when the token was unknown, used or expired.
 */
export async function useReset(sql: Sql, token: string, passwordHash: string): Promise<number | null> {
  return sql.begin(async (tx) => {
    const [row] = await tx<{ userId: number; byStaff: boolean }[]>`
      update password_resets
      set used_at = now()
      where token_hash = ${hashSecret(token)} and used_at is null and expires_at > now()
      returning user_id, created_by is not null as by_staff
    `;
    if (!row) return null;
    if (row.byStaff) {
      await tx`delete from totp_secrets where user_id = ${row.userId}`;
      await tx`delete from recovery_codes where user_id = ${row.userId}`;
      await tx`delete from passkeys where user_id = ${row.userId}`;
    }
    await tx`update password_resets set used_at = now() where user_id = ${row.userId} and used_at is null`;
    await tx`update users set password_hash = ${passwordHash} where id = ${row.userId}`;
    await tx`delete from sessions where user_id = ${row.userId}`;
    await tx`delete from second_factor_waits where user_id = ${row.userId}`;
    return row.userId;
  });
}

/**
 * Counts one "Forgot password" request under each key, and says which keys had already had
 * `limit` requests in the last `minutes` (the request is counted regardless).
 */
export async function countRecoveryRequest(
  sql: Sql,
  keys: readonly string[],
  limit: number,
  minutes: number,
): Promise<Set<string>> {
  await sql`delete from recovery_requests where at < now() - interval '1 day'`;
  const rows = await sql<{ key: string; n: number }[]>`
    select key, count(*)::int as n
    from recovery_requests
    where key = any(${keys as string[]}) and at > now() - make_interval(mins => ${minutes})
    group by key
  `;
  await sql`insert into recovery_requests ${sql(keys.map((key) => ({ key })))}`;
  return new Set(rows.filter((r) => r.n >= limit).map((r) => r.key));
}
