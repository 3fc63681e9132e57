import { Elysia, t } from "elysia";
import { FAILURE_WINDOW_MINUTES, loginThrottled, recordLoginFailure } from "../../db/queries/logins.ts";
import {
  grantRole,
  type MemberDetail,
  memberDetail,
  nameTaken,
  passwordHash,
  revokeRole,
  setDisabled,
  setPasswordHash,
} from "../../db/queries/members.ts";
import { deleteOtherSessions } from "../../db/queries/sessions.ts";
import {
  ALL_ROLES,
  createUser,
  NameTakenError,
  nameProblem,
  PASSWORD_MAX,
  passwordProblem,
  type Role,
} from "../../db/queries/users.ts";
import { hashPassword, verifyPassword } from "../../shared/secrets.ts";
import type { WebDeps } from "../deps.ts";
import {
  API_PREFIX,
  type ApiCaller,
  type ApiLimiters,
  apiContext,
  requireCaller,
  requireRole,
} from "./context.ts";
import { ApiError, fail } from "./errors.ts";
import { errors, IdParams, idOf, RoleName, Roles, User, userBody } from "./schemas.ts";

const STAFF: readonly Role[] = ["moderate", "admin"];
const NO_MEMBER = "There is no member with this number.";
const TAKEN = "This name is taken: choose another.";

/** A member the caller may look at: themselves, or anyone for staff (403 for others, as the pages). */
async function visibleMember(deps: WebDeps, caller: ApiCaller | null, id: number): Promise<MemberDetail> {
  const me = requireCaller(caller);
  if (me.id !== id && !STAFF.some((role) => me.can(role)))
    throw fail.forbidden("Only moderators and administrators may look at other members.");
  const member = await memberDetail(deps.sql, id);
  if (!member) throw fail.notFound(NO_MEMBER);
  return member;
}

async function existingMember(deps: WebDeps, id: number): Promise<MemberDetail> {
  const member = await memberDetail(deps.sql, id);
  if (!member) throw fail.notFound(NO_MEMBER);
  return member;
}

/** Members: look up, create (admin), change one's password, roles (admin), disable and enable (staff). */
export function usersApi(deps: WebDeps, limiters: ApiLimiters) {
  const roleChange =
    (grant: boolean) => async (ctx: { caller: ApiCaller | null; params: { id: number; role: Role } }) => {
      const me = requireRole(ctx.caller, ["admin"]);
      const { id, role } = ctx.params;
      await existingMember(deps, id);
      // As on the member page: nobody revokes their own admin role and locks everyone out.
      if (!grant && role === "admin" && id === me.id)
        throw new ApiError("conflict", "You cannot revoke your own admin role: ask another administrator.");
      if (grant) await grantRole(deps.sql, id, role, me.id);
      else await revokeRole(deps.sql, id, role);
      await deps.sync.user(id);
      return { roles: (await existingMember(deps, id)).roles };
    };
  const roleParams = t.Object({ id: idOf(), role: RoleName });

  return new Elysia({ name: "api-users" })
    .use(apiContext(deps, limiters))
    .post(
      "/users",
      async ({ caller, body, set, base }) => {
        const me = requireRole(caller, ["admin"]);
        const name = body.name.trim();
        const fields: Record<string, string> = {};
        const nameError = nameProblem(name);
        if (nameError) fields.name = nameError;
        const passwordError = passwordProblem(body.password);
        if (passwordError) fields.password = passwordError;
        if (Object.keys(fields).length) throw fail.validation(fields);
        if (await nameTaken(deps.sql, name)) throw new ApiError("conflict", TAKEN, { name: TAKEN });
        let id: number;
        try {
          ({
            user: { id },
          } = await createUser(deps.sql, {
            name,
            passwordHash: await hashPassword(body.password, deps.pepper),
            roles: [...new Set(body.roles ?? [])],
            grantedBy: me.id,
          }));
        } catch (error) {
          if (error instanceof NameTakenError) throw new ApiError("conflict", TAKEN, { name: TAKEN });
          throw error;
        }
        await deps.sync.user(id);
        set.status = 201;
        set.headers.location = `${base}${API_PREFIX}/users/${id}`;
        return userBody((await memberDetail(deps.sql, id))!);
      },
      {
        body: t.Object({
          name: t.String({ maxLength: 64, description: "3 to 32 letters, digits, '_', '-' or '.'" }),
          password: t.String({ maxLength: PASSWORD_MAX, description: "At least 8 characters" }),
          roles: t.Optional(t.Array(RoleName, { maxItems: ALL_ROLES.length, description: "Roles to grant" })),
        }),
        response: { 201: User, ...errors(401, 403, 409, 422) },
        detail: {
          tags: ["Users"],
          summary: "Create a member",
          description: "Administrators only. The new member gets the roles listed (none by default).",
        },
      },
    )
    .get("/users/:id", async ({ caller, params }) => userBody(await visibleMember(deps, caller, params.id)), {
      params: IdParams,
      response: { 200: User, ...errors(401, 403, 404, 422) },
      detail: {
        tags: ["Users"],
        summary: "A member",
        description: "Members may look at themselves; moderators and administrators at anyone.",
      },
    })
    .put(
      "/users/:id/password",
      async ({ caller, params, body, ip, sessionToken, set }) => {
        const me = requireCaller(caller);
        if (me.id !== params.id) throw fail.forbidden("Members change only their own password.");
        const problem = passwordProblem(body.password);
        if (problem) throw fail.validation({ password: problem });
        // Guesses at the current password count as failed log-ins, as on the account page.
        if (await loginThrottled(deps.sql, me.name, ip))
          throw new ApiError(
            "rate_limited",
            `Too many wrong passwords. Wait ${FAILURE_WINDOW_MINUTES} minutes and try again.`,
            undefined,
            { "retry-after": String(FAILURE_WINDOW_MINUTES * 60) },
          );
        const stored = await passwordHash(deps.sql, me.id);
        if (!stored || !(await verifyPassword(body.old, stored, deps.pepper))) {
          await recordLoginFailure(deps.sql, me.name, ip);
          throw fail.validation({ old: "This is not your current password." });
        }
        await setPasswordHash(deps.sql, me.id, await hashPassword(body.password, deps.pepper));
        await deleteOtherSessions(
          deps.sql,
          me.id,
          me.via === "session" ? (sessionToken ?? undefined) : undefined,
        );
        set.status = 204;
        return null;
      },
      {
        params: IdParams,
        body: t.Object({
          old: t.String({ maxLength: PASSWORD_MAX, description: "The current password" }),
          password: t.String({
            maxLength: PASSWORD_MAX,
            description: "The new password, at least 8 characters",
          }),
        }),
        response: { 204: t.Null({ description: "Changed" }), ...errors(401, 403, 422) },
        detail: {
          tags: ["Users"],
          summary: "Change your password",
          description:
            "Only your own, with the current one. Ends every other session (with the cookie, the calling one stays); API tokens stay valid.",
        },
      },
    )
    .get(
      "/users/:id/roles",
      async ({ caller, params }) => ({ roles: (await visibleMember(deps, caller, params.id)).roles }),
      {
        params: IdParams,
        response: { 200: Roles, ...errors(401, 403, 404, 422) },
        detail: {
          tags: ["Users"],
          summary: "A member's roles",
          description: "Your own, or anyone's for moderators and administrators.",
        },
      },
    )
    .put("/users/:id/roles/:role", roleChange(true), {
      params: roleParams,
      response: { 200: Roles, ...errors(401, 403, 404, 422) },
      detail: {
        tags: ["Users"],
        summary: "Grant a role",
        description: "Administrators only. Granting a role already held changes nothing.",
      },
    })
    .delete("/users/:id/roles/:role", roleChange(false), {
      params: roleParams,
      response: { 200: Roles, ...errors(401, 403, 404, 409, 422) },
      detail: {
        tags: ["Users"],
        summary: "Revoke a role",
        description: "Administrators only; not your own admin role (409).",
      },
    })
    .post(
      "/users/:id/disable",
      async ({ caller, params }) => {
        const me = requireRole(caller, STAFF);
        const member = await existingMember(deps, params.id);
        if (member.id === me.id) throw new ApiError("conflict", "You cannot disable your own account.");
        if (member.roles.includes("admin") && !me.can("admin"))
          throw fail.forbidden("Only an administrator can disable an administrator.");
        await setDisabled(deps.sql, member.id, true);
        await deps.sync.user(member.id);
        return userBody((await memberDetail(deps.sql, member.id))!);
      },
      {
        params: IdParams,
        response: { 200: User, ...errors(401, 403, 404, 409, 422) },
        detail: {
          tags: ["Users"],
          summary: "Disable a member",
          description:
            "Moderators and administrators. Ends the member's sessions; the tracker refuses their passkey and their API tokens stop working until enabled again.",
        },
      },
    )
    .post(
      "/users/:id/enable",
      async ({ caller, params }) => {
        requireRole(caller, STAFF);
        const member = await existingMember(deps, params.id);
        await setDisabled(deps.sql, member.id, false);
        await deps.sync.user(member.id);
        return userBody((await memberDetail(deps.sql, member.id))!);
      },
      {
        params: IdParams,
        response: { 200: User, ...errors(401, 403, 404, 422) },
        detail: {
          tags: ["Users"],
          summary: "Enable a member",
          description: "Moderators and administrators.",
        },
      },
    );
}
