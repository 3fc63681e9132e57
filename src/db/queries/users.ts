import type { TrackerUser } from "../../shared/channel.ts";
import { newPasskey } from "../../shared/secrets.ts";
import type { Int8, Sql } from "../client.ts";

/** Every role, granted to the first member so someone can run the site. */
export const ALL_ROLES = ["upload", "trusted", "invite", "moderate", "admin"] as const;
export type Role = (typeof ALL_ROLES)[number];

/** Member names: 3 to 32 letters, digits, `_`, `-` or `.`, starting with a letter or digit. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{2,31}$/;
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 1024;

/** Why a name cannot be used, or null. */
export function nameProblem(name: string): string | null {
  if (!NAME_PATTERN.test(name))
    return "Use 3 to 32 letters, digits, '_', '-' or '.', starting with a letter or digit.";
  return null;
}

/** Why a password cannot be used, or null. */
export function passwordProblem(password: string): string | null {
  if (password.length < PASSWORD_MIN) return `Use at least ${PASSWORD_MIN} characters.`;
  if (password.length > PASSWORD_MAX) return `Use at most ${PASSWORD_MAX} characters.`;
  return null;
}

/** A member row as the site uses it. */
export interface UserRow {
  id: number;
  name: string;
  passkey: string;
  disabled: boolean;
  /** Bytes; a BigInt above 2^53. */
  uploaded: Int8;
  downloaded: Int8;
  createdAt: Date;
}

/** Thrown when a name is taken (case-insensitively). */
export class NameTakenError extends Error {}

/**
 * Creates a member with a fresh passkey. The first member ever created gets every role; later
 * ones get `roles`.
 */
export async function createUser(
  sql: Sql,
  input: { name: string; passwordHash: string; roles?: readonly Role[]; grantedBy?: number | null },
): Promise<{ user: UserRow; roles: Role[] }> {
  return sql.begin(async (tx) => {
    // Serialises first-member detection between concurrent sign-ups.
    await tx`lock table users in share row exclusive mode`;
    const [members] = await tx<{ count: number }[]>`select count(*)::int as count from users`;
    const count = members!.count;
    const taken = await tx`select 1 from users where lower(name) = lower(${input.name})`;
    if (taken.length) throw new NameTakenError(`The name ${input.name} is taken.`);
    const [created] = await tx<UserRow[]>`
      insert into users (name, password_hash, passkey)
      values (${input.name}, ${input.passwordHash}, ${newPasskey()})
      returning id, name, passkey, disabled, uploaded, downloaded, created_at
    `;
    const user = created!;
    const roles: Role[] = count === 0 ? [...ALL_ROLES] : [...(input.roles ?? [])];
    if (roles.length) {
      await tx`
        insert into user_roles ${tx(roles.map((role) => ({ userId: user.id, role, grantedBy: input.grantedBy ?? null })))}
      `;
    }
    return { user, roles };
  }) as Promise<{ user: UserRow; roles: Role[] }>;
}

/** Every member as the tracker needs them. */
export async function trackerUsers(sql: Sql): Promise<TrackerUser[]> {
  return await sql<TrackerUser[]>`
    select id, passkey, disabled, downloads_paused as "downloadsPaused", warnings_paused as "warningsPaused"
    from users
  `;
}

/** Number of members. */
export async function countUsers(sql: Sql): Promise<number> {
  const [row] = await sql<{ n: number }[]>`select count(*)::int as n from users`;
  return row!.n;
}

/** One member as the tracker needs them, or null. */
export async function trackerUser(sql: Sql, id: number): Promise<TrackerUser | null> {
  const [row] = await sql<TrackerUser[]>`
    select id, passkey, disabled, downloads_paused as "downloadsPaused", warnings_paused as "warningsPaused"
    from users where id = ${id}
  `;
  return row ?? null;
}
