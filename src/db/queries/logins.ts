import type { Sql } from "../client.ts";

/** Failed log-ins allowed per account, and per address, in the window before refusing. */
export const MAX_FAILURES_PER_NAME = 5;
export const MAX_FAILURES_PER_ADDRESS = 20;
export const FAILURE_WINDOW_MINUTES = 15;

/** Whether log-ins for this name or from this address are paused after too many failures. */
export async function loginThrottled(sql: Sql, name: string, address: string): Promise<boolean> {
  const [row] = await sql<{ by_name: number; by_address: number }[]>`
    select
      count(*) filter (where lower(name) = lower(${name}))::int as by_name,
      count(*) filter (where address = ${address})::int as by_address
    from login_failures
    where at > now() - make_interval(mins => ${FAILURE_WINDOW_MINUTES})
      and (lower(name) = lower(${name}) or address = ${address})
  `;
  return row!.by_name >= MAX_FAILURES_PER_NAME || row!.by_address >= MAX_FAILURES_PER_ADDRESS;
}

/** Records a failed log-in (and forgets ones older than a day). */
export async function recordLoginFailure(sql: Sql, name: string, address: string): Promise<void> {
  await sql`insert into login_failures (name, address) values (${name.slice(0, 64)}, ${address})`;
  await sql`delete from login_failures where at < now() - interval '1 day'`;
}

/** Forgets the failures of a name after a successful log-in. */
export async function clearLoginFailures(sql: Sql, name: string): Promise<void> {
  await sql`delete from login_failures where lower(name) = lower(${name})`;
}

/** The member with this name (any case), for checking a password. */
export async function userForLogin(
  sql: Sql,
  name: string,
): Promise<{ id: number; name: string; password_hash: string; disabled: boolean } | null> {
  const [row] = await sql<{ id: number; name: string; password_hash: string; disabled: boolean }[]>`
    select id, name, password_hash, disabled from users where lower(name) = lower(${name})
  `;
  return row ?? null;
}
