import { hashSecret, newPasskey, newSecret } from "../../shared/secrets.ts";
import type { Sql } from "../client.ts";
import { ALL_ROLES, NameTakenError, type Role } from "./users.ts";

/** Days an invite may stay open: the range offered, and the default. */
export const INVITE_DAYS_MIN = 1;
export const INVITE_DAYS_MAX = 30;
export const INVITE_DAYS_DEFAULT = 7;
/** Open (unused, unrevoked, unexpired) invites one member may have at a time. */
export const MAX_PENDING_INVITES = 20;
/** Roles of a member who joins through an invite (the very first member gets every role). */
export const INVITED_ROLES: readonly Role[] = ["upload"];

/** A new invite as its creator sees it once: the secret is not stored, only its hash. */
export interface NewInvite {
  id: number;
  secret: string;
  expiresAt: Date;
}

/**
 * Creates an invite open for `days` days. `inviterId` null makes a bootstrap invite (the server
 * prints one on first start, when there are no members).
 */
export async function createInvite(
  sql: Sql,
  input: { inviterId: number | null; days: number },
): Promise<NewInvite> {
  const secret = newSecret();
  const [row] = await sql<{ id: number; expiresAt: Date }[]>`
    insert into invites (secret_hash, inviter_id, expires_at)
    values (${hashSecret(secret)}, ${input.inviterId}, now() + make_interval(days => ${input.days}))
    returning id, expires_at
  `;
  return { id: row!.id, secret, expiresAt: row!.expiresAt };
}

/**
 * Creates an invite for a member unless they already have `max` open ones (null then). The
 * member's row is locked meanwhile, so concurrent requests cannot both pass the count.
 */
export async function createMemberInvite(
  sql: Sql,
  input: { inviterId: number; days: number; max?: number },
): Promise<NewInvite | null> {
  const max = input.max ?? MAX_PENDING_INVITES;
  return (await sql.begin(async (tx) => {
    await tx`select id from users where id = ${input.inviterId} for update`;
    const [open] = await tx<{ n: number }[]>`
      select count(*)::int as n from invites
      where inviter_id = ${input.inviterId}
        and claimed_at is null and revoked_at is null and expires_at > now()
    `;
    if (open!.n >= max) return null;
    const secret = newSecret();
    const [row] = await tx<{ id: number; expiresAt: Date }[]>`
      insert into invites (secret_hash, inviter_id, expires_at)
      values (${hashSecret(secret)}, ${input.inviterId}, now() + make_interval(days => ${input.days}))
      returning id, expires_at
    `;
    return { id: row!.id, secret, expiresAt: row!.expiresAt };
  })) as NewInvite | null;
}

/** An invite as its creator's list shows it. */
export interface InviteRow {
  id: number;
  createdAt: Date;
  expiresAt: Date;
  claimedAt: Date | null;
  inviteeId: number | null;
  invitee: string | null;
}

/** A member's open invites (oldest first) and used ones (latest first). */
export async function memberInvites(
  sql: Sql,
  inviterId: number,
): Promise<{ pending: InviteRow[]; used: InviteRow[] }> {
  const pending = await sql<InviteRow[]>`
    select id, created_at, expires_at, claimed_at, invitee_id, null::text as invitee
    from invites
    where inviter_id = ${inviterId}
      and claimed_at is null and revoked_at is null and expires_at > now()
    order by created_at, id
  `;
  const used = await sql<InviteRow[]>`
    select i.id, i.created_at, i.expires_at, i.claimed_at, i.invitee_id, u.name as invitee
    from invites i
    left join users u on u.id = i.invitee_id
    where i.inviter_id = ${inviterId} and i.claimed_at is not null
    order by i.claimed_at desc, i.id desc
    limit 500
  `;
  return { pending, used };
}

/** Revokes one of a member's open invites; false when there is no such open invite of theirs. */
export async function revokeInvite(sql: Sql, id: number, inviterId: number): Promise<boolean> {
  const rows = await sql`
    update invites set revoked_at = now()
    where id = ${id} and inviter_id = ${inviterId}
      and claimed_at is null and revoked_at is null and expires_at > now()
    returning id
  `;
  return rows.length > 0;
}

/** What an invite link leads to. */
export type InviteState =
  | "open"
  | "used"
  | "revoked"
  | "expired"
  /** The inviter is disabled or lost the invite role: their invites stop working at once. */
  | "withdrawn"
  /** A first-account link (no inviter) once any member exists. */
  | "first_done"
  | "unknown";

/** The state of the invite with this secret, and who made it. */
export async function inviteBySecret(
  sql: Sql,
  secret: string,
): Promise<{ state: InviteState; inviter: string | null }> {
  const [row] = await sql<
    {
      used: boolean;
      revoked: boolean;
      expired: boolean;
      withdrawn: boolean;
      firstDone: boolean;
      inviter: string | null;
    }[]
  >`
    select i.claimed_at is not null as used, i.revoked_at is not null as revoked,
      i.expires_at <= now() as expired, u.name as inviter,
      ${withdrawn(sql)} as withdrawn,
      i.inviter_id is null and exists (select 1 from users) as first_done
    from invites i
    left join users u on u.id = i.inviter_id
    where i.secret_hash = ${hashSecret(secret)}
  `;
  if (!row) return { state: "unknown", inviter: null };
  const state: InviteState = row.used
    ? "used"
    : row.revoked
      ? "revoked"
      : row.expired
        ? "expired"
        : row.withdrawn
          ? "withdrawn"
          : row.firstDone
            ? "first_done"
            : "open";
  return { state, inviter: row.inviter ?? null };
}

/**
 * Whether invite `i`'s inviter (joined as `u`) may no longer invite: disabled, or without the
 * invite role (an invite bought with bonus points needs no role: the member paid for it, and only
 * disabling withdraws it). Their open invites stop working at once, without being revoked.
 */
function withdrawn(sql: Sql) {
  return sql`(i.inviter_id is not null and (
    u.id is null or u.disabled
    or (
      not exists (select 1 from user_roles r where r.user_id = i.inviter_id and r.role = 'invite')
      and not exists (select 1 from bonus_ledger b where b.invite_id = i.id and b.reason = 'invite')
    )
  ))`;
}

/** Thrown when an invite can no longer be used at the moment of claiming it. */
export class InviteClosedError extends Error {
  constructor(
    message: string,
    /** Why, when it is not the invite's own state (used, revoked, expired). */
    readonly state?: "withdrawn" | "first_done",
  ) {
    super(message);
  }
}

/**
 * Creates a member through an invite and claims it, in one transaction: of two registrations
 * through one link exactly one succeeds (the other gets InviteClosedError), and a taken name
 * (NameTakenError) leaves the invite open. The new member points back to the inviter and gets
 * INVITED_ROLES, or every role when they are the very first member.
 */
export async function registerWithInvite(
  sql: Sql,
  input: { secret: string; name: string; passwordHash: string },
): Promise<{ id: number; name: string; roles: Role[]; inviterId: number | null }> {
  return (await sql.begin(async (tx) => {
    // As in createUser: serialises first-member detection and name checks between sign-ups.
    await tx`lock table users in share row exclusive mode`;
    const [invite] = await tx<{ id: number; inviterId: number | null; withdrawn: boolean }[]>`
      select i.id, i.inviter_id, ${withdrawn(tx as unknown as Sql)} as withdrawn
      from invites i
      left join users u on u.id = i.inviter_id
      where i.secret_hash = ${hashSecret(input.secret)}
        and i.claimed_at is null and i.revoked_at is null and i.expires_at > now()
      for update of i
    `;
    if (!invite) throw new InviteClosedError("This invite can no longer be used.");
    if (invite.withdrawn)
      throw new InviteClosedError("The member who made this invite may no longer invite.", "withdrawn");
    const inviterId = invite.inviterId;
    const taken = await tx`select 1 from users where lower(name) = lower(${input.name})`;
    if (taken.length) throw new NameTakenError(`The name ${input.name} is taken.`);
    const [members] = await tx<{ count: number }[]>`select count(*)::int as count from users`;
    const count = members!.count;
    // A first-account link makes the first member only: printed by an earlier start, it must not
    // make another once anyone is here (the users table is locked above, so two cannot race).
    if (inviterId === null && count > 0)
      throw new InviteClosedError("The site's first account exists already.", "first_done");
    const [user] = await tx<{ id: number; name: string }[]>`
      insert into users (name, password_hash, passkey, invited_by)
      values (${input.name}, ${input.passwordHash}, ${newPasskey()}, ${inviterId})
      returning id, name
    `;
    const id = user!.id;
    const claimed = await tx`
      update invites set claimed_at = now(), invitee_id = ${id}
      where id = ${invite.id} and claimed_at is null and revoked_at is null and expires_at > now()
      returning id
    `;
    if (claimed.length === 0) throw new InviteClosedError("This invite can no longer be used.");
    const roles: Role[] = count === 0 ? [...ALL_ROLES] : [...INVITED_ROLES];
    await tx`
      insert into user_roles ${tx(roles.map((role) => ({ userId: id, role, grantedBy: inviterId })))}
    `;
    return { id, name: user!.name, roles, inviterId };
  })) as { id: number; name: string; roles: Role[]; inviterId: number | null };
}

/** A member in the invite tree. */
export interface InviteTreeRow {
  id: number;
  name: string;
  invitedBy: number | null;
  disabled: boolean;
  createdAt: Date;
  /** Open invites of theirs (unused, unrevoked, unexpired). */
  openInvites: number;
  canInvite: boolean;
}

/** Every member (at most `limit`, oldest first) with who invited them, for the invite tree. */
export async function inviteTree(sql: Sql, limit: number): Promise<InviteTreeRow[]> {
  return await sql<InviteTreeRow[]>`
    select u.id, u.name, u.invited_by, u.disabled, u.created_at,
      (
        select count(*)::int from invites i
        where i.inviter_id = u.id and i.claimed_at is null and i.revoked_at is null and i.expires_at > now()
      ) as open_invites,
      exists (select 1 from user_roles r where r.user_id = u.id and r.role = 'invite') as can_invite
    from users u
    order by u.created_at, u.id
    limit ${limit}
  `;
}

/** Revokes every open invite of a member; returns the ids revoked. */
export async function revokeOpenInvites(sql: Sql, inviterId: number): Promise<number[]> {
  const rows = await sql<{ id: number }[]>`
    update invites set revoked_at = now()
    where inviter_id = ${inviterId} and claimed_at is null and revoked_at is null and expires_at > now()
    returning id
  `;
  return rows.map((r) => Number(r.id));
}
