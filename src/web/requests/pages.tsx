/** @jsxImportSource @kitajs/html */
import { Elysia, t } from "elysia";
import {
  NewRequestPage,
  type RequestFormValues,
  type RequestListState,
  RequestPage,
  RequestResults,
  RequestsPage,
} from "../../../views/requests/requests.tsx";
import { memberLedger } from "../../db/queries/economy.ts";
import type { Actor } from "../access.ts";
import { categories } from "../categories/service.ts";
import { refusedPage } from "../context.tsx";
import type { WebDeps } from "../deps.ts";
import { pageGate } from "../gate.tsx";
import { CsrfField, CsrfOnly, IdParams, optionalTexts } from "../schemas.ts";
import { TAG_LIMITS } from "../torrents/tags.ts";
import { categoryField } from "../torrents/upload.ts";
import {
  acceptRequestFill,
  addBounty,
  createRequest,
  nowOf,
  offerFill,
  pointsField,
  REQUEST_LIMITS,
  rejectRequestFill,
  requestPage,
  STATUS_FILTERS,
  type StatusFilter,
  showRequest,
} from "./service.ts";

const DONE: Record<string, string> = {
  created: "Your request is up, with its bounty.",
  bounty: "Your points are on the bounty.",
  filled: "Your fill is waiting for the requester's answer.",
  accepted: "Fill accepted: the filler received the bounty.",
  rejected: "Fill rejected: the request is open again.",
};

const RequestForm = t.Object({
  title: t.Optional(t.String({ maxLength: REQUEST_LIMITS.titleMax * 2 })),
  description: t.Optional(t.String({ maxLength: REQUEST_LIMITS.descriptionMax * 2 })),
  category: t.Optional(t.String({ maxLength: 20 })),
  tags: t.Optional(t.String({ maxLength: TAG_LIMITS.fieldMax })),
  points: t.Optional(t.String({ maxLength: 20 })),
  ...CsrfField,
});

async function balanceOf(deps: WebDeps, userId: number): Promise<number> {
  return (await memberLedger(deps.sql, userId, 0)).millipoints;
}

/** Requests: list and search, make one, add to a bounty, fill, accept or reject a fill. */
export function requestPages(deps: WebDeps) {
  const formPage = async (
    page: Parameters<typeof NewRequestPage>[0]["page"],
    viewer: Actor,
    values: RequestFormValues,
    errors?: Record<string, string>,
  ) => (
    <NewRequestPage
      page={page}
      values={values}
      categories={await categories(deps)}
      limits={{ ...REQUEST_LIMITS, tagsFieldMax: TAG_LIMITS.fieldMax }}
      minPoints={deps.config.requests.minBountyPoints}
      millipoints={await balanceOf(deps, viewer.id)}
      expireDays={deps.config.requests.expireDays}
      errors={errors}
    />
  );
  /** The request's page again with a form's problem, or the refusal's own page when it is gone. */
  const requestAgain = async (
    ctx: {
      page: Parameters<typeof RequestPage>[0]["page"];
      viewer: Actor;
      set: { status?: number | string; headers: Record<string, string | number> };
    },
    id: number,
    refusal: Parameters<typeof refusedPage>[2],
    values: { points?: string; torrent?: string },
  ) => {
    const shown = await showRequest(deps, ctx.viewer, id);
    if (!shown.ok) return refusedPage(ctx.page, ctx.set, shown.refusal);
    return refusedPage(ctx.page, ctx.set, refusal, {
      form: {
        field: "form",
        render: async (errors) => (
          <RequestPage
            page={ctx.page}
            request={shown.request}
            html={shown.html}
            bounties={shown.bounties}
            rights={shown.rights}
            millipoints={await balanceOf(deps, ctx.viewer.id)}
            errors={errors}
            values={values}
          />
        ),
      },
    });
  };
  const done = (base: string, id: number, what: string) =>
    new Response(null, { status: 303, headers: { location: `${base}/requests/${id}?done=${what}` } });

  return new Elysia({ name: "request-pages" })
    .use(pageGate(deps))
    .get(
      "/requests",
      async ({ page, query, request, set }) => {
        const status = (STATUS_FILTERS as readonly string[]).includes(query.status ?? "")
          ? (query.status as StatusFilter)
          : "active";
        const category = query.category ? categoryField(query.category) : null;
        const sort = query.sort === "bounty" ? "bounty" : "date";
        const pageNumber = query.page && /^[1-9][0-9]{0,4}$/.test(query.page) ? Number(query.page) : 1;
        const q = (query.q ?? "").trim();
        const result = await requestPage(deps, {
          q,
          status,
          categoryId: category ?? undefined,
          sort,
          page: pageNumber,
        });
        if (!result.ok) return refusedPage(page, set, result.refusal);
        const state: RequestListState = {
          q,
          status,
          category: category ?? undefined,
          sort,
          page: result.page,
          hasNext: result.hasNext,
          items: result.items,
          categories: await categories(deps),
          statuses: STATUS_FILTERS,
        };
        if (request.headers.get("hx-request") === "true" && request.headers.get("hx-boosted") !== "true")
          return <RequestResults base={page.base} state={state} />;
        return <RequestsPage page={page} state={state} />;
      },
      {
        member: true,
        query: optionalTexts({ q: REQUEST_LIMITS.qMax, status: 20, category: 20, sort: 20, page: 10 }),
      },
    )
    .get("/requests/new", async ({ page, viewer }) => formPage(page, viewer, {}), { member: true })
    .post(
      "/requests",
      async ({ page, viewer, body, set }) => {
        const categoryId = categoryField(body.category);
        const result = await createRequest(
          deps,
          viewer,
          {
            title: body.title,
            description: body.description,
            categoryId,
            tags: body.tags,
            points: pointsField(body.points),
          },
          nowOf(deps),
        );
        if (result.ok) return done(page.base, result.id, "created");
        const values: RequestFormValues = {
          title: body.title,
          description: body.description,
          category: categoryId,
          tags: body.tags,
          points: body.points,
        };
        return refusedPage(page, set, result.refusal, {
          form: { field: "form", render: (errors) => formPage(page, viewer, values, errors) },
        });
      },
      { member: "/requests/new", body: RequestForm },
    )
    .get(
      "/requests/:id",
      async ({ page, viewer, params, query, set }) => {
        const shown = await showRequest(deps, viewer, params.id);
        if (!shown.ok) return refusedPage(page, set, shown.refusal, { notFoundTitle: "Request not found" });
        return (
          <RequestPage
            page={page}
            request={shown.request}
            html={shown.html}
            bounties={shown.bounties}
            rights={shown.rights}
            millipoints={await balanceOf(deps, viewer.id)}
            notice={query.done ? DONE[query.done] : undefined}
          />
        );
      },
      { member: true, params: IdParams, query: optionalTexts({ done: 20 }) },
    )
    .post(
      "/requests/:id/bounty",
      async ({ page, viewer, params, body, set }) => {
        const result = await addBounty(deps, viewer, params.id, pointsField(body.points), nowOf(deps));
        if (result.ok) return done(page.base, params.id, "bounty");
        return requestAgain({ page, viewer, set }, params.id, result.refusal, { points: body.points });
      },
      {
        member: "/requests/:id",
        params: IdParams,
        body: t.Object({ points: t.Optional(t.String({ maxLength: 20 })), ...CsrfField }),
      },
    )
    .post(
      "/requests/:id/fill",
      async ({ page, viewer, params, body, set }) => {
        const result = await offerFill(deps, viewer, params.id, body.torrent, nowOf(deps));
        if (result.ok) return done(page.base, params.id, "filled");
        return requestAgain({ page, viewer, set }, params.id, result.refusal, { torrent: body.torrent });
      },
      {
        member: "/requests/:id",
        params: IdParams,
        body: t.Object({ torrent: t.Optional(t.String({ maxLength: 500 })), ...CsrfField }),
      },
    )
    .post(
      "/requests/:id/accept",
      async ({ page, viewer, params, set }) => {
        const result = await acceptRequestFill(deps, viewer, params.id, nowOf(deps));
        if (result.ok) return done(page.base, params.id, "accepted");
        return refusedPage(page, set, result.refusal, { notFoundTitle: "Request not found" });
      },
      { member: "/requests/:id", params: IdParams, body: CsrfOnly },
    )
    .post(
      "/requests/:id/reject",
      async ({ page, viewer, params, set }) => {
        const result = await rejectRequestFill(deps, viewer, params.id);
        if (result.ok) return done(page.base, params.id, "rejected");
        return refusedPage(page, set, result.refusal, { notFoundTitle: "Request not found" });
      },
      { member: "/requests/:id", params: IdParams, body: CsrfOnly },
    );
}
