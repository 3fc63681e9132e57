import type { Sql } from "../../db/client.ts";
import {
  addReply,
  type ConversationHead,
  type ConversationKind,
  type ConversationRow,
  conversationHead,
  conversationMessages,
  enabledMemberByName,
  type MessageRow,
  markRead,
  memberConversations,
  messageRow,
  type SendLimits,
  type SendOutcome,
  staffConversations,
  startConversation,
} from "../../db/queries/messages.ts";
import { type Actor, isStaff } from "../access.ts";
import type { WebDeps } from "../deps.ts";
import { type RenderedHtml, renderBounded, renderMarkdown, storedHtml } from "../markdown/service.ts";
import { type Refused, type Result, refuse, refuseField, refuseFields } from "../refusal.ts";

/** Longest subject and message, for the forms, their schemas and the rules. */
export const MESSAGE_LIMITS = { subjectMax: 200, bodyMax: 10000, nameMax: 64 } as const;
/** Conversations on one page of a list. */
export const CONVERSATIONS_PER_PAGE = 25;
/** Most messages one conversation shows: its latest, oldest first. */
export const MESSAGES_SHOWN = 500;
/** What a page or the API says of a conversation the reader may not see (or that is not there). */
export const NO_CONVERSATION = "There is no conversation with this number that you can read.";
/** How a member sees the staff inbox's side of a conversation. */
export const STAFF_NAME = "Staff";
/** How everyone sees a message the site wrote. */
export const SYSTEM_NAME = "System";

/** Which list: the member's own conversations, or the staff inbox (staff only). */
export type Box = "mine" | "staff";

/** A conversation in a list. */
export interface ListedConversation {
  id: number;
  kind: ConversationKind;
  subject: string;
  lastMessageAt: Date;
  unread: number;
  /** Who it is with, as the reader sees it ("Staff", a member's name, "A former member"). */
  with: string;
}

/** A message as a conversation page and the API show it. */
export interface ShownMessage {
  id: number;
  senderId: number | null;
  /** Who wrote it, as shown ("Staff (name)", a member's name, "System", "A former member"). */
  from: string;
  fromStaff: boolean;
  system: boolean;
  mine: boolean;
  html: RenderedHtml;
  body: string;
  createdAt: Date;
}

/** A conversation as its page shows it. */
export interface ShownConversation {
  id: number;
  kind: ConversationKind;
  subject: string;
  with: string;
  /** The reader answers for the staff inbox. */
  asStaff: boolean;
  messages: ShownMessage[];
}

const FORMER = "A former member";

/** Text as stored: Unix line ends, trimmed. */
function clean(text: string | undefined): string {
  return (text ?? "").replace(/\r\n?/g, "\n").trim();
}

const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

function subjectProblem(subject: string): string | null {
  if (!subject) return "Give the conversation a subject.";
  if (subject.length > MESSAGE_LIMITS.subjectMax)
    return `Use at most ${MESSAGE_LIMITS.subjectMax} characters.`;
  if (/[\u0000-\u001f\u007f]/.test(subject)) return "Use one line without control characters.";
  return null;
}

function bodyProblem(body: string): string | null {
  if (!body) return "Write a message first.";
  if (body.length > MESSAGE_LIMITS.bodyMax) return `Use at most ${MESSAGE_LIMITS.bodyMax} characters.`;
  if (CONTROL.test(body)) return "Use text and line breaks only (no control characters).";
  return null;
}

/** A member's sending limits: staff answer as often as they must. */
function limitsFor(deps: WebDeps, actor: Actor): SendLimits {
  if (isStaff(actor)) return { perMinute: null, conversationsPerDay: null };
  return {
    perMinute: deps.config.webapi.messagesPerMinute,
    conversationsPerDay: deps.config.webapi.conversationsPerDay,
  };
}

/** The refusal of a throttled send, with the seconds to wait, on the form's `body` field. */
function throttled(deps: WebDeps, outcome: { throttled: number; what: "minute" | "day" }): Refused {
  const { messagesPerMinute, conversationsPerDay } = deps.config.webapi;
  const message =
    outcome.what === "minute"
      ? `You are sending messages too fast: at most ${messagesPerMinute} a minute. Try again in ${outcome.throttled} s.`
      : `You started ${conversationsPerDay} conversations today, the most allowed: answer in one of them, or try again in ${Math.ceil(outcome.throttled / 3600)} h.`;
  return refuse("throttled", message, { fields: { body: message }, retryAfterSeconds: outcome.throttled });
}

/** Whether the actor reads the conversation, and whether as the staff inbox. */
function readerOf(actor: Actor, head: ConversationHead): { reads: boolean; asStaff: boolean } {
  const member = head.members.some((m) => m.id === actor.id);
  if (head.kind === "staff" && isStaff(actor) && !member) return { reads: true, asStaff: true };
  return { reads: member, asStaff: false };
}

/** Who the conversation is with, as the reader sees it. */
function withOf(actor: Actor, head: ConversationHead, asStaff: boolean): string {
  if (head.kind === "staff") return asStaff ? (head.members[0]?.name ?? FORMER) : STAFF_NAME;
  return head.members.find((m) => m.id !== actor.id)?.name ?? FORMER;
}

/** The message as the reader sees it. */
function shownMessage(actor: Actor, row: MessageRow): ShownMessage {
  const system = row.fromSite;
  let from: string;
  if (row.asStaff) from = `${STAFF_NAME} (${row.sender ?? FORMER})`;
  else if (system) from = SYSTEM_NAME;
  else from = row.sender ?? FORMER;
  return {
    id: row.id,
    senderId: row.senderId,
    from,
    fromStaff: row.asStaff,
    system,
    mine: row.senderId === actor.id,
    html: storedHtml(row.html),
    body: row.body,
    createdAt: row.createdAt,
  };
}

/** One page of a list of conversations, the latest first, or why not (the staff inbox is staff's). */
export async function conversationList(
  deps: WebDeps,
  actor: Actor,
  input: { box: Box; page: number },
): Promise<Result<{ rows: ListedConversation[]; page: number; hasNext: boolean }>> {
  if (input.box === "staff" && !isStaff(actor))
    return refuse("forbidden", "Only moderators and administrators read the staff inbox.");
  const options = { limit: CONVERSATIONS_PER_PAGE, offset: (input.page - 1) * CONVERSATIONS_PER_PAGE };
  const rows: ConversationRow[] =
    input.box === "staff"
      ? await staffConversations(deps.sql, options)
      : await memberConversations(deps.sql, actor.id, options);
  return {
    ok: true,
    page: input.page,
    hasNext: rows.length > CONVERSATIONS_PER_PAGE,
    rows: rows.slice(0, CONVERSATIONS_PER_PAGE).map((row) => ({
      id: row.id,
      kind: row.kind,
      subject: row.subject,
      lastMessageAt: row.lastMessageAt,
      unread: row.unread,
      with: row.kind === "staff" && input.box === "mine" ? STAFF_NAME : (row.other ?? FORMER),
    })),
  };
}

/** The conversation if the actor may read it (members of it; staff for a staff conversation). */
async function readable(
  deps: WebDeps,
  actor: Actor,
  id: number,
): Promise<Result<{ head: ConversationHead; asStaff: boolean }>> {
  const head = await conversationHead(deps.sql, id);
  if (!head) return refuse("not_found", NO_CONVERSATION);
  const reader = readerOf(actor, head);
  // Someone else's conversation reads as one that is not there: its number tells nothing.
  if (!reader.reads) return refuse("not_found", NO_CONVERSATION);
  return { ok: true, head, asStaff: reader.asStaff };
}

/**
 * A conversation with its messages, marked read for the reader (and for the staff inbox, by staff),
 * with how much that took off the reader's unread counts (for the header of the page showing it).
 */
export async function readConversation(
  deps: WebDeps,
  actor: Actor,
  id: number,
): Promise<Result<{ conversation: ShownConversation; cleared: { mine: number; staff: number } }>> {
  const found = await readable(deps, actor, id);
  if (!found.ok) return found;
  const { head, asStaff } = found;
  const rows = await conversationMessages(deps.sql, id, MESSAGES_SHOWN);
  const cleared = await markRead(deps.sql, id, actor.id, asStaff);
  return {
    ok: true,
    cleared: { mine: cleared.mine, staff: cleared.staff ? 1 : 0 },
    conversation: {
      id: head.id,
      kind: head.kind,
      subject: head.subject,
      with: withOf(actor, head, asStaff),
      asStaff,
      messages: rows.map((row) => shownMessage(actor, row)),
    },
  };
}

/** A message that was sent (and its conversation), or why not. */
export type SendResult = Result<{ conversationId: number; message: ShownMessage }>;

async function sent(deps: WebDeps, actor: Actor, outcome: SendOutcome): Promise<SendResult> {
  if ("throttled" in outcome) return throttled(deps, outcome);
  const row = await messageRow(deps.sql, outcome.messageId);
  if (!row) return refuse("not_found", NO_CONVERSATION);
  return { ok: true, conversationId: outcome.conversationId, message: shownMessage(actor, row) };
}

/**
 * Starts a conversation: with another member (`to`, their name) or with the staff inbox (`staff`).
 * Members send at most `webapi.messagesPerMinute` messages a minute and start at most
 * `webapi.conversationsPerDay` conversations a day (429 with the time to wait); staff are not limited.
 */
export async function sendMessage(
  deps: WebDeps,
  actor: Actor,
  input: { to?: string; staff?: boolean; subject?: string; body?: string },
): Promise<SendResult> {
  const subject = clean(input.subject);
  const body = clean(input.body);
  const fields: Record<string, string> = {};
  const to = (input.to ?? "").trim();
  if (!input.staff && !to) fields.to = "Name the member to write to, or write to the staff.";
  if (input.staff && to) fields.to = "Write either to a member or to the staff, not both.";
  if (to.length > MESSAGE_LIMITS.nameMax || /[\u0000-\u001f\u007f]/.test(to))
    fields.to = "There is no member with this name.";
  const subjectIssue = subjectProblem(subject);
  if (subjectIssue) fields.subject = subjectIssue;
  const bodyIssue = bodyProblem(body);
  if (bodyIssue) fields.body = bodyIssue;
  if (Object.keys(fields).length) return refuseFields(fields);
  const rendering = renderBounded(body);
  if (!rendering.ok) return refuseField("body", rendering.problem);
  let toUserId: number | null = null;
  if (!input.staff) {
    const member = await enabledMemberByName(deps.sql, to);
    if (!member) return refuseField("to", "There is no member with this name.");
    if (member.id === actor.id)
      return refuseField("to", "Write to someone else (or to the staff, for a question to them).");
    toUserId = member.id;
  }
  const outcome = await startConversation(deps.sql, {
    kind: input.staff ? "staff" : "member",
    subject,
    body,
    html: rendering.html,
    senderId: actor.id,
    toUserId,
    limits: limitsFor(deps, actor),
  });
  return sent(deps, actor, outcome);
}

/** Answers in a conversation the actor reads: a member of it, or staff for the staff inbox. */
export async function replyTo(deps: WebDeps, actor: Actor, id: number, text?: string): Promise<SendResult> {
  const found = await readable(deps, actor, id);
  if (!found.ok) return found;
  const body = clean(text);
  const problem = bodyProblem(body);
  if (problem) return refuseField("body", problem);
  const rendering = renderBounded(body);
  if (!rendering.ok) return refuseField("body", rendering.problem);
  const outcome = await addReply(deps.sql, {
    conversationId: id,
    senderId: actor.id,
    asStaff: found.asStaff,
    body,
    html: rendering.html,
    limits: limitsFor(deps, actor),
  });
  return sent(deps, actor, outcome);
}

/**
 * Sends a member a message from the site (a warning, the outcome of a report, a moderation
 * decision): a new conversation with the staff inbox, unread by the member, who may answer it;
 * shown as from "System". Not limited. The body is Markdown (past the renderer's limits it shows
 * as a notice saying so); the subject is cut to the longest allowed. Returns the conversation's id.
 */
export async function sendSystemMessage(
  sql: Sql,
  input: { toUserId: number; subject: string; body: string },
): Promise<number> {
  const subject = clean(input.subject)
    .replace(/[\u0000-\u001f\u007f]/g, " ")
    .slice(0, MESSAGE_LIMITS.subjectMax);
  const body =
    clean(input.body)
      .replace(/\u0000/g, "")
      .slice(0, 20000) || "(no text)";
  const outcome = await startConversation(sql, {
    kind: "staff",
    subject: subject || "A message from the site",
    body,
    html: renderMarkdown(body),
    senderId: null,
    toUserId: input.toUserId,
    limits: { perMinute: null, conversationsPerDay: null },
  });
  if ("throttled" in outcome) throw new Error("a system message is never throttled");
  return outcome.conversationId;
}
