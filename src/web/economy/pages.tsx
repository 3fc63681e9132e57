/** @jsxImportSource @kitajs/html */
import { Elysia, t } from "elysia";
import { BonusPage, HitAndRunsPage, OffendersPage } from "../../../views/economy/economy.tsx";
import { type PageContext, type RefusedSet, refusedPage, type Viewer } from "../context.tsx";
import type { WebDeps } from "../deps.ts";
import { pageGate } from "../gate.tsx";
import { inviteLink } from "../invites/service.ts";
import { linksFor } from "../links.ts";
import { CsrfField, IdParams } from "../schemas.ts";
import {
  ECONOMY_STAFF,
  hitAndRunOffenders,
  MAX_PAGE,
  memberBonus,
  memberHitAndRuns,
  spendBonus,
} from "./service.ts";

const PageQuery = t.Object({ page: t.Optional(t.String({ maxLength: 10 })) });

// A page number that is not one shows the first page, as the other lists do.
function pageNumber(text: string | undefined): number {
  const value = text ?? "1";
  return /^[1-9][0-9]{0,4}$/.test(value) && Number(value) <= MAX_PAGE ? Number(value) : 1;
}

/** The member's hit-and-run and bonus pages, and staff's list of members with hit-and-runs. */
export function economyPages(deps: WebDeps) {
  const now = () => deps.clock?.() ?? new Date();

  async function snatches(
    page: PageContext,
    viewer: Viewer,
    userId: number,
    pageNo: number,
    set: RefusedSet,
  ) {
    const result = await memberHitAndRuns(deps, viewer, { userId, page: pageNo, now: now() });
    if (!result.ok) return refusedPage(page, set, result.refusal);
    const own = userId === viewer.id;
    return (
      <HitAndRunsPage
        page={page}
        member={result.member}
        own={own}
        downloadsPaused={result.downloadsPaused}
        items={result.items}
        counts={result.counts}
        rule={result.rule}
        pageNo={pageNo}
        hasNext={result.hasNext}
        path={own ? "/account/hit-and-runs" : `/admin/users/${userId}/hit-and-runs`}
      />
    );
  }

  async function bonus(
    page: PageContext,
    viewer: Viewer,
    extra: {
      notice?: string;
      invite?: { link: string; expiresAt: Date };
      errors?: Record<string, string>;
    } = {},
  ) {
    const result = await memberBonus(deps, viewer, viewer.id);
    if (!result.ok) throw new Error(result.refusal.message);
    return <BonusPage page={page} {...result} {...extra} />;
  }

  return new Elysia({ name: "economy-pages" })
    .use(pageGate(deps))
    .get(
      "/account/hit-and-runs",
      ({ page, viewer, query, set }) => snatches(page, viewer, viewer.id, pageNumber(query.page), set),
      { member: true, query: PageQuery },
    )
    .get(
      "/admin/users/:id/hit-and-runs",
      ({ page, viewer, params, query, set }) =>
        snatches(page, viewer, params.id, pageNumber(query.page), set),
      { role: ECONOMY_STAFF, params: IdParams, query: PageQuery },
    )
    .get(
      "/admin/hit-and-runs",
      async ({ page, query }) => {
        const pageNo = pageNumber(query.page);
        const result = await hitAndRunOffenders(deps, { page: pageNo, now: now() });
        if (!result.ok) throw new Error(result.refusal.message);
        return (
          <OffendersPage
            page={page}
            items={result.items}
            rule={{ ...deps.config.hitAndRun }}
            pageNo={pageNo}
            hasNext={result.hasNext}
          />
        );
      },
      { role: ECONOMY_STAFF, query: PageQuery },
    )
    .get("/account/bonus", ({ page, viewer }) => bonus(page, viewer), { member: true })
    .post(
      "/account/bonus/spend",
      async ({ page, viewer, body, set, request }) => {
        const gib = /^[0-9]{1,7}$/.test(body.gib ?? "") ? Number(body.gib) : Number.NaN;
        const result = await spendBonus(
          deps,
          viewer.id,
          body.item === "invite" ? { item: "invite" } : { item: "upload_credit", gib },
          now(),
        );
        if (!result.ok)
          return refusedPage(page, set, result.refusal, {
            form: {
              // The page shows a refused item where the points are.
              render: (errors: Record<string, string>) => {
                const { item, ...rest } = errors;
                return bonus(page, viewer, { errors: item === undefined ? rest : { points: item, ...rest } });
              },
            },
          });
        if (result.invite) {
          // The secret is stored only hashed: this answer is the one chance to show the link.
          set.headers["cache-control"] = "no-store";
          const links = linksFor(deps.config, request, page.base);
          return bonus(page, viewer, {
            notice: "You bought an invite.",
            invite: {
              link: inviteLink(links.site, result.invite.secret),
              expiresAt: result.invite.expiresAt,
            },
          });
        }
        return bonus(page, viewer, { notice: "Upload credit added to your total." });
      },
      {
        member: "/account/bonus",
        body: t.Object({
          item: t.Union([t.Literal("upload_credit"), t.Literal("invite")]),
          gib: t.Optional(t.String({ maxLength: 20 })),
          ...CsrfField,
        }),
      },
    );
}
