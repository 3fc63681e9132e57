/** @jsxImportSource @kitajs/html */
import { Elysia, t } from "elysia";
import { AdminUserPage, AdminUsersPage } from "../../views/admin.tsx";
import { ErrorPage } from "../../views/layout.tsx";
import { grantRole, listMembers, memberDetail, revokeRole, setDisabled } from "../db/queries/members.ts";
import { ALL_ROLES, type Role } from "../db/queries/users.ts";
import { admit, notFound, parseId } from "./account.tsx";
import { type PageContext, webContext } from "./context.ts";
import type { WebDeps } from "./deps.ts";

/** Members per page of the list. */
export const MEMBERS_PER_PAGE = 50;
const STAFF: readonly Role[] = ["moderate", "admin"];
const NO_MEMBER = "There is no member with this number.";

function isRole(text: string): text is Role {
  return (ALL_ROLES as readonly string[]).includes(text);
}

/** The notice after a change, from the redirect's query (fixed texts only, nothing echoed). */
function doneNotice(done: string | undefined, role: string | undefined): string | undefined {
  if (done === "grant" && role && isRole(role)) return `Granted the ${role} role.`;
  if (done === "revoke" && role && isRole(role)) return `Revoked the ${role} role.`;
  if (done === "disable") return "Disabled: the member was logged out and the tracker refuses their passkey.";
  if (done === "enable") return "Enabled: the member can log in and announce again.";
  return undefined;
}

/** Members for moderators and administrators: list, search, roles, disable and enable. */
export function adminRoutes(deps: WebDeps) {
  /** The member page again with a refusal, for a change that was not made. */
  async function refuse(
    page: PageContext,
    set: { status?: number | string },
    id: number,
    status: number,
    error: string,
  ) {
    const member = await memberDetail(deps.sql, id);
    if (!member) return notFound(page, set, NO_MEMBER);
    set.status = status;
    return <AdminUserPage page={page} member={member} error={error} />;
  }

  return new Elysia({ name: "admin" })
    .use(webContext(deps))
    .get(
      "/admin/users",
      async (ctx) => {
        const gate = admit(ctx, "/admin/users", STAFF);
        if (!gate.ok) return gate.response;
        const q = (ctx.query.q ?? "").trim();
        const pageText = ctx.query.page ?? "1";
        const pageNo = /^[1-9][0-9]{0,5}$/.test(pageText) ? Number(pageText) : 1;
        const rows = await listMembers(deps.sql, {
          search: q || undefined,
          limit: MEMBERS_PER_PAGE,
          offset: (pageNo - 1) * MEMBERS_PER_PAGE,
        });
        return (
          <AdminUsersPage
            page={ctx.page}
            q={q}
            pageNo={pageNo}
            rows={rows.slice(0, MEMBERS_PER_PAGE)}
            hasNext={rows.length > MEMBERS_PER_PAGE}
          />
        );
      },
      {
        query: t.Object({
          q: t.Optional(t.String({ maxLength: 64 })),
          page: t.Optional(t.String({ maxLength: 10 })),
        }),
      },
    )
    .get(
      "/admin/users/:id",
      async (ctx) => {
        const id = parseId(ctx.params.id);
        const gate = admit(ctx, id === null ? "/admin/users" : `/admin/users/${id}`, STAFF);
        if (!gate.ok) return gate.response;
        const member = id === null ? null : await memberDetail(deps.sql, id);
        if (!member) return notFound(ctx.page, ctx.set, NO_MEMBER);
        return (
          <AdminUserPage
            page={ctx.page}
            member={member}
            notice={doneNotice(ctx.query.done, ctx.query.role)}
          />
        );
      },
      {
        query: t.Object({
          done: t.Optional(t.String({ maxLength: 20 })),
          role: t.Optional(t.String({ maxLength: 20 })),
        }),
      },
    )
    .post(
      "/admin/users/:id/roles",
      async (ctx) => {
        const id = parseId(ctx.params.id);
        const gate = admit(ctx, id === null ? "/admin/users" : `/admin/users/${id}`, ["admin"]);
        if (!gate.ok) return gate.response;
        const { body, page, set } = ctx;
        if (id === null || !(await memberDetail(deps.sql, id))) return notFound(page, set, NO_MEMBER);
        const role = body.role;
        if (!isRole(role) || (body.action !== "grant" && body.action !== "revoke")) {
          set.status = 422;
          return (
            <ErrorPage
              page={page}
              status={422}
              title="Request not understood"
              message={`Choose one of the roles ${ALL_ROLES.join(", ")} and grant or revoke it.`}
            />
          );
        }
        // Keeps at least the acting administrator able to manage roles: nobody locks themselves out.
        if (body.action === "revoke" && role === "admin" && id === gate.viewer.id)
          return refuse(
            page,
            set,
            id,
            409,
            "You cannot revoke your own admin role: ask another administrator.",
          );
        if (body.action === "grant") await grantRole(deps.sql, id, role, gate.viewer.id);
        else await revokeRole(deps.sql, id, role);
        await deps.sync.user(id);
        return ctx.redirect(`${ctx.base}/admin/users/${id}?done=${body.action}&role=${role}`, 303);
      },
      {
        body: t.Object({
          role: t.String({ maxLength: 32 }),
          action: t.String({ maxLength: 16 }),
          _csrf: t.Optional(t.String({ maxLength: 200 })),
        }),
      },
    )
    .post(
      "/admin/users/:id/disable",
      async (ctx) => {
        const id = parseId(ctx.params.id);
        const gate = admit(ctx, id === null ? "/admin/users" : `/admin/users/${id}`, STAFF);
        if (!gate.ok) return gate.response;
        const { page, set } = ctx;
        const member = id === null ? null : await memberDetail(deps.sql, id);
        if (!member) return notFound(page, set, NO_MEMBER);
        if (member.id === gate.viewer.id)
          return refuse(page, set, member.id, 409, "You cannot disable your own account.");
        if (member.roles.includes("admin") && !gate.viewer.can("admin"))
          return refuse(page, set, member.id, 403, "Only an administrator can disable an administrator.");
        await setDisabled(deps.sql, member.id, true);
        await deps.sync.user(member.id);
        return ctx.redirect(`${ctx.base}/admin/users/${member.id}?done=disable`, 303);
      },
      { body: t.Optional(t.Object({ _csrf: t.Optional(t.String({ maxLength: 200 })) })) },
    )
    .post(
      "/admin/users/:id/enable",
      async (ctx) => {
        const id = parseId(ctx.params.id);
        const gate = admit(ctx, id === null ? "/admin/users" : `/admin/users/${id}`, STAFF);
        if (!gate.ok) return gate.response;
        const member = id === null ? null : await memberDetail(deps.sql, id);
        if (!member) return notFound(ctx.page, ctx.set, NO_MEMBER);
        await setDisabled(deps.sql, member.id, false);
        await deps.sync.user(member.id);
        return ctx.redirect(`${ctx.base}/admin/users/${member.id}?done=enable`, 303);
      },
      { body: t.Optional(t.Object({ _csrf: t.Optional(t.String({ maxLength: 200 })) })) },
    );
}
