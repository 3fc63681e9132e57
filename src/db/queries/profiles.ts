import type { Sql } from "../client.ts";
import type { Role } from "./users.ts";

/** A member as their public profile shows them (what is hidden is decided by the site). */
export interface ProfileRow {
  id: number;
  name: string;
  createdAt: Date;
  disabled: boolean;
  roles: Role[];
  invitedBy: number | null;
  inviter: string | null;
  bio: string;
  hideTransfer: boolean;
  uploaded: number;
  downloaded: number;
  snatches: number;
  uploads: number;
}

/** One member's profile by id or by name (any case), or null. */
export async function profileRow(
  sql: Sql,
  who: { id: number } | { name: string },
): Promise<ProfileRow | null> {
  const where = "id" in who ? sql`u.id = ${who.id}` : sql`lower(u.name) = lower(${who.name})`;
  const [row] = await sql<ProfileRow[]>`
    select u.id, u.name, u.created_at, u.disabled, u.invited_by, i.name as inviter,
      u.bio, u.hide_transfer, u.uploaded, u.downloaded,
      array(select role from user_roles r where r.user_id = u.id order by role) as roles,
      (select count(*)::int from user_torrent_stats s where s.user_id = u.id and s.completed_at is not null)
        as snatches,
      (select count(*)::int from torrents t where t.creator_id = u.id) as uploads
    from users u
    left join users i on i.id = u.invited_by
    where ${where}
  `;
  return row ?? null;
}

/** A member's own profile settings. */
export interface ProfileSettings {
  bio: string;
  hideTransfer: boolean;
}

/** A member's bio and whether their transfer figures are hidden, or null. */
export async function profileSettings(sql: Sql, userId: number): Promise<ProfileSettings | null> {
  const [row] = await sql<ProfileSettings[]>`select bio, hide_transfer from users where id = ${userId}`;
  return row ?? null;
}

/** Stores a member's bio and transfer setting. */
export async function setProfile(sql: Sql, userId: number, settings: ProfileSettings): Promise<void> {
  await sql`
    update users set bio = ${settings.bio}, hide_transfer = ${settings.hideTransfer}
    where id = ${userId}
  `;
}
