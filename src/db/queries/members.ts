import { newPasskey } from "../../shared/secrets.ts";
import type { Int8, Sql } from "../client.ts";
import type { Role } from "./users.ts";

/** A member with what their account page and the administration pages show. */
export interface MemberDetail {
  id: number;
  name: string;
  passkey: string;
  disabled: boolean;
  /** Bytes; a BigInt above 2^53. */
  uploaded: Int8;
  downloaded: Int8;
  createdAt: Date;
  invitedBy: number | null;
  inviter: string | null;
  roles: Role[];
  snatches: number;
}

/** One member with totals, roles and inviter, or null. */
export async function memberDetail(sql: Sql, id: number): Promise<MemberDetail | null> {
  const [row] = await sql<MemberDetail[]>`
    select u.id, u.name, u.passkey, u.disabled, u.uploaded, u.downloaded, u.created_at,
      u.invited_by, i.name as inviter,
      array(select role from user_roles r where r.user_id = u.id order by role) as roles,
      (select count(*)::int from user_torrent_stats s where s.user_id = u.id and s.completed_at is not null)
        as snatches
    from users u
    left join users i on i.id = u.invited_by
    where u.id = ${id}
  `;
  return row ?? null;
}

/** A torrent a member uploaded, as their account page lists it. */
export interface UploadRow {
  id: number;
  title: string;
  size: number;
  createdAt: Date;
  /** pending, approved or rejected (sql/023_moderation.sql). */
  moderation: "pending" | "approved" | "rejected";
  /** The reason of a rejection or the note of a postponement. */
  moderationNote: string;
}

/**
 * A member's uploads, newest first (at most `limit`), and how many there are in all; with
 * `approvedOnly`, only those past moderation (what other members may see).
 */
export async function memberUploads(
  sql: Sql,
  userId: number,
  limit = 100,
  approvedOnly = false,
): Promise<{ rows: UploadRow[]; total: number }> {
  const approved = approvedOnly ? sql`and moderation = 'approved'` : sql``;
  const rows = await sql<UploadRow[]>`
    select id, title, size, created_at, moderation, moderation_note from torrents
    where creator_id = ${userId} ${approved}
    order by created_at desc, id desc
    limit ${limit}
  `;
  const [count] = await sql<
    { n: number }[]
  >`select count(*)::int as n from torrents where creator_id = ${userId} ${approved}`;
  return { rows, total: count!.n };
}

/** Gives a member a new passkey; returns it. */
export async function rotatePasskey(sql: Sql, userId: number): Promise<string> {
  const passkey = newPasskey();
  await sql`update users set passkey = ${passkey} where id = ${userId}`;
  return passkey;
}

/** A member's stored password hash, or null. */
export async function passwordHash(sql: Sql, userId: number): Promise<string | null> {
  const [row] = await sql<{ passwordHash: string }[]>`select password_hash from users where id = ${userId}`;
  return row?.passwordHash ?? null;
}

/** Replaces a member's password hash. */
export async function setPasswordHash(sql: Sql, userId: number, hash: string): Promise<void> {
  await sql`update users set password_hash = ${hash} where id = ${userId}`;
}

/** A member as the administration list shows them. */
export interface MemberRow {
  id: number;
  name: string;
  disabled: boolean;
  /** Bytes; a BigInt above 2^53. */
  uploaded: Int8;
  downloaded: Int8;
  createdAt: Date;
  inviter: string | null;
  roles: Role[];
}

/** `text` for a LIKE pattern that matches it literally (`%`, `_` and `\` escaped). */
export function likeLiteral(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** Orders of the member list. */
export const MEMBER_SORTS = ["name", "joined", "uploaded", "downloaded"] as const;
export type MemberSort = (typeof MEMBER_SORTS)[number];

/**
 * One page of members, by name unless `sort` says otherwise, optionally only those whose name
 * contains `search` (any case). Fetches one row more than `limit` so the caller knows whether a
 * next page exists. (Members are few next to torrents: the orders other than by name sort the
 * matching rows.)
 */
export async function listMembers(
  sql: Sql,
  options: { search?: string; sort?: MemberSort; order?: "asc" | "desc"; limit: number; offset: number },
): Promise<MemberRow[]> {
  const pattern = options.search ? `%${likeLiteral(options.search)}%` : null;
  const dir = options.order === "desc" ? sql`desc` : sql`asc`;
  const order = {
    name: sql`lower(u.name) ${dir}, u.id ${dir}`,
    joined: sql`u.created_at ${dir}, u.id ${dir}`,
    uploaded: sql`u.uploaded ${dir}, u.id ${dir}`,
    downloaded: sql`u.downloaded ${dir}, u.id ${dir}`,
  }[options.sort ?? "name"];
  return await sql<MemberRow[]>`
    select u.id, u.name, u.disabled, u.uploaded, u.downloaded, u.created_at, i.name as inviter,
      array(select role from user_roles r where r.user_id = u.id order by role) as roles
    from users u
    left join users i on i.id = u.invited_by
    where true ${pattern ? sql`and u.name ilike ${pattern}` : sql``}
    order by ${order}
    limit ${options.limit + 1}
    offset ${options.offset}
  `;
}

/** Grants a role (no change when the member has it already); false when nothing changed. */
export async function grantRole(sql: Sql, userId: number, role: Role, grantedBy: number): Promise<boolean> {
  const rows = await sql`
    insert into user_roles (user_id, role, granted_by) values (${userId}, ${role}, ${grantedBy})
    on conflict (user_id, role) do nothing
    returning role
  `;
  return rows.length > 0;
}

/** Revokes a role; false when the member did not have it. */
export async function revokeRole(sql: Sql, userId: number, role: Role): Promise<boolean> {
  const rows = await sql`delete from user_roles where user_id = ${userId} and role = ${role} returning role`;
  return rows.length > 0;
}

/** Disables or enables a member; disabling also ends every session of theirs. */
export async function setDisabled(sql: Sql, userId: number, disabled: boolean): Promise<void> {
  // One statement, so it is whole on its own and inside a caller's transaction alike.
  await sql`
    with changed as (update users set disabled = ${disabled} where id = ${userId} returning id)
    delete from sessions where ${disabled} and user_id in (select id from changed)
  `;
}

/** Whether a member already has this name, in any case. */
export async function nameTaken(sql: Sql, name: string): Promise<boolean> {
  const rows = await sql`select 1 from users where lower(name) = lower(${name})`;
  return rows.length > 0;
}
