import { Elysia, t } from "elysia";
import { API_PREFIX, type ApiLimiters, apiContext } from "../api/context.ts";
import { accepted } from "../api/errors.ts";
import { errors, iso } from "../api/schemas.ts";
import type { WebDeps } from "../deps.ts";
import { IdParams, wholeNumber } from "../schemas.ts";
import {
  CONVERSATIONS_PER_PAGE,
  conversationList,
  type ListedConversation,
  MESSAGE_LIMITS,
  MESSAGES_SHOWN,
  readConversation,
  replyTo,
  type ShownMessage,
  sendMessage,
} from "./service.ts";

const ConversationItem = t.Object(
  {
    id: t.Integer({ description: "The conversation's number" }),
    kind: t.Union([t.Literal("member"), t.Literal("staff")], {
      description: "member: between two members; staff: between a member and the staff inbox",
    }),
    subject: t.String({ description: "Its subject" }),
    with: t.String({
      description: 'Who it is with, as the caller sees it: a member\'s name, or "Staff"',
    }),
    unread: t.Integer({
      description: "Messages in it the caller has not read (the staff inbox's count there)",
    }),
    last_message_at: t.String({ format: "date-time", description: "When its latest message was sent" }),
  },
  { description: "A conversation" },
);

const MessageOut = t.Object(
  {
    id: t.Integer({ description: "The message's number" }),
    from: t.String({
      description: 'Who wrote it: a member\'s name, "Staff (name)" for an answer of the staff, or "System"',
    }),
    from_staff: t.Boolean({ description: "A staff member wrote it for the staff inbox" }),
    system: t.Boolean({ description: "The site wrote it (a warning or a decision)" }),
    mine: t.Boolean({ description: "The caller wrote it" }),
    body: t.String({ description: "Markdown, as written" }),
    html: t.String({ description: "The HTML the site shows for it" }),
    created_at: t.String({ format: "date-time", description: "When it was sent" }),
  },
  { description: "A message" },
);

const SentBody = t.Object(
  {
    conversation_id: t.Integer({ description: "The conversation it is in" }),
    message: MessageOut,
  },
  { description: "The message sent" },
);

const BodyText = t.String({
  maxLength: MESSAGE_LIMITS.bodyMax,
  description: `The message, Markdown, at most ${MESSAGE_LIMITS.bodyMax} characters`,
});

/** A conversation as the API lists it. */
function itemBody(row: ListedConversation): typeof ConversationItem.static {
  return {
    id: row.id,
    kind: row.kind,
    subject: row.subject,
    with: row.with,
    unread: row.unread,
    last_message_at: iso(row.lastMessageAt),
  };
}

/** A message as the API shows it. */
function messageBody(m: ShownMessage): typeof MessageOut.static {
  return {
    id: m.id,
    from: m.from,
    from_staff: m.fromStaff,
    system: m.system,
    mine: m.mine,
    body: m.body,
    html: m.html,
    created_at: iso(m.createdAt),
  };
}

/** Private messages: list, read, start a conversation, reply. */
export function messagesApi(deps: WebDeps, limiters: ApiLimiters) {
  const { messagesPerMinute, conversationsPerDay } = deps.config.webapi;
  return new Elysia({ name: "api-messages" })
    .use(apiContext(deps, limiters))
    .get(
      "/messages",
      async ({ caller, query }) => {
        const result = accepted(
          await conversationList(deps, caller, { box: query.box ?? "mine", page: query.page ?? 1 }),
        );
        return { items: result.rows.map(itemBody), page: result.page, has_next: result.hasNext };
      },
      {
        member: true,
        query: t.Object({
          box: t.Optional(
            t.Union([t.Literal("mine"), t.Literal("staff")], {
              description: "mine (default): the caller's conversations; staff: the staff inbox (staff only)",
            }),
          ),
          page: t.Optional(wholeNumber("page", 1, 100000, "From 1 (default)")),
        }),
        response: {
          200: t.Object(
            {
              items: t.Array(ConversationItem),
              page: t.Integer({ description: "This page's number" }),
              has_next: t.Boolean({ description: "Whether an older page exists" }),
            },
            { description: "Conversations, the latest first" },
          ),
          ...errors(401, 403, 422),
        },
        detail: {
          tags: ["Messages"],
          summary: "Your conversations, or the staff inbox",
          description: `${CONVERSATIONS_PER_PAGE} a page, the latest first. The staff inbox (box=staff) is for moderators and administrators.`,
        },
      },
    )
    .get(
      "/messages/:id",
      async ({ caller, params }) => {
        const { conversation } = accepted(await readConversation(deps, caller, params.id));
        return {
          id: conversation.id,
          kind: conversation.kind,
          subject: conversation.subject,
          with: conversation.with,
          as_staff: conversation.asStaff,
          messages: conversation.messages.map(messageBody),
        };
      },
      {
        member: true,
        params: IdParams,
        response: {
          200: t.Object(
            {
              id: t.Integer({ description: "The conversation's number" }),
              kind: t.Union([t.Literal("member"), t.Literal("staff")], { description: "member or staff" }),
              subject: t.String({ description: "Its subject" }),
              with: t.String({ description: 'Who it is with: a member\'s name, or "Staff"' }),
              as_staff: t.Boolean({ description: "The caller reads and answers it for the staff inbox" }),
              messages: t.Array(MessageOut),
            },
            { description: "The conversation" },
          ),
          ...errors(401, 404, 422),
        },
        detail: {
          tags: ["Messages"],
          summary: "A conversation",
          description: `Its latest ${MESSAGES_SHOWN} messages, oldest first; reading it marks it read. Only its members read it, and staff a staff conversation; any other gets 404.`,
        },
      },
    )
    .post(
      "/messages",
      async ({ caller, body, set, base }) => {
        const result = accepted(await sendMessage(deps, caller, body));
        set.status = 201;
        set.headers.location = `${base}${API_PREFIX}/messages/${result.conversationId}`;
        return { conversation_id: result.conversationId, message: messageBody(result.message) };
      },
      {
        member: true,
        body: t.Object(
          {
            to: t.Optional(
              t.String({
                maxLength: MESSAGE_LIMITS.nameMax,
                description: "The member to write to, by name (leave out with staff: true)",
              }),
            ),
            staff: t.Optional(
              t.Boolean({ description: "true: write to the staff inbox, which every staff member reads" }),
            ),
            subject: t.String({
              maxLength: MESSAGE_LIMITS.subjectMax,
              description: `The conversation's subject, one line, at most ${MESSAGE_LIMITS.subjectMax} characters`,
            }),
            body: BodyText,
          },
          { examples: [{ to: "alice", subject: "Your upload", body: "Thanks for **seeding** it!" }] },
        ),
        response: { 201: SentBody, ...errors(401, 422) },
        detail: {
          tags: ["Messages"],
          summary: "Start a conversation",
          description: `With a member (to) or the staff inbox (staff: true). Members send at most ${messagesPerMinute} messages a minute and start at most ${conversationsPerDay} conversations a day (429 with Retry-After beyond that).`,
        },
      },
    )
    .post(
      "/messages/:id/replies",
      async ({ caller, params, body, set, base }) => {
        const result = accepted(await replyTo(deps, caller, params.id, body.body));
        set.status = 201;
        set.headers.location = `${base}${API_PREFIX}/messages/${result.conversationId}`;
        return { conversation_id: result.conversationId, message: messageBody(result.message) };
      },
      {
        member: true,
        params: IdParams,
        body: t.Object({ body: BodyText }, { examples: [{ body: "Thank you, that answers it." }] }),
        response: { 201: SentBody, ...errors(401, 404, 422) },
        detail: {
          tags: ["Messages"],
          summary: "Reply in a conversation",
          description: `Its members, and staff in a staff conversation (their answer shows as from "Staff" and their name). At most ${messagesPerMinute} messages a minute for members (429 with Retry-After beyond that).`,
        },
      },
    );
}
