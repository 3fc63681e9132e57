import { Elysia, t } from "elysia";
import { API_PREFIX, type ApiLimiters, apiContext } from "../api/context.ts";
import { accepted, fail } from "../api/errors.ts";
import { CommentBody, CommentNoticeBody, CommentPageBody, errors, iso } from "../api/schemas.ts";
import type { WebDeps } from "../deps.ts";
import { NO_TORRENT } from "../refusal.ts";
import { IdParams, wholeNumber } from "../schemas.ts";
import {
  COMMENT_LIMITS,
  COMMENTS_PER_PAGE,
  commentedTorrent,
  commentPage,
  editComment,
  newCommentNotices,
  postComment,
  removeComment,
  type ShownComment,
} from "./service.ts";

const Text = t.String({
  maxLength: COMMENT_LIMITS.bodyMax,
  description: `Markdown, at most ${COMMENT_LIMITS.bodyMax} characters`,
});

/** The body of a new or edited comment. */
const CommentText = t.Object(
  { body: Text },
  { examples: [{ body: "Thanks for the upload! The **second** disc is the director's cut." }] },
);

/** Comments on torrents: read, post, edit one's own, delete one's own (moderators any). */
export function commentsApi(deps: WebDeps, limiters: ApiLimiters) {
  return new Elysia({ name: "api-comments" })
    .use(apiContext(deps, limiters))
    .get(
      "/torrents/:id/comments",
      async ({ caller, params, query }) => {
        if (!(await commentedTorrent(deps, params.id))) throw fail.notFound(NO_TORRENT);
        const result = await commentPage(deps, caller, params.id, query.page ?? 1);
        return {
          items: result.rows.map(commentBody),
          page: result.page,
          pages: result.pages,
          total: result.total,
        };
      },
      {
        member: true,
        params: IdParams,
        query: t.Object({ page: t.Optional(wholeNumber("page", 1, 100000, "From 1 (default)")) }),
        response: { 200: CommentPageBody, ...errors(401, 404, 422) },
        detail: {
          tags: ["Comments"],
          summary: "A torrent's comments",
          description: `Oldest first, ${COMMENTS_PER_PAGE} a page; a page past the end gives the last one.`,
        },
      },
    )
    .post(
      "/torrents/:id/comments",
      async ({ caller, params, body, set, base }) => {
        const { comment, page } = accepted(await postComment(deps, caller, params.id, body.body));
        set.status = 201;
        set.headers.location = `${base}${API_PREFIX}/torrents/${comment.torrentId}/comments?page=${page}`;
        return commentBody(comment);
      },
      {
        member: true,
        params: IdParams,
        body: CommentText,
        response: { 201: CommentBody, ...errors(401, 404, 422) },
        detail: {
          tags: ["Comments"],
          summary: "Comment on a torrent",
          description: `Any member, at most ${deps.config.webapi.commentsPerMinute} a minute (429 with Retry-After beyond that). The uploader sees it among their new comments.`,
        },
      },
    )
    .patch(
      "/comments/:id",
      async ({ caller, params, body }) =>
        commentBody(accepted(await editComment(deps, caller, params.id, body.body)).comment),
      {
        member: true,
        params: IdParams,
        body: CommentText,
        response: { 200: CommentBody, ...errors(401, 403, 404, 422) },
        detail: { tags: ["Comments"], summary: "Edit a comment", description: "Only its author." },
      },
    )
    .delete(
      "/comments/:id",
      async ({ caller, params, set }) => {
        accepted(await removeComment(deps, caller, params.id));
        set.status = 204;
        return null;
      },
      {
        member: true,
        params: IdParams,
        response: { 204: t.Null({ description: "Deleted" }), ...errors(401, 403, 404, 422) },
        detail: {
          tags: ["Comments"],
          summary: "Delete a comment",
          description: "Its author, or a moderator.",
        },
      },
    )
    .get(
      "/me/new-comments",
      async ({ caller }) => ({
        torrents: (await newCommentNotices(deps, caller.id)).map((n) => ({
          torrent_id: n.torrentId,
          title: n.title,
          unread: n.unread,
          page: n.page,
        })),
      }),
      {
        member: true,
        response: {
          200: t.Object(
            { torrents: t.Array(CommentNoticeBody) },
            { description: "Torrents with new comments" },
          ),
          ...errors(401),
        },
        detail: {
          tags: ["Comments"],
          summary: "New comments on your torrents",
          description:
            "Your torrents with comments by others you have not seen yet (the most recent first); opening a torrent's page on the site marks them seen.",
        },
      },
    );
}

/** A comment as the API shows it, with what the caller may do to it. */
export function commentBody(comment: ShownComment): typeof CommentBody.static {
  return {
    id: comment.id,
    torrent_id: comment.torrentId,
    author: comment.authorId !== null ? { id: comment.authorId, name: comment.author ?? "" } : null,
    body: comment.body,
    html: comment.html,
    created_at: iso(comment.createdAt),
    edited_at: comment.editedAt ? iso(comment.editedAt) : null,
    can_edit: comment.canEdit,
    can_delete: comment.canDelete,
  };
}
