/** @jsxImportSource @kitajs/html */
import { Elysia, t } from "elysia";
import { QueuePage } from "../../../views/moderation/queue.tsx";
import { STAFF } from "../access.ts";
import { refusedPage } from "../context.tsx";
import type { WebDeps } from "../deps.ts";
import { pageGate } from "../gate.tsx";
import { CsrfField, IdParams, optionalTexts } from "../schemas.ts";
import { decide, MODERATION_NOTE_MAX, queuePage } from "./service.ts";

/** The staff's moderation queue: /staff/queue, and the decision on one torrent. */
export function moderationPages(deps: WebDeps) {
  return new Elysia({ name: "moderation-pages" })
    .use(pageGate(deps))
    .get(
      "/staff/queue",
      async ({ page, viewer, query, set }) => {
        const state = query.state === "rejected" ? "rejected" : "pending";
        const pageNo = /^[1-9][0-9]{0,4}$/.test(query.page ?? "") ? Number(query.page) : 1;
        const result = await queuePage(deps, viewer, { state, page: pageNo });
        if (!result.ok) return refusedPage(page, set, result.refusal);
        return (
          <QueuePage
            page={page}
            state={state}
            rows={result.rows}
            pending={result.pending}
            pageNo={pageNo}
            hasNext={result.hasNext}
            done={query.done}
            noteMax={MODERATION_NOTE_MAX}
          />
        );
      },
      { role: STAFF, query: optionalTexts({ state: 10, page: 10, done: 10 }) },
    )
    .post(
      "/staff/queue/:id/decide",
      async ({ page, viewer, params, body, set, redirect, base }) => {
        const result = await decide(deps, viewer, params.id, { decision: body.decision, note: body.note });
        if (!result.ok) return refusedPage(page, set, result.refusal, { notFoundTitle: "No such torrent" });
        return redirect(`${base}/staff/queue?done=${encodeURIComponent(body.decision)}`, 303);
      },
      {
        role: { anyOf: STAFF, back: "/staff/queue" },
        params: IdParams,
        body: t.Object({
          decision: t.String({ maxLength: 20 }),
          note: t.Optional(t.String({ maxLength: MODERATION_NOTE_MAX + 100 })),
          ...CsrfField,
        }),
      },
    );
}
