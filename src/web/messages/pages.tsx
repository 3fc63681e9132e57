/** @jsxImportSource @kitajs/html */
import { Elysia, t } from "elysia";
import {
  ConversationListPage,
  ConversationPage,
  MessageItem,
  NewMessagePage,
} from "../../../views/messages/messages.tsx";
import type { Actor } from "../access.ts";
import { problem, refusedPage } from "../context.tsx";
import type { WebDeps } from "../deps.ts";
import { pageGate } from "../gate.tsx";
import { REFUSAL_STATUS } from "../refusal.ts";
import { CsrfField, IdParams, optionalTexts } from "../schemas.ts";
import {
  type Box,
  conversationList,
  MESSAGE_LIMITS,
  readConversation,
  replyTo,
  sendMessage,
} from "./service.ts";

const NewBody = t.Object({
  to: t.Optional(t.String({ maxLength: MESSAGE_LIMITS.nameMax })),
  staff: t.Optional(t.String({ maxLength: 5 })),
  subject: t.String({ maxLength: MESSAGE_LIMITS.subjectMax }),
  body: t.String({ maxLength: MESSAGE_LIMITS.bodyMax }),
  ...CsrfField,
});
const ReplyBody = t.Object({ body: t.String({ maxLength: MESSAGE_LIMITS.bodyMax }), ...CsrfField });

const DONE: Record<string, string> = { sent: "Sent." };

/** A page number from the query, 1 when absent or not one. */
function pageNumber(value: string | undefined): number {
  return value && /^[1-9][0-9]{0,5}$/.test(value) ? Number(value) : 1;
}

/** Private messages: the member's conversations, the staff inbox, a conversation, new ones, replies. */
export function messagePages(deps: WebDeps) {
  const list = async (
    page: Parameters<typeof ConversationListPage>[0]["page"],
    viewer: Actor,
    set: { status?: number | string; headers: Record<string, string | number> },
    box: Box,
    query: { page?: string; done?: string },
  ) => {
    const result = await conversationList(deps, viewer, { box, page: pageNumber(query.page) });
    if (!result.ok) return refusedPage(page, set, result.refusal);
    return (
      <ConversationListPage
        page={page}
        box={box}
        rows={result.rows}
        pageNumber={result.page}
        hasNext={result.hasNext}
        notice={query.done ? DONE[query.done] : undefined}
      />
    );
  };
  return new Elysia({ name: "message-pages" })
    .use(pageGate(deps))
    .get("/messages", ({ page, viewer, set, query }) => list(page, viewer, set, "mine", query), {
      member: true,
      query: optionalTexts({ page: 10, done: 20 }),
    })
    .get("/messages/staff", ({ page, viewer, set, query }) => list(page, viewer, set, "staff", query), {
      member: true,
      query: optionalTexts({ page: 10 }),
    })
    .get(
      "/messages/new",
      ({ page, query }) => (
        <NewMessagePage
          page={page}
          staff={query.staff === "1"}
          limits={MESSAGE_LIMITS}
          values={{ to: query.to ?? "" }}
        />
      ),
      { member: true, query: optionalTexts({ staff: 5, to: MESSAGE_LIMITS.nameMax }) },
    )
    .post(
      "/messages",
      async ({ page, viewer, body, set }) => {
        const staff = body.staff === "1";
        const result = await sendMessage(deps, viewer, {
          to: staff ? undefined : body.to,
          staff,
          subject: body.subject,
          body: body.body,
        });
        if (result.ok)
          return new Response(null, {
            status: 303,
            headers: {
              location: `${page.base}/messages/${result.conversationId}#message-${result.message.id}`,
            },
          });
        return refusedPage(page, set, result.refusal, {
          form: {
            field: "body",
            render: (errors) => (
              <NewMessagePage
                page={page}
                staff={staff}
                limits={MESSAGE_LIMITS}
                values={{ to: body.to, subject: body.subject, body: body.body }}
                errors={errors}
              />
            ),
          },
        });
      },
      { member: "/messages/new", body: NewBody },
    )
    .get(
      "/messages/:id",
      async ({ page, viewer, params, set }) => {
        const result = await readConversation(deps, viewer, params.id);
        if (!result.ok) return refusedPage(page, set, result.refusal);
        // The header was counted before this page marked the conversation read.
        const { cleared } = result;
        const read = {
          ...page,
          viewer: {
            ...viewer,
            unreadMessages: Math.max(0, viewer.unreadMessages - cleared.mine),
            staffUnread: Math.max(0, viewer.staffUnread - cleared.staff),
          },
        };
        return (
          <ConversationPage page={read} conversation={result.conversation} bodyMax={MESSAGE_LIMITS.bodyMax} />
        );
      },
      { member: true, params: IdParams },
    )
    .post(
      "/messages/:id/reply",
      async ({ page, viewer, params, body, set, request }) => {
        const htmx = request.headers.get("hx-request") === "true";
        const result = await replyTo(deps, viewer, params.id, body.body);
        if (result.ok) {
          // htmx adds the new message under the others; a plain form goes back to the conversation.
          if (htmx) return <MessageItem message={result.message} />;
          return new Response(null, {
            status: 303,
            headers: { location: `${page.base}/messages/${params.id}#message-${result.message.id}` },
          });
        }
        const { refusal } = result;
        // htmx swaps nothing in for an error: the error page's message shows on the form.
        if (htmx || refusal.code === "not_found") {
          if (refusal.retryAfterSeconds) set.headers["retry-after"] = String(refusal.retryAfterSeconds);
          const title = refusal.code === "not_found" ? "Not found" : "Not sent";
          return problem(page, set, REFUSAL_STATUS[refusal.code], title, refusal.message);
        }
        const shown = await readConversation(deps, viewer, params.id);
        if (!shown.ok) return refusedPage(page, set, shown.refusal);
        return refusedPage(page, set, refusal, {
          form: {
            field: "body",
            render: (errors) => (
              <ConversationPage
                page={page}
                conversation={shown.conversation}
                bodyMax={MESSAGE_LIMITS.bodyMax}
                body={body.body}
                errors={errors}
              />
            ),
          },
        });
      },
      { member: "/messages/:id", params: IdParams, body: ReplyBody },
    );
}
