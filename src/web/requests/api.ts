import { Elysia, t } from "elysia";
import { API_PREFIX, type ApiLimiters, apiContext } from "../api/context.ts";
import { accepted } from "../api/errors.ts";
import { errors, iso } from "../api/schemas.ts";
import type { WebDeps } from "../deps.ts";
import { IdParams, wholeNumber } from "../schemas.ts";
import { TAG_LIMITS } from "../torrents/tags.ts";
import {
  acceptRequestFill,
  addBounty,
  createRequest,
  MAX_REQUEST_PAGE,
  nowOf,
  offerFill,
  REQUEST_LIMITS,
  REQUESTS_PER_PAGE,
  type RequestRow,
  rejectRequestFill,
  requestPage,
  type ShownRequest,
  showRequest,
} from "./service.ts";

/** Points as the API shows them: thousandths kept to three decimals. */
const points = (millipoints: number) => millipoints / 1000;

const Time = (description: string) => t.String({ format: "date-time", description });
const Ref = t.Object({ id: t.Number(), name: t.String() });
const Status = t.Union([t.Literal("open"), t.Literal("pending"), t.Literal("filled"), t.Literal("expired")], {
  description:
    "open: waiting for a fill; pending: a fill waits for the requester's answer; filled: accepted, the bounty paid to the filler; expired: refunded",
});

const RequestSummary = t.Object(
  {
    id: t.Number(),
    title: t.String(),
    status: Status,
    requester: t.Union([Ref, t.Null()], { description: "Null once the member is gone" }),
    category: t.Union([t.Object({ id: t.Number(), name: t.String() }), t.Null()]),
    tags: t.Array(t.String()),
    bounty: t.Number({ description: "Points held for the filler (to 1/1000)" }),
    contributors: t.Number({ description: "Members who put points on it" }),
    created_at: Time("When it was made"),
    expires_at: Time("When it expires unless a fill is accepted"),
    torrent: t.Union([t.Object({ id: t.Number(), title: t.String() }), t.Null()], {
      description: "The fill offered or accepted",
    }),
    filler: t.Union([Ref, t.Null()]),
    filled_at: t.Union([Time("When the fill was offered"), t.Null()]),
    settled_at: t.Union([Time("When it was accepted or expired"), t.Null()]),
  },
  { description: "A request" },
);

const RequestFull = t.Object(
  {
    ...RequestSummary.properties,
    description: t.String({ description: "Markdown" }),
    html: t.String({ description: "The description rendered (safe HTML)" }),
    bounties: t.Array(t.Object({ member: t.Union([Ref, t.Null()]), points: t.Number(), at: Time("When") }), {
      description: "Each contribution, oldest first",
    }),
    can_contribute: t.Boolean(),
    can_fill: t.Boolean({ description: "Open, and the caller is not the requester" }),
    can_answer: t.Boolean({ description: "A fill waits, and the caller is the requester or staff" }),
  },
  { description: "A request with its description and bounty" },
);

const PointsField = t.Integer({
  minimum: 1,
  maximum: REQUEST_LIMITS.maxPoints,
  description: "Whole bonus points, taken from the caller's balance at once",
});

function summary(r: RequestRow): typeof RequestSummary.static {
  return {
    id: r.id,
    title: r.title,
    status: r.status,
    requester: r.requesterId !== null ? { id: r.requesterId, name: r.requester ?? "" } : null,
    category: r.categoryId !== null ? { id: r.categoryId, name: r.category ?? "" } : null,
    tags: r.tags,
    bounty: points(Number(r.bountyMillipoints)),
    contributors: r.contributors,
    created_at: iso(r.createdAt),
    expires_at: iso(r.expiresAt),
    torrent: r.torrentId !== null ? { id: r.torrentId, title: r.torrentTitle ?? "" } : null,
    filler: r.fillerId !== null ? { id: r.fillerId, name: r.filler ?? "" } : null,
    filled_at: r.filledAt ? iso(r.filledAt) : null,
    settled_at: r.settledAt ? iso(r.settledAt) : null,
  };
}

function full(shown: ShownRequest): typeof RequestFull.static {
  return {
    ...summary(shown.request),
    description: shown.request.description,
    html: shown.html,
    bounties: shown.bounties.map((b) => ({
      member: b.name !== null ? { id: b.userId, name: b.name } : null,
      points: points(Number(b.millipoints)),
      at: iso(b.createdAt),
    })),
    can_contribute: shown.rights.canContribute,
    can_fill: shown.rights.canFill,
    can_answer: shown.rights.canAnswer,
  };
}

/** Requests with bounties: list, read, make, add to a bounty, fill, accept or reject a fill. */
export function requestsApi(deps: WebDeps, limiters: ApiLimiters) {
  const shownAs = async (caller: Parameters<typeof showRequest>[1], id: number) =>
    full(accepted(await showRequest(deps, caller, id)));
  return new Elysia({ name: "api-requests" })
    .use(apiContext(deps, limiters))
    .get(
      "/requests",
      async ({ query }) => {
        const result = accepted(
          await requestPage(deps, {
            q: query.q ?? "",
            status: query.status ?? "active",
            categoryId: query.category,
            sort: query.sort ?? "date",
            page: query.page ?? 1,
          }),
        );
        return { items: result.items.map(summary), page: result.page, has_next: result.hasNext };
      },
      {
        member: true,
        query: t.Object({
          q: t.Optional(
            t.String({
              maxLength: REQUEST_LIMITS.qMax,
              description: "Words that must all appear in the title",
            }),
          ),
          status: t.Optional(
            t.Union(
              [
                t.Literal("active"),
                t.Literal("open"),
                t.Literal("pending"),
                t.Literal("filled"),
                t.Literal("expired"),
                t.Literal("all"),
              ],
              { description: "active (default): open or pending; all; or one status" },
            ),
          ),
          category: t.Optional(wholeNumber("category", 1, Number.MAX_SAFE_INTEGER, "A category's id")),
          sort: t.Optional(
            t.Union([t.Literal("date"), t.Literal("bounty")], {
              description: "date (default, newest first) or bounty",
            }),
          ),
          page: t.Optional(
            wholeNumber("page", 1, MAX_REQUEST_PAGE, `From 1 (default), ${REQUESTS_PER_PAGE} a page`),
          ),
        }),
        response: {
          200: t.Object({ items: t.Array(RequestSummary), page: t.Number(), has_next: t.Boolean() }),
          ...errors(401, 422),
        },
        detail: { tags: ["Requests"], summary: "List and search requests" },
      },
    )
    .post(
      "/requests",
      async ({ caller, body, set, base }) => {
        const made = accepted(
          await createRequest(
            deps,
            caller,
            {
              title: body.title,
              description: body.description,
              categoryId: body.category_id ?? null,
              tags: body.tags,
              points: body.points,
            },
            nowOf(deps),
          ),
        );
        set.status = 201;
        set.headers.location = `${base}${API_PREFIX}/requests/${made.id}`;
        return shownAs(caller, made.id);
      },
      {
        member: true,
        body: t.Object(
          {
            title: t.String({
              maxLength: REQUEST_LIMITS.titleMax * 2,
              description: `What is asked for, at most ${REQUEST_LIMITS.titleMax} characters`,
            }),
            description: t.Optional(
              t.String({
                maxLength: REQUEST_LIMITS.descriptionMax * 2,
                description: `Markdown, at most ${REQUEST_LIMITS.descriptionMax} characters`,
              }),
            ),
            category_id: t.Optional(
              t.Integer({ minimum: 1, description: "A category's id; needed once the site has categories" }),
            ),
            tags: t.Optional(
              t.Array(t.String({ maxLength: 100 }), {
                maxItems: 50,
                description: `At most ${TAG_LIMITS.count} tags of letters, digits, dots, hyphens and underscores`,
              }),
            ),
            points: t.Integer({
              minimum: 1,
              maximum: REQUEST_LIMITS.maxPoints,
              description: `The first bounty in whole points, at least requests.minBountyPoints (${deps.config.requests.minBountyPoints}), taken from the caller's balance at once`,
            }),
          },
          {
            examples: [
              {
                title: "Debian 12.5 netinst, arm64",
                description: "The **official** image, checksums matching.",
                tags: ["linux", "debian"],
                points: deps.config.requests.minBountyPoints,
              },
            ],
          },
        ),
        response: { 201: RequestFull, ...errors(401, 409, 422) },
        detail: {
          tags: ["Requests"],
          summary: "Make a request",
          description: `Its bounty is taken from your balance at once (409 when it does not hold it). It expires after ${deps.config.requests.expireDays} days unless a fill is accepted, and the bounty is refunded.`,
        },
      },
    )
    .get("/requests/:id", async ({ caller, params }) => shownAs(caller, params.id), {
      member: true,
      params: IdParams,
      response: { 200: RequestFull, ...errors(401, 404, 422) },
      detail: { tags: ["Requests"], summary: "A request" },
    })
    .post(
      "/requests/:id/bounty",
      async ({ caller, params, body }) => {
        accepted(await addBounty(deps, caller, params.id, body.points, nowOf(deps)));
        return shownAs(caller, params.id);
      },
      {
        member: true,
        params: IdParams,
        body: t.Object({ points: PointsField }, { examples: [{ points: 250 }] }),
        response: { 200: RequestFull, ...errors(401, 403, 404, 409, 422) },
        detail: {
          tags: ["Requests"],
          summary: "Add to a request's bounty",
          description:
            "Any member, while the request is open or pending; 409 when it is filled or expired, or your balance does not hold the points.",
        },
      },
    )
    .post(
      "/requests/:id/fill",
      async ({ caller, params, body }) => {
        accepted(await offerFill(deps, caller, params.id, String(body.torrent), nowOf(deps)));
        return shownAs(caller, params.id);
      },
      {
        member: true,
        params: IdParams,
        body: t.Object(
          {
            torrent: t.Union([t.Integer({ minimum: 1 }), t.String({ maxLength: 500 })], {
              description: "The torrent's id, or a link to its page on this site",
            }),
          },
          { examples: [{ torrent: 42 }, { torrent: "https://tracker.example/torrents/42" }] },
        ),
        response: { 200: RequestFull, ...errors(401, 403, 404, 409, 422) },
        detail: {
          tags: ["Requests"],
          summary: "Fill a request with a torrent",
          description:
            "Any member but the requester, while it is open. The fill then waits for the requester (or staff) to accept or reject it.",
        },
      },
    )
    .post(
      "/requests/:id/accept",
      async ({ caller, params }) => {
        accepted(await acceptRequestFill(deps, caller, params.id, nowOf(deps)));
        return shownAs(caller, params.id);
      },
      {
        member: true,
        params: IdParams,
        response: { 200: RequestFull, ...errors(401, 403, 404, 409, 422) },
        detail: {
          tags: ["Requests"],
          summary: "Accept a request's fill",
          description: "The requester or staff: the filler receives the whole bounty, once.",
        },
      },
    )
    .post(
      "/requests/:id/reject",
      async ({ caller, params }) => {
        accepted(await rejectRequestFill(deps, caller, params.id));
        return shownAs(caller, params.id);
      },
      {
        member: true,
        params: IdParams,
        response: { 200: RequestFull, ...errors(401, 403, 404, 409, 422) },
        detail: {
          tags: ["Requests"],
          summary: "Reject a request's fill",
          description: "The requester or staff: the request is open again, its bounty untouched.",
        },
      },
    );
}
