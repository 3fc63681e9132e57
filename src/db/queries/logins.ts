import type { Sql } from "../client.ts";

/** Failed log-ins allowed per name from one address, and per address over all names, in the window. */
export const MAX_FAILURES_PER_NAME_AND_ADDRESS = 5;
export const MAX_FAILURES_PER_ADDRESS = 20;
export const FAILURE_WINDOW_MINUTES = 15;

// The first key of the advisory locks that serialise guesses from one address (the second is the
// address's hash); any constant works that no other lock of ours uses.
const GUESS_LOCK = 0x6c_6f_67_69;

/**
 * Takes one guess for this name from this address (its throttling key), or refuses it: null when
 * the name has had its `MAX_FAILURES_PER_NAME_AND_ADDRESS` guesses from this address in the
 * window, or the address its `MAX_FAILURES_PER_ADDRESS` over all names. Guesses from one address
 * take turns on an advisory lock and count and write in one statement, so however many race, at
 * most the limit get through. A taken guess stays (a failure) unless `forgiveLoginGuesses` removes
 * it after a right password.
 */
export async function takeLoginGuess(sql: Sql, name: string, address: string): Promise<number | null> {
  const lower = name.slice(0, 64).toLowerCase();
  const taken = await sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${GUESS_LOCK}, hashtext(${address}))`;
    return await tx<{ id: number }[]>`
      insert into login_guesses (name, address)
      select ${lower}, ${address}
      from (
        select
          count(*) filter (where name = ${lower}) as by_name,
          count(*) as by_address
        from login_guesses
        where address = ${address}
          and at > now() - make_interval(mins => ${FAILURE_WINDOW_MINUTES})
      ) as recent
      where recent.by_name < ${MAX_FAILURES_PER_NAME_AND_ADDRESS}
        and recent.by_address < ${MAX_FAILURES_PER_ADDRESS}
      returning id
    `;
  });
  return taken[0]?.id ?? null;
}

/** After a wrong password: the guess stays as a failure; guesses older than a day are forgotten. */
export async function keepLoginFailure(sql: Sql): Promise<void> {
  await sql`delete from login_guesses where at < now() - interval '1 day'`;
}

/** After a right password: this guess and the name's earlier failures from this address are forgotten. */
export async function forgiveLoginGuesses(
  sql: Sql,
  id: number,
  name: string,
  address: string,
): Promise<void> {
  await sql`
    delete from login_guesses
    where id = ${id} or (address = ${address} and name = ${name.slice(0, 64).toLowerCase()})
  `;
}

/** The member with this name (any case), for checking a password. */
export async function userForLogin(
  sql: Sql,
  name: string,
): Promise<{ id: number; name: string; passwordHash: string; disabled: boolean } | null> {
  const [row] = await sql<{ id: number; name: string; passwordHash: string; disabled: boolean }[]>`
    select id, name, password_hash, disabled from users where lower(name) = lower(${name})
  `;
  return row ?? null;
}
