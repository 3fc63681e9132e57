import { hashSecret, newSecret } from "../../shared/secrets.ts";
import type { Sql } from "../client.ts";

/** A member's authenticator-app secret (base32), confirmed or waiting for its first code. */
export interface TotpRow {
  secret: string;
  confirmedAt: Date | null;
  lastStep: number;
}

/** The member's TOTP secret, or null. */
export async function totpOf(sql: Sql, userId: number): Promise<TotpRow | null> {
  const [row] = await sql<TotpRow[]>`
    select secret, confirmed_at, last_step::float8 as last_step from totp_secrets where user_id = ${userId}
  `;
  return row ?? null;
}

/** Puts a new, unconfirmed secret in place of an unconfirmed one; false when a confirmed one exists. */
export async function startTotp(sql: Sql, userId: number, secret: string): Promise<boolean> {
  const rows = await sql`
    insert into totp_secrets (user_id, secret)
    values (${userId}, ${secret})
    on conflict (user_id) do update set secret = excluded.secret, created_at = now()
      where totp_secrets.confirmed_at is null
    returning user_id
  `;
  return rows.length === 1;
}

/**
 * Records that the code of time step `step` was accepted (confirming the secret if it was not),
 * only if no later or equal step was: false when the code was used already.
 */
export async function acceptTotpStep(sql: Sql, userId: number, step: number): Promise<boolean> {
  const rows = await sql`
    update totp_secrets
    set last_step = ${step}, confirmed_at = coalesce(confirmed_at, now())
    where user_id = ${userId} and last_step < ${step}
    returning user_id
  `;
  return rows.length === 1;
}

/** Removes the member's TOTP secret. */
export async function deleteTotp(sql: Sql, userId: number): Promise<void> {
  await sql`delete from totp_secrets where user_id = ${userId}`;
}

/** Replaces the member's recovery codes with these (only their hashes are stored). */
export async function replaceRecoveryCodes(
  sql: Sql,
  userId: number,
  codes: readonly string[],
): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`delete from recovery_codes where user_id = ${userId}`;
    await tx`
      insert into recovery_codes ${tx(codes.map((code) => ({ user_id: userId, code_hash: hashSecret(code) })))}
    `;
  });
}

/** Uses one of the member's unused recovery codes; false when it is not one. */
export async function useRecoveryCode(sql: Sql, userId: number, code: string): Promise<boolean> {
  const rows = await sql`
    update recovery_codes
    set used_at = now()
    where id = (
      select id from recovery_codes
      where user_id = ${userId} and code_hash = ${hashSecret(code)} and used_at is null
      limit 1
    )
    returning id
  `;
  return rows.length === 1;
}

/** How many unused recovery codes the member has. */
export async function recoveryCodesLeft(sql: Sql, userId: number): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n from recovery_codes where user_id = ${userId} and used_at is null
  `;
  return row?.n ?? 0;
}

/** Removes every recovery code of the member. */
export async function deleteRecoveryCodes(sql: Sql, userId: number): Promise<void> {
  await sql`delete from recovery_codes where user_id = ${userId}`;
}

/** A registered passkey. */
export interface PasskeyRow {
  id: number;
  credentialId: string;
  publicKey: Uint8Array;
  counter: number;
  transports: string[];
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}

/** The member's passkeys, oldest first. */
export async function passkeysOf(sql: Sql, userId: number): Promise<PasskeyRow[]> {
  return sql<PasskeyRow[]>`
    select id, credential_id, public_key, counter::float8 as counter, transports, name, created_at, last_used_at
    from passkeys
    where user_id = ${userId}
    order by id
  `;
}

/** Stores a new passkey; false when this credential is registered already. */
export async function addPasskey(
  sql: Sql,
  userId: number,
  key: { credentialId: string; publicKey: Uint8Array; counter: number; transports: string[]; name: string },
): Promise<boolean> {
  const rows = await sql`
    insert into passkeys (user_id, credential_id, public_key, counter, transports, name)
    values (${userId}, ${key.credentialId}, ${key.publicKey}, ${key.counter}, ${key.transports}, ${key.name})
    on conflict (credential_id) do nothing
    returning id
  `;
  return rows.length === 1;
}

/** Records a passkey's use and its new signature counter. */
export async function passkeyUsed(sql: Sql, id: number, counter: number): Promise<void> {
  await sql`update passkeys set counter = ${counter}, last_used_at = now() where id = ${id}`;
}

/** Removes one of the member's passkeys; false when they have none with this id. */
export async function deletePasskey(sql: Sql, userId: number, id: number): Promise<boolean> {
  const rows = await sql`delete from passkeys where id = ${id} and user_id = ${userId} returning id`;
  return rows.length === 1;
}

/** Whether the member has a second factor in effect (a confirmed TOTP secret or a passkey). */
export async function hasSecondFactor(sql: Sql, userId: number): Promise<boolean> {
  const [row] = await sql<{ has: boolean }[]>`
    select exists (select 1 from totp_secrets where user_id = ${userId} and confirmed_at is not null)
      or exists (select 1 from passkeys where user_id = ${userId}) as has
  `;
  return row?.has ?? false;
}

/** What waits for a second factor: a log-in, or a passkey being added. */
export type WaitPurpose = "login" | "enrol";

/** Starts a wait for `seconds`, returning its token (only its hash is stored). */
export async function createWait(
  sql: Sql,
  userId: number,
  purpose: WaitPurpose,
  seconds: number,
  challenge: string | null = null,
): Promise<string> {
  const token = newSecret();
  await putWait(sql, token, userId, purpose, seconds, challenge);
  return token;
}

/** Starts a wait under a token the caller chose (replacing one under the same token). */
export async function putWait(
  sql: Sql,
  token: string,
  userId: number,
  purpose: WaitPurpose,
  seconds: number,
  challenge: string | null,
): Promise<void> {
  await sql`delete from second_factor_waits where expires_at < now()`;
  await sql`
    insert into second_factor_waits (token_hash, user_id, purpose, challenge, expires_at)
    values (${hashSecret(token)}, ${userId}, ${purpose}, ${challenge}, now() + make_interval(secs => ${seconds}))
    on conflict (token_hash) do update
      set user_id = excluded.user_id, purpose = excluded.purpose, challenge = excluded.challenge,
        expires_at = excluded.expires_at
  `;
}

/** The live wait of this token and purpose, with its member's name. */
export async function findWait(
  sql: Sql,
  token: string,
  purpose: WaitPurpose,
): Promise<{ userId: number; name: string; challenge: string | null } | null> {
  const [row] = await sql<{ userId: number; name: string; challenge: string | null }[]>`
    select w.user_id, u.name, w.challenge
    from second_factor_waits w
    join users u on u.id = w.user_id
    where w.token_hash = ${hashSecret(token)} and w.purpose = ${purpose} and w.expires_at > now()
      and not u.disabled
  `;
  return row ?? null;
}

/** Sets the WebAuthn challenge a wait's next answer must sign. */
export async function setWaitChallenge(sql: Sql, token: string, challenge: string): Promise<void> {
  await sql`update second_factor_waits set challenge = ${challenge} where token_hash = ${hashSecret(token)}`;
}

/** Takes a wait's challenge: it can be answered once. */
export async function takeWaitChallenge(sql: Sql, token: string): Promise<string | null> {
  const [row] = await sql<{ challenge: string | null }[]>`
    update second_factor_waits w
    set challenge = null
    from (
      select id, challenge from second_factor_waits
      where token_hash = ${hashSecret(token)} and expires_at > now()
      for update
    ) old
    where w.id = old.id
    returning old.challenge
  `;
  return row?.challenge ?? null;
}

/** Ends a wait. */
export async function deleteWait(sql: Sql, token: string): Promise<void> {
  await sql`delete from second_factor_waits where token_hash = ${hashSecret(token)}`;
}
