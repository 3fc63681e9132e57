/** @jsxImportSource @kitajs/html */
import { Elysia, t } from "elysia";
import { WarningsPage } from "../../../views/warnings/warnings.tsx";
import { STAFF } from "../access.ts";
import { type PageContext, refusedPage, type Viewer } from "../context.tsx";
import type { WebDeps } from "../deps.ts";
import { pageGate } from "../gate.tsx";
import { CsrfField, CsrfOnly, IdParams, optionalTexts } from "../schemas.ts";
import { giveWarning, liftMemberWarning, WARNING_LIMITS, warningsOf } from "./service.ts";

const DONE: Record<string, string> = {
  warned: "Warning given: the member sees it on every page.",
  lifted: "Warning lifted.",
};

/** Warnings: a member's own (/account/warnings), and staff's view, warn and lift (/admin/users/:id/warnings). */
export function warningPages(deps: WebDeps) {
  async function page(
    ctx: {
      page: PageContext;
      viewer: Viewer;
      set: { status?: number | string; headers: Record<string, string | number> };
    },
    userId: number,
    extra: { form?: { reason: string; days: string; errors?: Record<string, string> }; done?: string } = {},
  ) {
    const result = await warningsOf(deps, ctx.viewer, userId);
    if (!result.ok) return refusedPage(ctx.page, ctx.set, result.refusal);
    return (
      <WarningsPage
        page={ctx.page}
        member={result.member}
        warnings={result.warnings}
        pauseAfter={result.pauseAfter}
        staff={ctx.viewer.id !== userId}
        limits={WARNING_LIMITS}
        form={extra.form}
        done={extra.done}
      />
    );
  }
  return new Elysia({ name: "warning-pages" })
    .use(pageGate(deps))
    .get("/account/warnings", (ctx) => page(ctx, ctx.viewer.id), { member: true })
    .get(
      "/admin/users/:id/warnings",
      (ctx) => page(ctx, ctx.params.id, { done: DONE[ctx.query.done ?? ""] }),
      { role: STAFF, params: IdParams, query: optionalTexts({ done: 10 }) },
    )
    .post(
      "/admin/users/:id/warnings",
      async (ctx) => {
        const { viewer, params, body, set, redirect, base } = ctx;
        const days = /^[0-9]{1,4}$/.test(body.days.trim()) ? Number(body.days.trim()) : Number.NaN;
        const result = await giveWarning(deps, viewer, params.id, { reason: body.reason, days });
        if (result.ok) return redirect(`${base}/admin/users/${params.id}/warnings?done=warned`, 303);
        return refusedPage(ctx.page, set, result.refusal, {
          form: {
            render: (errors: Record<string, string>) =>
              page(ctx, params.id, { form: { reason: body.reason, days: body.days, errors } }),
          },
        });
      },
      {
        role: { anyOf: STAFF, back: "/admin/users/:id/warnings" },
        params: IdParams,
        body: t.Object({
          reason: t.String({ maxLength: WARNING_LIMITS.reasonMax + 100 }),
          days: t.String({ maxLength: 10 }),
          ...CsrfField,
        }),
      },
    )
    .post(
      "/admin/warnings/:id/lift",
      async ({ page: p, viewer, params, set, redirect, base }) => {
        const result = await liftMemberWarning(deps, viewer, params.id);
        if (!result.ok) return refusedPage(p, set, result.refusal);
        return redirect(`${base}/admin/users/${result.userId}/warnings?done=lifted`, 303);
      },
      { role: { anyOf: STAFF, back: "/admin/users" }, params: IdParams, body: CsrfOnly },
    );
}
