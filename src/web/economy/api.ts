import { Elysia, t } from "elysia";
import type { ApiLimiters } from "../api/context.ts";
import { apiContext } from "../api/context.ts";
import { accepted } from "../api/errors.ts";
import { errors, exactInteger } from "../api/schemas.ts";
import type { WebDeps } from "../deps.ts";
import { inviteLink } from "../invites/service.ts";
import { linksFor } from "../links.ts";
import { IdParams, wholeNumber } from "../schemas.ts";
import {
  ECONOMY_STAFF,
  hitAndRunOffenders,
  MAX_GIB_PER_PURCHASE,
  MAX_PAGE,
  memberBonus,
  memberHitAndRuns,
  points,
  type SnatchItem,
  spendBonus,
} from "./service.ts";

const Time = (description: string) => t.String({ format: "date-time", description });
const Bytes = (description: string) =>
  t.Unsafe<number | ReturnType<typeof JSON.rawJSON>>(
    t.Any({ type: "integer", format: "int64", minimum: 0, description }),
  );
const Status = t.Union(
  [t.Literal("satisfied"), t.Literal("seeding"), t.Literal("at_risk"), t.Literal("hit_and_run")],
  {
    description:
      "satisfied: owes nothing more; seeding: seeding now and still short; at_risk: not seeding, still short, deadline ahead; hit_and_run: deadline passed while short (seeding the rest settles it)",
  },
);
const Counts = t.Object(
  { satisfied: t.Number(), seeding: t.Number(), at_risk: t.Number(), hit_and_run: t.Number() },
  { description: "The member's snatches at each status" },
);

const Snatch = t.Object(
  {
    torrent: t.Object({ id: t.Number(), title: t.String(), size: Bytes("Bytes") }),
    status: Status,
    settled_by: t.Union([t.Literal("seed_time"), t.Literal("ratio"), t.Literal("not_downloaded"), t.Null()], {
      description: "Why a satisfied snatch is; null otherwise",
    }),
    uploaded: Bytes("Bytes of upload credited on this torrent"),
    downloaded: Bytes("Bytes of download credited on this torrent"),
    seed_seconds: t.Number({ description: "Seconds seeded so far" }),
    seed_seconds_owed: t.Number({ description: "Seconds of seeding still owed (0 when satisfied)" }),
    completed_at: Time("When the member completed it"),
    deadline: Time("The end of the window in which the seed time is owed"),
    seconds_left: t.Number({ description: "Seconds until the deadline, 0 once past" }),
    last_announce_at: t.Union([Time("The member's last announce on it"), t.Null()]),
  },
  { description: "A torrent the member completed, under the hit-and-run rule" },
);

const MemberHitAndRuns = t.Object({
  member: t.Object({ id: t.Number(), name: t.String() }),
  hit_and_runs: t.Number({ description: "Snatches that are hit-and-runs now" }),
  downloads_paused: t.Boolean({
    description:
      "True when the tracker refuses the member's new downloads for too many hit-and-runs (hitAndRun.pauseDownloadsAfter; checked hourly)",
  }),
  counts: Counts,
  rule: t.Object(
    {
      seed_hours: t.Number(),
      window_days: t.Number(),
      ratio_percent: t.Number(),
      min_download_percent: t.Number(),
    },
    { description: "The rule in force (see the configuration keys hitAndRun.*)" },
  ),
  items: t.Array(Snatch, { description: "Most recently completed first, 50 a page" }),
  page: t.Number(),
  has_next: t.Boolean(),
});

const Offenders = t.Object({
  items: t.Array(
    t.Object({
      member: t.Object({ id: t.Number(), name: t.String() }),
      hit_and_runs: t.Number(),
      latest_deadline: Time("The latest deadline among them"),
    }),
    { description: "Most hit-and-runs first" },
  ),
  page: t.Number(),
  has_next: t.Boolean(),
});

const LedgerRow = t.Object({
  id: t.Number(),
  reason: t.Union(
    [
      t.Literal("seeding"),
      t.Literal("upload_credit"),
      t.Literal("invite"),
      t.Literal("request_bounty"),
      t.Literal("request_refund"),
      t.Literal("request_award"),
    ],
    {
      description:
        "seeding: earned; upload_credit, invite: bought; request_bounty: put on a request's bounty; request_refund: a bounty given back when its request expired; request_award: a request's bounty won by filling it",
    },
  ),
  request_id: t.Union([t.Number({ description: "The request of a bounty, refund or award" }), t.Null()]),
  points: t.Number({ description: "Positive for an earning, negative for a spending (to 1/1000)" }),
  hour: t.Union([Time("The hour earned for"), t.Null()]),
  seeding_torrents: t.Union([t.Number({ description: "Torrents seeded in that hour" }), t.Null()]),
  bytes: t.Union([t.Number({ description: "Upload credit bought" }), t.Null()]),
  invite_id: t.Union([t.Number({ description: "The invite bought" }), t.Null()]),
  at: Time("When"),
});

const Bonus = t.Object({
  member: t.Object({ id: t.Number(), name: t.String() }),
  points: t.Number({ description: "The balance: the sum of the ledger (to 1/1000)" }),
  prices: t.Object(
    {
      points_per_gib: t.Number({ description: "Points for 1 GiB of upload credit; 0: not for sale" }),
      invite_points: t.Number({ description: "Points for an invite; 0: not for sale" }),
      max_gib: t.Number({ description: "Most GiB bought at once" }),
    },
    { description: "The shop" },
  ),
  ledger: t.Array(LedgerRow, { description: "The latest 50 rows, newest first" }),
});

const Spent = t.Object({
  ledger_id: t.Number({ description: "The spending's ledger row" }),
  spent: t.Number({ description: "Points spent" }),
  points: t.Number({ description: "The balance after it" }),
  bytes: t.Optional(t.Number({ description: "Upload credit added to the member's total" })),
  invite: t.Optional(
    t.Object({
      id: t.Number(),
      link: t.String({ description: "The registration link; shown this once" }),
      expires_at: Time("When the invite expires"),
    }),
  ),
});

function snatchBody(s: SnatchItem): typeof Snatch.static {
  return {
    torrent: { id: s.torrent.id, title: s.torrent.title, size: exactInteger(s.torrent.size) },
    status: s.status,
    settled_by: s.settledBy,
    uploaded: exactInteger(s.uploaded),
    downloaded: exactInteger(s.downloaded),
    seed_seconds: s.seedSeconds,
    seed_seconds_owed: s.seedSecondsOwed,
    completed_at: s.completedAt.toISOString(),
    deadline: s.deadline.toISOString(),
    seconds_left: s.secondsLeft,
    last_announce_at: s.lastAnnounceAt?.toISOString() ?? null,
  };
}

const PageQuery = t.Object({
  page: t.Optional(wholeNumber("page", 1, MAX_PAGE, "From 1 (default)")),
});

/** Hit-and-runs and seeding bonus points: a member's own (or any, for staff) and the staff list. */
export function economyApi(deps: WebDeps, limiters: ApiLimiters) {
  const now = () => deps.clock?.() ?? new Date();
  return new Elysia({ name: "api-economy" })
    .use(apiContext(deps, limiters))
    .get(
      "/users/:id/hit-and-runs",
      async ({ caller, params, query }) => {
        const result = accepted(
          await memberHitAndRuns(deps, caller, {
            userId: params.id,
            page: query.page ?? 1,
            now: now(),
          }),
        );
        return {
          member: result.member,
          hit_and_runs: result.counts.hit_and_run,
          downloads_paused: result.downloadsPaused,
          counts: result.counts,
          rule: {
            seed_hours: result.rule.seedHours,
            window_days: result.rule.windowDays,
            ratio_percent: result.rule.ratioPercent,
            min_download_percent: result.rule.minDownloadPercent,
          },
          items: result.items.map(snatchBody),
          page: result.page,
          has_next: result.hasNext,
        };
      },
      {
        member: true,
        params: IdParams,
        query: PageQuery,
        response: { 200: MemberHitAndRuns, ...errors(401, 403, 404, 422) },
        detail: {
          tags: ["Users"],
          summary: "A member's snatches under the hit-and-run rule",
          description:
            "The member themselves, or staff. Every completed torrent with its status, the seed time still owed and the time left.",
        },
      },
    )
    .get(
      "/hit-and-runs",
      async ({ query }) => {
        const result = accepted(await hitAndRunOffenders(deps, { page: query.page ?? 1, now: now() }));
        return {
          items: result.items.map((i) => ({
            member: i.member,
            hit_and_runs: i.hitAndRuns,
            latest_deadline: i.latestDeadline.toISOString(),
          })),
          page: result.page,
          has_next: result.hasNext,
        };
      },
      {
        role: ECONOMY_STAFF,
        query: PageQuery,
        response: { 200: Offenders, ...errors(401, 403, 422) },
        detail: {
          tags: ["Users"],
          summary: "Members with hit-and-runs",
          description: "Staff only. Members with at least one hit-and-run now, most first.",
        },
      },
    )
    .get(
      "/users/:id/bonus",
      async ({ caller, params }) => {
        const result = accepted(await memberBonus(deps, caller, params.id));
        return {
          member: result.member,
          points: points(result.millipoints),
          prices: {
            points_per_gib: result.prices.pointsPerGiB,
            invite_points: result.prices.invitePoints,
            max_gib: result.prices.maxGiB,
          },
          ledger: result.ledger.map((r) => ({
            id: r.id,
            reason: r.reason,
            request_id: r.requestId,
            points: points(r.millipoints),
            hour: r.hour?.toISOString() ?? null,
            seeding_torrents: r.seedingTorrents,
            bytes: r.bytes,
            invite_id: r.inviteId,
            at: r.at.toISOString(),
          })),
        };
      },
      {
        member: true,
        params: IdParams,
        response: { 200: Bonus, ...errors(401, 403, 404, 422) },
        detail: {
          tags: ["Users"],
          summary: "A member's seeding bonus points",
          description:
            "The member themselves, or staff. The balance (the ledger's sum) and the latest ledger rows.",
        },
      },
    )
    .post(
      "/bonus/spend",
      async ({ caller, body, request, base }) => {
        const input =
          body.item === "invite"
            ? ({ item: "invite" } as const)
            : ({ item: "upload_credit", gib: body.gib ?? Number.NaN } as const);
        const result = accepted(await spendBonus(deps, caller.id, input, now()));
        const links = linksFor(deps.config, request, base);
        return {
          ledger_id: result.ledgerId,
          spent: points(result.spentMillipoints),
          points: points(result.millipoints),
          ...(result.bytes !== undefined ? { bytes: result.bytes } : {}),
          ...(result.invite
            ? {
                invite: {
                  id: result.invite.id,
                  link: inviteLink(links.site, result.invite.secret),
                  expires_at: result.invite.expiresAt.toISOString(),
                },
              }
            : {}),
        };
      },
      {
        member: true,
        body: t.Object(
          {
            item: t.Union([t.Literal("upload_credit"), t.Literal("invite")], {
              description: "What to buy",
              error: () => ({ field: "item", message: "Buy upload_credit or invite." }) as never,
            }),
            gib: t.Optional(
              t.Integer({
                minimum: 1,
                maximum: MAX_GIB_PER_PURCHASE,
                description: `GiB of upload credit, 1 to ${MAX_GIB_PER_PURCHASE} (upload_credit only)`,
                error: () =>
                  ({
                    field: "gib",
                    message: `Use a whole number of GiB from 1 to ${MAX_GIB_PER_PURCHASE}.`,
                  }) as never,
              }),
            ),
          },
          { examples: [{ item: "upload_credit", gib: 10 }] },
        ),
        response: { 200: Spent, ...errors(401, 403, 409, 422) },
        detail: {
          tags: ["Users"],
          summary: "Spend seeding bonus points",
          description:
            "Buys upload credit (whole GiB, added to the caller's uploaded total) or an invite (its link is in the answer, once). 409 when the balance is short.",
        },
      },
    );
}
