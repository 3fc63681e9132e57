import { Elysia, t } from "elysia";
import { ALL_ROLES, PASSWORD_MAX, type Role } from "../../db/queries/users.ts";
import { STAFF } from "../access.ts";
import { API_PREFIX, type ApiCaller, type ApiLimiters, apiContext } from "../api/context.ts";
import { accepted } from "../api/errors.ts";
import { errors, Roles, User, userBody } from "../api/schemas.ts";
import type { WebDeps } from "../deps.ts";
import { IdParams, idOf, RoleName } from "../schemas.ts";
import { changeRole, createMember, type MemberChange, setAccess, visibleMember } from "./service.ts";

/** The member of a change, or the API's error for one that was not made. */
function changed(result: MemberChange) {
  return accepted(result).member;
}

/** Members: look up, create (admin), roles (admin), disable and enable (staff). */
export function membersApi(deps: WebDeps, limiters: ApiLimiters) {
  const roleChange =
    (grant: boolean) =>
    async ({ caller, params }: { caller: ApiCaller; params: { id: number; role: Role } }) => ({
      roles: changed(await changeRole(deps, caller, params.id, params.role, grant)).roles,
    });
  const roleParams = t.Object({ id: idOf(), role: RoleName });

  return new Elysia({ name: "api-users" })
    .use(apiContext(deps, limiters))
    .post(
      "/users",
      async ({ caller, body, set, base }) => {
        const { member } = accepted(
          await createMember(deps, caller, {
            name: body.name,
            password: body.password,
            roles: body.roles ?? [],
          }),
        );
        set.status = 201;
        set.headers.location = `${base}${API_PREFIX}/users/${member.id}`;
        return userBody(member);
      },
      {
        role: "admin",
        body: t.Object(
          {
            name: t.String({ maxLength: 64, description: "3 to 32 letters, digits, '_', '-' or '.'" }),
            password: t.String({ maxLength: PASSWORD_MAX, description: "At least 8 characters" }),
            roles: t.Optional(
              t.Array(RoleName, { maxItems: ALL_ROLES.length, description: "Roles to grant" }),
            ),
          },
          { examples: [{ name: "bob", password: "a long passphrase", roles: ["upload"] }] },
        ),
        response: { 201: User, ...errors(401, 403, 409, 422) },
        detail: {
          tags: ["Users"],
          summary: "Create a member",
          description: "Administrators only. The new member gets the roles listed (none by default).",
        },
      },
    )
    .get(
      "/users/:id",
      async ({ caller, params }) => userBody(changed(await visibleMember(deps, caller, params.id))),
      {
        member: true,
        params: IdParams,
        response: { 200: User, ...errors(401, 403, 404, 422) },
        detail: {
          tags: ["Users"],
          summary: "A member",
          description: "Members may look at themselves; moderators and administrators at anyone.",
        },
      },
    )
    .get(
      "/users/:id/roles",
      async ({ caller, params }) => ({ roles: changed(await visibleMember(deps, caller, params.id)).roles }),
      {
        member: true,
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
      role: "admin",
      params: roleParams,
      response: { 200: Roles, ...errors(401, 403, 404, 422) },
      detail: {
        tags: ["Users"],
        summary: "Grant a role",
        description: "Administrators only. Granting a role already held changes nothing.",
      },
    })
    .delete("/users/:id/roles/:role", roleChange(false), {
      role: "admin",
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
      async ({ caller, params }) => userBody(changed(await setAccess(deps, caller, params.id, true))),
      {
        role: STAFF,
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
      async ({ caller, params }) => userBody(changed(await setAccess(deps, caller, params.id, false))),
      {
        role: STAFF,
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
