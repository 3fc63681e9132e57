/** @jsxImportSource @kitajs/html */
import { DateTime } from "../layout/date-time.tsx";
import { Csrf, FieldError, Layout } from "../layout/layout.tsx";
import type { PageContext } from "../layout/page.ts";
import { MarkdownField, Rendered, type RenderedHtml } from "../markdown/rendered.tsx";

/** A conversation in a list. */
export interface ConversationItemView {
  id: number;
  kind: "member" | "staff";
  subject: string;
  lastMessageAt: Date;
  unread: number;
  with: string;
}

/** One message in a conversation. */
export interface MessageView {
  id: number;
  from: string;
  fromStaff: boolean;
  system: boolean;
  mine: boolean;
  html: RenderedHtml;
  createdAt: Date;
}

/** A conversation and its messages. */
export interface ConversationView {
  id: number;
  kind: "member" | "staff";
  subject: string;
  with: string;
  asStaff: boolean;
  messages: MessageView[];
}

/** The limits the forms repeat. */
export interface MessageLimitsView {
  subjectMax: number;
  bodyMax: number;
  nameMax: number;
}

function Tabs(props: { page: PageContext; box: "mine" | "staff"; staffUnread: number }) {
  const { base, viewer } = props.page;
  const staff = viewer?.can("moderate") || viewer?.can("admin");
  return (
    <nav class="row tabs" aria-label="Message boxes">
      {props.box === "mine" ? (
        <strong>My conversations</strong>
      ) : (
        <a href={`${base}/messages`}>My conversations</a>
      )}
      {staff ? (
        props.box === "staff" ? (
          <strong>Staff inbox</strong>
        ) : (
          <a href={`${base}/messages/staff`} id="staff-inbox-link" safe>
            {`Staff inbox${props.staffUnread > 0 ? ` (${String(props.staffUnread)} waiting)` : ""}`}
          </a>
        )
      ) : (
        ""
      )}
      <a class="button" href={`${base}/messages/new`}>
        New message
      </a>
      <a class="button secondary" href={`${base}/messages/new?staff=1`}>
        Write to the staff
      </a>
    </nav>
  );
}

/** A list of conversations: the member's own, or the staff inbox. */
export function ConversationListPage(props: {
  page: PageContext;
  box: "mine" | "staff";
  rows: ConversationItemView[];
  pageNumber: number;
  hasNext: boolean;
  notice?: string;
}) {
  const { base, viewer } = props.page;
  const title = props.box === "staff" ? "Staff inbox" : "Messages";
  const listUrl = (n: number) => `${base}/messages${props.box === "staff" ? "/staff" : ""}?page=${String(n)}`;
  return (
    <Layout page={props.page} title={title}>
      <h1>{title}</h1>
      {props.notice ? (
        <div class="notice good" safe>
          {props.notice}
        </div>
      ) : (
        ""
      )}
      <Tabs page={props.page} box={props.box} staffUnread={viewer?.staffUnread ?? 0} />
      {props.rows.length === 0 ? (
        <p class="muted">
          {props.box === "staff" ? "No conversation with the staff yet." : "No messages yet."}
        </p>
      ) : (
        <table class="list conversations">
          <thead>
            <tr>
              <th>Subject</th>
              <th>With</th>
              <th>Last message</th>
            </tr>
          </thead>
          <tbody>
            {props.rows.map((row) => (
              <tr id={`conversation-${String(row.id)}`}>
                <td>
                  <a
                    href={`${base}/messages/${String(row.id)}`}
                    class={row.unread > 0 ? "unread-subject" : undefined}
                    safe
                  >
                    {row.subject}
                  </a>
                  {row.unread > 0 ? (
                    <span class="badge" safe>
                      {`${String(row.unread)} new`}
                    </span>
                  ) : (
                    ""
                  )}
                </td>
                <td safe>{row.with}</td>
                <td>
                  <DateTime date={row.lastMessageAt} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {props.pageNumber > 1 || props.hasNext ? (
        <nav class="pager" aria-label="Pages">
          {props.pageNumber > 1 ? <a href={listUrl(props.pageNumber - 1)}>← Newer</a> : <span />}
          <span class="muted" safe>
            {`Page ${String(props.pageNumber)}`}
          </span>
          {props.hasNext ? <a href={listUrl(props.pageNumber + 1)}>Older →</a> : <span />}
        </nav>
      ) : (
        ""
      )}
    </Layout>
  );
}

/** A new conversation: with a member (their name), or with the staff. */
export function NewMessagePage(props: {
  page: PageContext;
  staff: boolean;
  limits: MessageLimitsView;
  values?: { to?: string; subject?: string; body?: string };
  errors?: Record<string, string>;
}) {
  const { base } = props.page;
  const title = props.staff ? "Write to the staff" : "New message";
  return (
    <Layout page={props.page} title={title}>
      <h1>{title}</h1>
      {props.staff ? <p class="muted">Every moderator and administrator reads this and may answer.</p> : ""}
      <form class="stack card" method="post" action={`${base}/messages`}>
        <Csrf page={props.page} />
        {props.staff ? (
          <input type="hidden" name="staff" value="1" />
        ) : (
          <label>
            To (member name)
            <input
              name="to"
              required
              maxlength={String(props.limits.nameMax)}
              value={props.values?.to ?? ""}
              autocomplete="off"
            />
            <FieldError errors={props.errors} name="to" />
          </label>
        )}
        <label>
          Subject
          <input
            name="subject"
            required
            maxlength={String(props.limits.subjectMax)}
            value={props.values?.subject ?? ""}
          />
          <FieldError errors={props.errors} name="subject" />
        </label>
        <MarkdownField
          base={base}
          label="Message"
          name="body"
          value={props.values?.body ?? ""}
          maxLength={props.limits.bodyMax}
          required
          errors={props.errors}
          rows={6}
        />
        <div class="row">
          <button type="submit">Send</button>
          <a href={`${base}/messages`}>Cancel</a>
        </div>
      </form>
    </Layout>
  );
}

/** One message (also the fragment htmx adds after a reply). */
export function MessageItem(props: { message: MessageView }) {
  const m = props.message;
  const kind = m.system ? " from-system" : m.fromStaff ? " from-staff" : "";
  return (
    <article class={`message card${kind}`} id={`message-${String(m.id)}`}>
      <header class="message-head">
        <strong safe>{m.from}</strong>
        {m.mine ? <span class="muted">(you)</span> : ""}
        <span class="muted">
          <DateTime date={m.createdAt} />
        </span>
      </header>
      <Rendered html={m.html} />
    </article>
  );
}

/** The reply form of a conversation (htmx adds the answer's message above it). */
export function ReplyForm(props: {
  page: PageContext;
  conversationId: number;
  bodyMax: number;
  body?: string;
  errors?: Record<string, string>;
}) {
  const action = `${props.page.base}/messages/${String(props.conversationId)}/reply`;
  return (
    <form
      class="stack card"
      id="reply-form"
      method="post"
      action={action}
      hx-post={action}
      hx-target="#messages"
      hx-swap="beforeend"
      data-reset-after-request=""
    >
      <Csrf page={props.page} />
      <MarkdownField
        base={props.page.base}
        label="Reply"
        name="body"
        value={props.body ?? ""}
        maxLength={props.bodyMax}
        required
        errors={props.errors}
        rows={4}
      />
      <div class="row">
        <button type="submit">Send reply</button>
      </div>
    </form>
  );
}

/** A conversation: its messages, oldest first, and the reply form. */
export function ConversationPage(props: {
  page: PageContext;
  conversation: ConversationView;
  bodyMax: number;
  body?: string;
  errors?: Record<string, string>;
}) {
  const { base } = props.page;
  const c = props.conversation;
  return (
    <Layout page={props.page} title={c.subject}>
      <p>
        <a href={`${base}/messages${c.asStaff ? "/staff" : ""}`}>
          ← {c.asStaff ? "Staff inbox" : "Messages"}
        </a>
      </p>
      <h1 safe>{c.subject}</h1>
      <p class="muted">
        {c.asStaff ? "Staff inbox: a conversation with " : "With "}
        <strong safe>{c.with}</strong>
        {c.kind === "staff" && !c.asStaff ? " (every moderator and administrator reads it)" : ""}
      </p>
      <section id="messages" aria-live="polite">
        {c.messages.map((message) => (
          <MessageItem message={message} />
        ))}
      </section>
      <ReplyForm
        page={props.page}
        conversationId={c.id}
        bodyMax={props.bodyMax}
        body={props.body}
        errors={props.errors}
      />
    </Layout>
  );
}
