/** @jsxImportSource @kitajs/html */
import { Elysia, t } from "elysia";
import { AdminUserPage, AdminUsersPage } from "../../../views/members/members.tsx";
import { MEMBER_SORTS, type MemberDetail, type MemberSort } from "../../db/queries/members.ts";
import { ALL_ROLES, type Role } from "../../db/queries/users.ts";
import { isStaff, STAFF } from "../access.ts";
import { notFound, type PageContext, type RefusedSet, refusedPage, type Viewer } from "../context.tsx";
import type { WebDeps } from "../deps.ts";
import { pageGate } from "../gate.tsx";
import { linksFor } from "../links.ts";
import { issueResetLink } from "../recovery/service.ts";
import { NO_MEMBER } from "../refusal.ts";
import { CsrfField, CsrfOnly, IdParams, optionalTexts, RoleName } from "../schemas.ts";
import {
  accessProblem,
  changeRole,
  findMember,
  type MemberChange,
  memberPage,
  ROLE_HELP,
  setAccess,
} from "./service.ts";

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
export function memberPages(deps: WebDeps) {
  function memberView(
    page: PageContext,
    viewer: Viewer,
    member: MemberDetail,
    extra: { notice?: string; error?: string; resetLink?: { url: string; expiresAt: Date } } = {},
  ) {
    return (
      <AdminUserPage
        page={page}
        member={member}
        roles={ROLE_HELP}
        actions={
          isStaff(viewer)
            ? { roles: viewer.can("admin"), access: accessProblem(viewer, member, !member.disabled) }
            : null
        }
        {...extra}
      />
    );
  }
  /** After a change: on to the member page with its notice, or the page again with the refusal. */
  async function settle(
    ctx: { page: PageContext; viewer: Viewer; set: RefusedSet; base: string },
    id: number,
    result: MemberChange,
    done: string,
  ) {
    if (result.ok)
      return new Response(null, {
        status: 303,
        headers: { location: `${ctx.base}/admin/users/${id}?${done}` },
      });
    const member = result.refusal.code === "not_found" ? null : await findMember(deps, id);
    if (!member) return notFound(ctx.page, ctx.set, NO_MEMBER);
    return refusedPage(ctx.page, ctx.set, result.refusal, {
      form: { field: "error", render: (_, error) => memberView(ctx.page, ctx.viewer, member, { error }) },
    });
  }

  return (
    new Elysia({ name: "member-pages" })
      .use(pageGate(deps))
      // The members list is the staff's start page; its address without "/users" leads there.
      .get("/admin", ({ base, redirect }) => redirect(`${base}/admin/users`, 303))
      .get(
        "/admin/users",
        async ({ page, query }) => {
          const q = (query.q ?? "").trim();
          const pageText = query.page ?? "1";
          const pageNo = /^[1-9][0-9]{0,5}$/.test(pageText) ? Number(pageText) : 1;
          // Anything but a known order is the default one: a hand-edited address still shows the list.
          const sort = (MEMBER_SORTS as readonly string[]).includes(query.sort ?? "")
            ? (query.sort as MemberSort)
            : "name";
          const order = query.order === "desc" ? "desc" : "asc";
          const { rows, hasNext } = await memberPage(deps, { search: q, page: pageNo, sort, order });
          return (
            <AdminUsersPage
              page={page}
              q={q}
              sort={sort}
              order={order}
              sorts={MEMBER_SORTS}
              pageNo={pageNo}
              rows={rows}
              hasNext={hasNext}
            />
          );
        },
        {
          role: STAFF,
          query: optionalTexts({ q: 64, page: 10, sort: 20, order: 10 }),
        },
      )
      .get(
        "/admin/users/:id",
        async ({ page, viewer, params, query, set }) => {
          const member = await findMember(deps, params.id);
          if (!member) return notFound(page, set, NO_MEMBER);
          return memberView(page, viewer, member, { notice: doneNotice(query.done, query.role) });
        },
        {
          role: STAFF,
          params: IdParams,
          query: optionalTexts({ done: 20, role: 20 }),
        },
      )
      .post(
        "/admin/users/:id/roles",
        async (ctx) => {
          const { viewer, params, body } = ctx;
          const result = await changeRole(deps, viewer, params.id, body.role, body.action === "grant");
          return settle(ctx, params.id, result, `done=${body.action}&role=${body.role}`);
        },
        {
          role: { anyOf: "admin", back: "/admin/users/:id" },
          params: IdParams,
          body: t.Object({
            role: RoleName,
            action: t.Union([t.Literal("grant"), t.Literal("revoke")]),
            ...CsrfField,
          }),
        },
      )
      .post(
        "/admin/users/:id/reset-link",
        async ({ page, viewer, params, set, request, base }) => {
          const result = await issueResetLink(
            deps,
            viewer,
            params.id,
            linksFor(deps.config, request, base).site,
          );
          if (!result.ok) {
            const member = result.refusal.code === "not_found" ? null : await findMember(deps, params.id);
            if (!member) return notFound(page, set, NO_MEMBER);
            return refusedPage(page, set, result.refusal, {
              form: { field: "error", render: (_, error) => memberView(page, viewer, member, { error }) },
            });
          }
          const member = await findMember(deps, params.id);
          if (!member) return notFound(page, set, NO_MEMBER);
          // The link is shown once, on this answer: nothing may keep a copy.
          set.headers["cache-control"] = "no-store";
          return memberView(page, viewer, member, {
            resetLink: { url: result.url, expiresAt: result.expiresAt },
          });
        },
        { role: { anyOf: STAFF, back: "/admin/users/:id" }, params: IdParams, body: CsrfOnly },
      )
      .post(
        "/admin/users/:id/disable",
        async (ctx) =>
          settle(ctx, ctx.params.id, await setAccess(deps, ctx.viewer, ctx.params.id, true), "done=disable"),
        { role: { anyOf: STAFF, back: "/admin/users/:id" }, params: IdParams, body: CsrfOnly },
      )
      .post(
        "/admin/users/:id/enable",
        async (ctx) =>
          settle(ctx, ctx.params.id, await setAccess(deps, ctx.viewer, ctx.params.id, false), "done=enable"),
        { role: { anyOf: STAFF, back: "/admin/users/:id" }, params: IdParams, body: CsrfOnly },
      )
  );
}
