import { hashSecret, newSecret } from "../../shared/secrets.ts";
import type { Sql } from "../client.ts";
import type { Role } from "./users.ts";

/** How long a log-in lasts without being used. */
export const SESSION_DAYS = 30;

/** The member behind a session, as pages need them. */
export interface SessionUser {
  id: number;
  name: string;
  passkey: string;
  roles: Role[];
  /** Private messages the member has not read. */
  unreadMessages: number;
  /** Staff conversations with messages no staff member has read (0 for members who are not staff). */
  staffUnread: number;
}

/** Starts a session; returns the token for the cookie (only its hash is stored). */
export async function createSession(sql: Sql, userId: number): Promise<string> {
  const token = newSecret();
  await sql`
    insert into sessions (token_hash, user_id, expires_at)
    values (${hashSecret(token)}, ${userId}, now() + make_interval(days => ${SESSION_DAYS}))
  `;
  return token;
}

/**
 * The member of a live session whose account is enabled, or null. Extends the session's life, at
 * most once a minute: most page loads only read, so members' clicks never queue behind writes of
 * the same row.
 */
export async function sessionUser(sql: Sql, token: string): Promise<SessionUser | null> {
  const [row] = await sql<SessionUser[]>`
    with live as (
      select s.token_hash, s.last_seen_at, u.id, u.name, u.passkey
      from sessions s
      join users u on u.id = s.user_id
      where s.token_hash = ${hashSecret(token)}
        and s.expires_at > now()
        and not u.disabled
    ), touched as (
      update sessions s
      set last_seen_at = now(), expires_at = now() + make_interval(days => ${SESSION_DAYS})
      from live
      where s.token_hash = live.token_hash and live.last_seen_at < now() - interval '1 minute'
    )
    select id, name, passkey,
      array(select role from user_roles r where r.user_id = live.id order by role) as roles,
      (select coalesce(sum(m.unread), 0)::int from conversation_members m
        where m.user_id = live.id and m.unread > 0) as unread_messages,
      case when exists (
        select 1 from user_roles r where r.user_id = live.id and r.role in ('moderate', 'admin')
      ) then (select count(*)::int from conversations c where c.kind = 'staff' and c.staff_unread > 0)
      else 0 end as staff_unread
    from live
  `;
  return row ?? null;
}

/** Ends one session. */
export async function deleteSession(sql: Sql, token: string): Promise<void> {
  await sql`delete from sessions where token_hash = ${hashSecret(token)}`;
}

/** Ends every session of a member except, optionally, one. */
export async function deleteOtherSessions(sql: Sql, userId: number, keepToken?: string): Promise<void> {
  if (keepToken)
    await sql`delete from sessions where user_id = ${userId} and token_hash <> ${hashSecret(keepToken)}`;
  else await sql`delete from sessions where user_id = ${userId}`;
}

/**
 * Leaves a note (already sealed) for the next page of this session, replacing any, for `seconds`;
 * notes left to expire by other sessions are cleared on the way.
 */
export async function leaveSessionNote(sql: Sql, token: string, sealed: Uint8Array, seconds: number) {
  await sql`delete from session_notes where expires_at < now()`;
  await sql`
    insert into session_notes (session_id, sealed, expires_at)
    select id, ${sealed}, now() + make_interval(secs => ${seconds})
    from sessions
    where token_hash = ${hashSecret(token)}
    on conflict (session_id) do update set sealed = excluded.sealed, expires_at = excluded.expires_at
  `;
}

/** Takes the session's note: it is gone after this read. Null when there is none or it expired. */
export async function takeSessionNote(sql: Sql, token: string): Promise<Uint8Array | null> {
  const [row] = await sql<{ sealed: Uint8Array; live: boolean }[]>`
    delete from session_notes n
    using sessions s
    where s.token_hash = ${hashSecret(token)} and n.session_id = s.id
    returning n.sealed, n.expires_at > now() as live
  `;
  return row?.live ? row.sealed : null;
}
