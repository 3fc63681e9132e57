import { hashSecret, newPasskey, newSecret } from "../../shared/secrets.ts";
import type { Sql } from "../client.ts";
import type { SessionUser } from "./sessions.ts";

/** Every API token starts with this, so a leaked one is easy to recognise (and to scan for). */
export const TOKEN_PREFIX = "fw_";
/** Tokens one member may hold at a time. */
export const MAX_TOKENS = 50;
/** Longest token name. */
export const TOKEN_NAME_MAX = 64;
/** A token's last use is written at most this often, so busy clients do not write on every call. */
export const LAST_USED_RESOLUTION_SECONDS = 60;

/** An API token as its owner's list shows it (the token itself is never stored). */
export interface TokenRow {
  id: number;
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}

/** A new token as its owner sees it once. */
export interface NewToken extends TokenRow {
  token: string;
}

/** The member behind an API token, and which token it was. */
export interface TokenUser extends SessionUser {
  tokenId: number;
}

/** Whether `text` could be an API token at all (checked before any database lookup). */
export function looksLikeToken(text: string): boolean {
  return text.startsWith(TOKEN_PREFIX) && /^[A-Za-z0-9_-]{20,100}$/.test(text);
}

/**
 * Creates a token named `name` for a member, unless they already hold `max` (null then). The
 * member's row is locked meanwhile, so concurrent requests cannot both pass the count.
 */
export async function createToken(
  sql: Sql,
  userId: number,
  name: string,
  max = MAX_TOKENS,
): Promise<NewToken | null> {
  return (await sql.begin(async (tx) => {
    await tx`select id from users where id = ${userId} for update`;
    const [held] = await tx<
      { n: number }[]
    >`select count(*)::int as n from api_tokens where user_id = ${userId}`;
    if (held!.n >= max) return null;
    const token = TOKEN_PREFIX + newSecret();
    const [row] = await tx<TokenRow[]>`
      insert into api_tokens (user_id, name, token_hash)
      values (${userId}, ${name}, ${hashSecret(token)})
      returning id, name, created_at, last_used_at
    `;
    return { ...row!, token };
  })) as NewToken | null;
}

/** A member's tokens, newest first. */
export async function memberTokens(sql: Sql, userId: number): Promise<TokenRow[]> {
  return await sql<TokenRow[]>`
    select id, name, created_at, last_used_at from api_tokens
    where user_id = ${userId}
    order by created_at desc, id desc
  `;
}

/** Revokes (deletes) one of a member's tokens; false when they have no such token. */
export async function revokeToken(sql: Sql, id: number, userId: number): Promise<boolean> {
  const rows = await sql`delete from api_tokens where id = ${id} and user_id = ${userId} returning id`;
  return rows.length > 0;
}

/**
 * The enabled member holding this token, or null. Records the use, but writes the time only when
 * the last recorded one is older than LAST_USED_RESOLUTION_SECONDS: one statement, and no write at
 * all for the other calls of that minute.
 */
export async function tokenUser(sql: Sql, token: string): Promise<TokenUser | null> {
  const [row] = await sql<TokenUser[]>`
    with found as (
      select t.id as token_id, u.id, u.name, u.passkey
      from api_tokens t
      join users u on u.id = t.user_id
      where t.token_hash = ${hashSecret(token)} and not u.disabled
    ), touched as (
      update api_tokens set last_used_at = now()
      where id = (select token_id from found)
        and (last_used_at is null
          or last_used_at < now() - make_interval(secs => ${LAST_USED_RESOLUTION_SECONDS}))
      returning id
    )
    select f.token_id, f.id, f.name, f.passkey,
      array(select role from user_roles r where r.user_id = f.id order by role) as roles
    from found f
  `;
  return row ?? null;
}

/** A member's RSS key (every member has one). */
export async function rssKey(sql: Sql, userId: number): Promise<string | null> {
  const [row] = await sql<{ rssKey: string }[]>`select rss_key from users where id = ${userId}`;
  return row?.rssKey ?? null;
}

/** Gives a member a new RSS key, so the old feed address stops working; returns it. */
export async function rotateRssKey(sql: Sql, userId: number): Promise<string> {
  const key = newPasskey();
  await sql`update users set rss_key = ${key} where id = ${userId}`;
  return key;
}

/** The enabled member whose feed this key opens, or null. */
export async function rssUser(
  sql: Sql,
  key: string,
): Promise<{ id: number; name: string; passkey: string } | null> {
  if (!/^[0-9a-f]{32}$/.test(key)) return null;
  const [row] = await sql<
    { id: number; name: string; passkey: string }[]
  >`select id, name, passkey from users where rss_key = ${key} and not disabled`;
  return row ?? null;
}
