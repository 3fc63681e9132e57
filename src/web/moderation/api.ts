import { Elysia, t } from "elysia";
import { STAFF } from "../access.ts";
import { type ApiLimiters, apiContext } from "../api/context.ts";
import { accepted } from "../api/errors.ts";
import { errors } from "../api/schemas.ts";
import type { WebDeps } from "../deps.ts";
import { IdParams, wholeNumber } from "../schemas.ts";
import { DECISIONS, decide, MODERATION_NOTE_MAX, QUEUE_PER_PAGE, queuePage } from "./service.ts";

const State = t.Union([t.Literal("pending"), t.Literal("approved"), t.Literal("rejected")], {
  description: "pending: waits in the queue; approved: listed and served; rejected: hidden and refused",
});

const HeldBody = t.Object(
  {
    id: t.Number(),
    title: t.String(),
    size: t.Number({ description: "Bytes" }),
    created_at: t.String({ format: "date-time" }),
    creator: t.Union([t.Object({ id: t.Number(), name: t.String() }), t.Null()], {
      description: "The uploader",
    }),
    moderation: State,
    note: t.String({ description: "The reason of a rejection or the note of a postponement" }),
    moderated_at: t.Union([t.String({ format: "date-time" }), t.Null()], {
      description: "When a moderator last decided",
    }),
  },
  { description: "A torrent held for moderation" },
);

const QueueBody = t.Object(
  {
    items: t.Array(HeldBody),
    pending: t.Number({ description: "How many torrents wait in the queue" }),
    page: t.Number(),
    has_next: t.Boolean(),
  },
  { description: "One page of the moderation queue" },
);

/** The moderation queue for staff: list it, and decide on a torrent. */
export function moderationApi(deps: WebDeps, limiters: ApiLimiters) {
  return new Elysia({ name: "api-moderation" })
    .use(apiContext(deps, limiters))
    .get(
      "/moderation",
      async ({ caller, query }) => {
        const page = query.page ?? 1;
        const state = query.state === "rejected" ? "rejected" : "pending";
        const result = accepted(await queuePage(deps, caller, { state, page }));
        return {
          items: result.rows.map((row) => ({
            id: row.id,
            title: row.title,
            size: row.size,
            created_at: row.createdAt.toISOString(),
            creator: row.creatorId !== null ? { id: row.creatorId, name: row.creator ?? "" } : null,
            moderation: row.moderation,
            note: row.moderationNote,
            moderated_at: row.moderatedAt ? row.moderatedAt.toISOString() : null,
          })),
          pending: result.pending,
          page,
          has_next: result.hasNext,
        };
      },
      {
        role: STAFF,
        query: t.Object({
          state: t.Optional(
            t.Union([t.Literal("pending"), t.Literal("rejected")], {
              description: "pending (default, oldest first) or rejected (latest first)",
            }),
          ),
          page: t.Optional(wholeNumber("page", 1, 10000, "From 1 (default)")),
        }),
        response: { 200: QueueBody, ...errors(401, 403, 422) },
        detail: {
          tags: ["Staff"],
          summary: "The moderation queue",
          description: `Moderators and administrators. ${QUEUE_PER_PAGE} torrents a page.`,
        },
      },
    )
    .post(
      "/torrents/:id/moderation",
      async ({ caller, params, body }) => {
        const result = accepted(await decide(deps, caller, params.id, body));
        return { id: params.id, moderation: result.moderation, note: result.note };
      },
      {
        role: STAFF,
        params: IdParams,
        parse: "application/json",
        body: t.Object(
          {
            decision: t.String({
              maxLength: 20,
              description: `One of ${DECISIONS.join(", ")}: approve serves it at once, reject hides it (with a reason), postpone keeps it pending at the back of the queue`,
            }),
            note: t.Optional(
              t.String({
                maxLength: MODERATION_NOTE_MAX + 100,
                description: `The reason of a rejection (required to reject) or a note for the uploader, at most ${MODERATION_NOTE_MAX} characters`,
              }),
            ),
          },
          { examples: [{ decision: "reject", note: "Duplicate of torrent 12" }] },
        ),
        response: {
          200: t.Object(
            { id: t.Number(), moderation: State, note: t.String({ description: "As stored" }) },
            { description: "The torrent's moderation state now" },
          ),
          ...errors(401, 403, 404, 409, 422),
        },
        detail: {
          tags: ["Staff"],
          summary: "Decide on a torrent in moderation",
          description:
            "Moderators and administrators. Recorded in the staff log; the tracker hears of it before the answer. 409 when the torrent is in that state already.",
        },
      },
    );
}
