/** @jsxImportSource @kitajs/html */
import { DateTime } from "../layout/date-time.tsx";
import { Csrf, FieldError, Layout } from "../layout/layout.tsx";
import type { PageContext } from "../layout/page.ts";
import { MarkdownField, Rendered, type RenderedHtml } from "../markdown/rendered.tsx";

/** A comment as the torrent page shows it. */
export interface CommentView {
  id: number;
  author: string | null;
  createdAt: Date;
  editedAt: Date | null;
  html: RenderedHtml;
  canEdit: boolean;
  canDelete: boolean;
}

/** One page of a torrent's comments and the form for a new one. */
export interface CommentsView {
  rows: CommentView[];
  page: number;
  pages: number;
  total: number;
  bodyMax: number;
}

function commentsUrl(base: string, torrentId: number, page: number): string {
  return `${base}/torrents/${String(torrentId)}${page > 1 ? `?cpage=${String(page)}` : ""}#comments`;
}

function CommentItem(props: { page: PageContext; comment: CommentView }) {
  const { base } = props.page;
  const c = props.comment;
  const id = String(c.id);
  return (
    <article class="comment card" id={`comment-${id}`}>
      <header class="comment-head">
        <strong safe>{c.author ?? "A former member"}</strong>
        <a class="muted" href={`#comment-${id}`}>
          <DateTime date={c.createdAt} />
        </a>
        {c.editedAt ? <span class="muted">(edited)</span> : ""}
        <a class="muted report-link" href={`${base}/reports/new?type=comment&id=${id}`}>
          Report
        </a>
      </header>
      <Rendered html={c.html} />
      {c.canEdit || c.canDelete ? (
        <div class="row comment-actions">
          {c.canEdit ? (
            <a class="button secondary" href={`${base}/comments/${id}/edit`}>
              Edit
            </a>
          ) : (
            ""
          )}
          {c.canDelete ? (
            <form method="post" action={`${base}/comments/${id}/delete`} class="inline">
              <Csrf page={props.page} />
              <button class="danger" type="submit" data-confirm="Delete this comment?">
                Delete
              </button>
            </form>
          ) : (
            ""
          )}
        </div>
      ) : (
        ""
      )}
    </article>
  );
}

/** The form for a new comment (on the torrent page, and again after a refusal). */
export function CommentForm(props: {
  page: PageContext;
  torrentId: number;
  bodyMax: number;
  body?: string;
  errors?: Record<string, string>;
}) {
  return (
    <form
      class="stack card comment-form"
      method="post"
      action={`${props.page.base}/torrents/${String(props.torrentId)}/comments`}
    >
      <Csrf page={props.page} />
      <MarkdownField
        base={props.page.base}
        label="Add a comment"
        name="body"
        value={props.body ?? ""}
        maxLength={props.bodyMax}
        required
        errors={props.errors}
        rows={4}
      />
      <div class="row">
        <button type="submit">Post comment</button>
      </div>
    </form>
  );
}

/** A torrent's comments, oldest first, paged, with the form for a new one. */
export function CommentsSection(props: { page: PageContext; torrentId: number; comments: CommentsView }) {
  const { base } = props.page;
  const { rows, page, pages, total } = props.comments;
  return (
    <section class="comments" id="comments">
      <h2>Comments ({total})</h2>
      {rows.length === 0 ? <p class="muted">No comments yet.</p> : ""}
      {rows.map((comment) => (
        <CommentItem page={props.page} comment={comment} />
      ))}
      {pages > 1 ? (
        <nav class="pager" aria-label="Comment pages">
          {page > 1 ? <a href={commentsUrl(base, props.torrentId, page - 1)}>← Earlier</a> : <span />}
          <span class="muted">
            Page {page} of {pages}
          </span>
          {page < pages ? <a href={commentsUrl(base, props.torrentId, page + 1)}>Later →</a> : <span />}
        </nav>
      ) : (
        ""
      )}
      <CommentForm page={props.page} torrentId={props.torrentId} bodyMax={props.comments.bodyMax} />
    </section>
  );
}

/** A refused comment: the message and the form again, with the text kept. */
export function CommentRefusedPage(props: {
  page: PageContext;
  torrentId: number;
  torrentTitle: string;
  bodyMax: number;
  body: string;
  errors: Record<string, string>;
}) {
  return (
    <Layout page={props.page} title="Comment not posted">
      <h1>Comment not posted</h1>
      <p>
        On{" "}
        <a href={`${props.page.base}/torrents/${String(props.torrentId)}#comments`} safe>
          {props.torrentTitle}
        </a>
      </p>
      <CommentForm
        page={props.page}
        torrentId={props.torrentId}
        bodyMax={props.bodyMax}
        body={props.body}
        errors={props.errors}
      />
    </Layout>
  );
}

/** Editing one's own comment. */
export function EditCommentPage(props: {
  page: PageContext;
  id: number;
  torrentId: number;
  torrentPage: number;
  body: string;
  preview: { html: RenderedHtml; empty: boolean };
  bodyMax: number;
  errors?: Record<string, string>;
}) {
  const { base } = props.page;
  return (
    <Layout page={props.page} title="Edit comment">
      <h1>Edit comment</h1>
      <form class="stack card" method="post" action={`${base}/comments/${String(props.id)}/edit`}>
        <Csrf page={props.page} />
        <MarkdownField
          base={base}
          label="Comment"
          name="body"
          value={props.body}
          maxLength={props.bodyMax}
          required
          preview={props.preview}
          errors={props.errors}
          rows={6}
        />
        <FieldError errors={props.errors} name="form" />
        <div class="row">
          <button type="submit">Save</button>
          <a href={commentsUrl(base, props.torrentId, props.torrentPage)}>Cancel</a>
        </div>
      </form>
    </Layout>
  );
}
