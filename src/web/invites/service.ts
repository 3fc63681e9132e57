import type { Sql } from "../../db/client.ts";
import {
  createMemberInvite,
  INVITE_DAYS_DEFAULT,
  INVITE_DAYS_MAX,
  INVITE_DAYS_MIN,
  InviteClosedError,
  type InviteState,
  type InviteTreeRow,
  inviteBySecret,
  inviteTree,
  MAX_PENDING_INVITES,
  memberInvites,
  type NewInvite,
  registerWithInvite,
  revokeInvite,
  revokeOpenInvites,
} from "../../db/queries/invites.ts";
import { createSession } from "../../db/queries/sessions.ts";
import { NameTakenError } from "../../db/queries/users.ts";
import { hashPassword } from "../../shared/secrets.ts";
import { type Actor, isStaff } from "../access.ts";
import { recordStaffAction } from "../audit/service.ts";
import type { WebDeps } from "../deps.ts";
import { NAME_TAKEN, newMemberProblems, newMemberRefusal } from "../members/service.ts";
import { type Refused, type Result, refuse, refuseFields } from "../refusal.ts";

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
export type InviteResult = Result<{ invite: NewInvite }>;

/** Makes an invite open for `days` days, unless the member has the most open invites allowed. */
export async function makeInvite(deps: WebDeps, inviterId: number, days: number): Promise<InviteResult> {
  if (!(Number.isInteger(days) && days >= INVITE_DAYS_MIN && days <= INVITE_DAYS_MAX))
    return refuseFields({
      days: `Enter a whole number of days from ${INVITE_DAYS_MIN} to ${INVITE_DAYS_MAX}.`,
    });
  const invite = await createMemberInvite(deps.sql, { inviterId, days });
  if (!invite)
    return refuse(
      "conflict",
      `You have ${MAX_PENDING_INVITES} open invites, the most allowed. Revoke one or wait until one is used or expires.`,
    );
  return { ok: true, invite };
}

/** Revokes one of the member's open invites. */
export async function revokeMemberInvite(deps: WebDeps, userId: number, inviteId: number): Promise<Result> {
  if (await revokeInvite(deps.sql, inviteId, userId)) return { ok: true };
  return refuse("not_found", "You have no open invite with this number.");
}

const CLOSED: Record<Exclude<ClosedState, "unknown">, string> = {
  used: "This invite was used already.",
  revoked: "This invite was revoked by the member who made it.",
  expired: "This invite has expired.",
  withdrawn:
    "The member who made this invite may no longer invite (disabled, or the invite role revoked): ask another member.",
  first_done: "This first-account link cannot be used: the site's first account exists already.",
};

/** The refusal of an invite that cannot be used, with its state (the page words it by the state). */
export function inviteClosed(state: ClosedState): Refused & { state: ClosedState } {
  const refused =
    state === "unknown"
      ? refuse("not_found", "There is no invite with this secret.")
      : refuse("gone", CLOSED[state]);
  return { ...refused, state };
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
  | Result<{ userId: number; sessionToken: string }>
  | ReturnType<typeof inviteClosed>;

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
  if (state !== "open") return inviteClosed(state);
  const name = input.name.trim();
  const fields = await newMemberProblems(deps, { name, password: input.password, confirm: input.confirm });
  if (Object.keys(fields).length) return newMemberRefusal(fields);
  let id: number;
  try {
    ({ id } = await registerWithInvite(deps.sql, {
      secret: input.secret,
      name,
      passwordHash: await hashPassword(input.password, deps.pepper),
    }));
  } catch (error) {
    if (error instanceof NameTakenError) return newMemberRefusal({ name: NAME_TAKEN });
    if (!(error instanceof InviteClosedError)) throw error;
    if (error.state) return inviteClosed(error.state);
    // Claimed, revoked or expired since the check above: say which.
    const now = await inviteStatus(deps, input.secret);
    return inviteClosed(now.state === "open" ? "used" : now.state);
  }
  await deps.sync.user(id);
  return { ok: true, userId: id, sessionToken: await createSession(deps.sql, id) };
}

/** Most members the invite tree shows. */
export const TREE_MAX = 5000;

/** A member in the invite tree with those they invited. */
export interface TreeNode extends InviteTreeRow {
  invitees: TreeNode[];
}

/**
 * Who invited whom, for staff: members with no inviter (the first, those an administrator made)
 * at the roots, each with those they invited, oldest first.
 */
export async function invitationTree(
  deps: WebDeps,
  actor: Actor,
): Promise<Result<{ roots: TreeNode[]; members: number }>> {
  if (!isStaff(actor)) return refuse("forbidden", "Only moderators and administrators see the invite tree.");
  const rows = await inviteTree(deps.sql, TREE_MAX);
  const nodes = new Map<number, TreeNode>(rows.map((r) => [r.id, { ...r, invitees: [] }]));
  const roots: TreeNode[] = [];
  for (const node of nodes.values()) {
    const parent = node.invitedBy !== null ? nodes.get(node.invitedBy) : undefined;
    if (parent && parent !== node) parent.invitees.push(node);
    else roots.push(node);
  }
  return { ok: true, roots, members: rows.length };
}

/** Staff revoke every open invite of a member (recorded in the staff log with the invites' numbers). */
export async function revokeAllInvites(
  deps: WebDeps,
  actor: Actor,
  memberId: number,
): Promise<Result<{ revoked: number }>> {
  if (!isStaff(actor))
    return refuse("forbidden", "Only moderators and administrators revoke other members' invites.");
  const revoked = await deps.sql.begin(async (tx) => {
    const ids = await revokeOpenInvites(tx as unknown as Sql, memberId);
    if (ids.length === 0) return ids;
    await recordStaffAction(tx, {
      actorId: actor.id,
      action: "invite.revoke",
      targetType: "member",
      targetId: memberId,
      before: { openInvites: ids },
      after: { openInvites: [] },
    });
    return ids;
  });
  if (revoked.length === 0) return refuse("not_found", "This member has no open invite.");
  return { ok: true, revoked: revoked.length };
}
