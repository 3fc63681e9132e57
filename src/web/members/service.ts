import {
  grantRole,
  listMembers,
  type MemberDetail,
  type MemberRow,
  type MemberSort,
  memberDetail,
  nameTaken,
  revokeRole,
  setDisabled,
} from "../../db/queries/members.ts";
import {
  ALL_ROLES,
  createUser,
  NameTakenError,
  nameProblem,
  PASSWORD_MAX,
  PASSWORD_MIN,
  passwordProblem,
  type Role,
} from "../../db/queries/users.ts";
import { hashPassword } from "../../shared/secrets.ts";
import { type Actor, isStaff } from "../access.ts";
import type { WebDeps } from "../deps.ts";
import { sendSystemMessage } from "../messages/service.ts";
import { NO_MEMBER, type Refused, type Result, refuse, refuseField, refuseFields } from "../refusal.ts";

/** Members per page of the staff list. */
export const MEMBERS_PER_PAGE = 50;
/** Shortest and longest password, for the forms that set one. */
export const PASSWORD_LIMITS = { min: PASSWORD_MIN, max: PASSWORD_MAX } as const;
export const NAME_TAKEN = "This name is taken: choose another.";

const HELP: Record<Role, string> = {
  upload: "may upload torrents",
  invite: "may create invites",
  moderate: "may edit and delete any torrent and disable or enable members",
  admin: "may grant and revoke roles",
};
/** What each role allows, in the order the member page lists them. */
export const ROLE_HELP: readonly { name: Role; help: string }[] = ALL_ROLES.map((name) => ({
  name,
  help: HELP[name],
}));

/** A change to a member that was made (with the member as it is now), or why not. */
export type MemberChange = Result<{ member: MemberDetail }>;

/** A member, or null. */
export function findMember(deps: WebDeps, id: number): Promise<MemberDetail | null> {
  return memberDetail(deps.sql, id);
}

/** A member the actor may look at: themselves, or anyone for staff. */
export async function visibleMember(deps: WebDeps, actor: Actor, id: number): Promise<MemberChange> {
  if (actor.id !== id && !isStaff(actor))
    return refuse("forbidden", "Only moderators and administrators may look at other members.");
  return found(await findMember(deps, id));
}

/** One page of the member list (by name unless sorted, optionally those whose name contains `search`). */
export async function memberPage(
  deps: WebDeps,
  input: { search: string; page: number; sort?: MemberSort; order?: "asc" | "desc" },
): Promise<{ rows: MemberRow[]; hasNext: boolean }> {
  const rows = await listMembers(deps.sql, {
    search: input.search || undefined,
    sort: input.sort,
    order: input.order,
    limit: MEMBERS_PER_PAGE,
    offset: (input.page - 1) * MEMBERS_PER_PAGE,
  });
  return { rows: rows.slice(0, MEMBERS_PER_PAGE), hasNext: rows.length > MEMBERS_PER_PAGE };
}

/**
 * Why the actor may not disable (`disabled` true) or enable this member, or null when they may:
 * one rule both ways. Only staff, never on oneself, and an administrator only by an
 * administrator (a moderator can neither disable one nor undo an administrator's disabling).
 */
export function accessProblem(
  actor: Actor,
  member: { id: number; roles: readonly Role[] },
  disabled: boolean,
): string | null {
  const verb = disabled ? "disable" : "enable";
  if (!isStaff(actor)) return "Only moderators and administrators can disable or enable members.";
  if (member.id === actor.id) return `You cannot ${verb} your own account.`;
  if (member.roles.includes("admin") && !actor.can("admin"))
    return `Only an administrator can ${verb} an administrator.`;
  return null;
}

/** Disables or enables a member, as `accessProblem` allows, and tells the tracker before returning. */
export async function setAccess(
  deps: WebDeps,
  actor: Actor,
  id: number,
  disabled: boolean,
): Promise<MemberChange> {
  const member = await findMember(deps, id);
  if (!member) return refuse("not_found", NO_MEMBER);
  const problem = accessProblem(actor, member, disabled);
  if (problem) return refuse(member.id === actor.id ? "conflict" : "forbidden", problem);
  await setDisabled(deps.sql, member.id, disabled);
  await deps.sync.user(member.id);
  // A disabled member cannot log in to read anything; once enabled they hear of it.
  if (!disabled && member.disabled)
    await sendSystemMessage(deps.sql, {
      toUserId: member.id,
      subject: "Your account is enabled again",
      body: "A member of staff enabled your account: you can log in, download and announce again. Reply here if you have a question about it.",
    });
  return { ok: true, member: (await findMember(deps, member.id)) ?? member };
}

/**
 * Grants or revokes a role (administrators only; nobody revokes their own admin role and locks
 * everyone out) and tells the tracker before returning.
 */
export async function changeRole(
  deps: WebDeps,
  actor: Actor,
  id: number,
  role: Role,
  grant: boolean,
): Promise<MemberChange> {
  if (!actor.can("admin")) return refuse("forbidden", "Only administrators grant and revoke roles.");
  if (!(await findMember(deps, id))) return refuse("not_found", NO_MEMBER);
  if (!grant && role === "admin" && id === actor.id)
    return refuse("conflict", "You cannot revoke your own admin role: ask another administrator.");
  const before = await findMember(deps, id);
  if (grant) await grantRole(deps.sql, id, role, actor.id);
  else await revokeRole(deps.sql, id, role);
  await deps.sync.user(id);
  const held = before?.roles.includes(role) ?? false;
  if (held !== grant && id !== actor.id)
    await sendSystemMessage(deps.sql, {
      toUserId: id,
      subject: grant ? `You now hold the ${role} role` : `Your ${role} role was taken away`,
      body: `${grant ? "An administrator gave you" : "An administrator took away"} the **${role}** role: ${HELP[role]}. Reply here if you have a question about it.`,
    });
  return found(await findMember(deps, id));
}

/** The member, or the refusal of one that is not there. */
function found(member: MemberDetail | null): MemberChange {
  return member ? { ok: true, member } : refuse("not_found", NO_MEMBER);
}

/**
 * What is wrong with a new member's name and password, by field (empty when nothing): the one set of
 * checks for registering through an invite and for an administrator creating a member. `confirm`,
 * when given, must repeat the password.
 */
export async function newMemberProblems(
  deps: WebDeps,
  input: { name: string; password: string; confirm?: string },
): Promise<Record<string, string>> {
  const fields: Record<string, string> = {};
  const nameError = nameProblem(input.name);
  if (nameError) fields.name = nameError;
  else if (await nameTaken(deps.sql, input.name)) fields.name = NAME_TAKEN;
  const passwordError = passwordProblem(input.password);
  if (passwordError) fields.password = passwordError;
  else if (input.confirm !== undefined && input.confirm !== input.password)
    fields.confirm = "The two passwords differ.";
  return fields;
}

/** The refusal of a new member's problems: a conflict when the name is taken and nothing else is wrong. */
export function newMemberRefusal(fields: Record<string, string>): Refused {
  const keys = Object.keys(fields);
  if (keys.length === 1 && fields.name === NAME_TAKEN) return refuseField("name", NAME_TAKEN, "conflict");
  return refuseFields(fields);
}

/** A member created by an administrator, or why not (field problems; 409 for a taken name). */
export type CreateResult = MemberChange;

/** Creates a member with the roles given (administrators only: the route's gate checks). */
export async function createMember(
  deps: WebDeps,
  actor: Actor,
  input: { name: string; password: string; roles: readonly Role[] },
): Promise<CreateResult> {
  const name = input.name.trim();
  const fields = await newMemberProblems(deps, { name, password: input.password });
  if (Object.keys(fields).length) return newMemberRefusal(fields);
  try {
    const { user } = await createUser(deps.sql, {
      name,
      passwordHash: await hashPassword(input.password, deps.pepper),
      roles: [...new Set(input.roles)],
      grantedBy: actor.id,
    });
    await deps.sync.user(user.id);
    return { ok: true, member: (await findMember(deps, user.id))! };
  } catch (error) {
    if (error instanceof NameTakenError) return newMemberRefusal({ name: NAME_TAKEN });
    throw error;
  }
}
