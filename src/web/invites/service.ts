import {
  createMemberInvite,
  INVITE_DAYS_DEFAULT,
  INVITE_DAYS_MAX,
  INVITE_DAYS_MIN,
  InviteClosedError,
  type InviteState,
  inviteBySecret,
  MAX_PENDING_INVITES,
  memberInvites,
  type NewInvite,
  registerWithInvite,
  revokeInvite,
} from "../../db/queries/invites.ts";
import { createSession } from "../../db/queries/sessions.ts";
import { NameTakenError } from "../../db/queries/users.ts";
import { hashPassword } from "../../shared/secrets.ts";
import type { WebDeps } from "../deps.ts";
import { NAME_TAKEN, newMemberProblems } from "../members/service.ts";

/** The days an invite may stay open (and the default), and how many may be open at once. */
export const INVITE_LIMITS = {
  daysMin: INVITE_DAYS_MIN,
  daysMax: INVITE_DAYS_MAX,
  daysDefault: INVITE_DAYS_DEFAULT,
  maxPending: MAX_PENDING_INVITES,
} as const;

/** Secrets are 43 characters; anything much longer is not worth a database lookup. */
const SECRET_MAX = 100;

/** Why an invite link cannot be used. */
export type ClosedState = Exclude<InviteState, "open">;

/** The registration page of an invite. */
export function inviteLink(siteRoot: string, secret: string): string {
  return `${siteRoot}/register/${secret}`;
}

/** A member's open invites (oldest first) and used ones (latest first). */
export function invitesOf(deps: WebDeps, userId: number) {
  return memberInvites(deps.sql, userId);
}

/** A new invite (its secret shown once), or why not. */
export type InviteResult =
  | { ok: true; invite: NewInvite }
  | { ok: false; status: 409 | 422; field: "days" | "form"; message: string };

/** Makes an invite open for `days` days, unless the member has the most open invites allowed. */
export async function makeInvite(deps: WebDeps, inviterId: number, days: number): Promise<InviteResult> {
  if (!(Number.isInteger(days) && days >= INVITE_DAYS_MIN && days <= INVITE_DAYS_MAX))
    return {
      ok: false,
      status: 422,
      field: "days",
      message: `Enter a whole number of days from ${INVITE_DAYS_MIN} to ${INVITE_DAYS_MAX}.`,
    };
  const invite = await createMemberInvite(deps.sql, { inviterId, days });
  if (!invite)
    return {
      ok: false,
      status: 409,
      field: "form",
      message: `You have ${MAX_PENDING_INVITES} open invites, the most allowed. Revoke one or wait until one is used or expires.`,
    };
  return { ok: true, invite };
}

/** Revokes one of the member's open invites; false when they have no such open invite. */
export function revokeMemberInvite(deps: WebDeps, userId: number, inviteId: number): Promise<boolean> {
  return revokeInvite(deps.sql, inviteId, userId);
}

/** The state of the invite with this secret, and who made it. */
export function inviteStatus(
  deps: WebDeps,
  secret: string,
): Promise<{ state: InviteState; inviter: string | null }> {
  if (secret.length === 0 || secret.length > SECRET_MAX)
    return Promise.resolve({ state: "unknown", inviter: null });
  return inviteBySecret(deps.sql, secret);
}

/** A registration that made a member and a session for them, or why not. */
export type RegisterResult =
  | { ok: true; userId: number; sessionToken: string }
  | { ok: false; problem: "closed"; state: ClosedState }
  | { ok: false; problem: "invalid"; status: 409 | 422; fields: Record<string, string> };

/**
 * Registers a member through an invite, for the page and the API alike: the invite must be open,
 * the name and password pass the new-member checks (`confirm`, when sent, repeats the password).
 * The member is announced to the tracker and logged in.
 */
export async function register(
  deps: WebDeps,
  input: { secret: string; name: string; password: string; confirm?: string },
): Promise<RegisterResult> {
  const { state } = await inviteStatus(deps, input.secret);
  if (state !== "open") return { ok: false, problem: "closed", state };
  const name = input.name.trim();
  const fields = await newMemberProblems(deps, { name, password: input.password, confirm: input.confirm });
  const invalid = (problems: Record<string, string>): RegisterResult => {
    const keys = Object.keys(problems);
    const status = keys.length === 1 && problems.name === NAME_TAKEN ? 409 : 422;
    return { ok: false, problem: "invalid", status, fields: problems };
  };
  if (Object.keys(fields).length) return invalid(fields);
  let id: number;
  try {
    ({ id } = await registerWithInvite(deps.sql, {
      secret: input.secret,
      name,
      passwordHash: await hashPassword(input.password, deps.pepper),
    }));
  } catch (error) {
    if (error instanceof NameTakenError) return invalid({ name: NAME_TAKEN });
    if (!(error instanceof InviteClosedError)) throw error;
    // Claimed, revoked or expired since the check above: say which.
    const now = await inviteStatus(deps, input.secret);
    return { ok: false, problem: "closed", state: now.state === "open" ? "used" : now.state };
  }
  await deps.sync.user(id);
  return { ok: true, userId: id, sessionToken: await createSession(deps.sql, id) };
}
