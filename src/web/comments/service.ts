import {
  type CommentRow,
  clearCommentNotice,
  commentNotices,
  commentsBefore,
  deleteComment,
  getComment,
  insertComment,
  storeCommentHtml,
  torrentComments,
  updateComment,
} from "../../db/queries/comments.ts";
import { getTorrent } from "../../db/queries/torrents.ts";
import type { Actor } from "../access.ts";
import type { WebDeps } from "../deps.ts";
import {
  countEdit,
  type RenderedHtml,
  renderBounded,
  renderMarkdown,
  storedHtml,
} from "../markdown/service.ts";
import { NO_TORRENT, type Result, refuse, refuseField } from "../refusal.ts";

/** Longest comment, for the form, its schema and the rule. */
export const COMMENT_LIMITS = { bodyMax: 10000 } as const;
/** Comments on one page of a torrent's discussion. */
export const COMMENTS_PER_PAGE = 25;
/** Torrents listed in the uploader's notice of new comments. */
export const NOTICES_SHOWN = 10;
export const NO_COMMENT = "There is no comment with this number: it may have been deleted.";

/** What the actor may do to a comment: its author edits and deletes it, moderators delete any. */
export function commentRights(actor: Actor, comment: { authorId: number | null }) {
  const own = comment.authorId !== null && comment.authorId === actor.id;
  return { canEdit: own, canDelete: own || actor.can("moderate") };
}

/** A comment as pages and the API show it: its text rendered and what the viewer may do. */
export interface ShownComment extends Omit<CommentRow, "html"> {
  html: RenderedHtml;
  canEdit: boolean;
  canDelete: boolean;
}

/** The page number holding the comment at place `before` (from 0). */
export function pageOf(before: number): number {
  return Math.floor(before / COMMENTS_PER_PAGE) + 1;
}

/**
 * The comment as shown to the actor: its stored rendering, or for a comment written before the
 * site stored them, rendered now and stored for the next reader.
 */
async function shown(deps: WebDeps, actor: Actor, row: CommentRow): Promise<ShownComment> {
  let html: RenderedHtml;
  if (row.html !== null) html = storedHtml(row.html);
  else {
    html = renderMarkdown(row.body);
    await storeCommentHtml(deps.sql, row.id, row.body, html);
  }
  return { ...row, html, ...commentRights(actor, row) };
}

/** One page of a torrent's comments, oldest first; a page past the end shows the last one. */
export async function commentPage(
  deps: WebDeps,
  actor: Actor,
  torrentId: number,
  page: number,
): Promise<{ rows: ShownComment[]; page: number; pages: number; total: number }> {
  let result = await torrentComments(deps.sql, torrentId, COMMENTS_PER_PAGE, (page - 1) * COMMENTS_PER_PAGE);
  const pages = Math.max(1, Math.ceil(result.total / COMMENTS_PER_PAGE));
  let shownPage = page;
  if (page > pages) {
    shownPage = pages;
    result = await torrentComments(deps.sql, torrentId, COMMENTS_PER_PAGE, (pages - 1) * COMMENTS_PER_PAGE);
  }
  const rows: ShownComment[] = [];
  for (const row of result.rows) rows.push(await shown(deps, actor, row));
  return { rows, page: shownPage, pages, total: result.total };
}

/** The comment text as stored: Unix line ends, trimmed. */
export function cleanBody(body: string | undefined): string {
  return (body ?? "").replace(/\r\n/g, "\n").trim();
}

/** Why a comment's text cannot be stored, or null. */
function bodyProblem(body: string): string | null {
  if (!body) return "Write something first.";
  if (body.length > COMMENT_LIMITS.bodyMax) return `Use at most ${COMMENT_LIMITS.bodyMax} characters.`;
  return null;
}

/** A comment that was posted, changed or deleted (with the page it is on), or why not. */
export type CommentChange = Result<{ comment: ShownComment; page: number }>;

async function placed(deps: WebDeps, actor: Actor, id: number): Promise<CommentChange> {
  const comment = await getComment(deps.sql, id);
  if (!comment) return refuse("not_found", NO_COMMENT);
  const page = pageOf(await commentsBefore(deps.sql, comment.torrentId, comment.id));
  return { ok: true, comment: await shown(deps, actor, comment), page };
}

/**
 * Posts a comment on a torrent for any member, at most `webapi.commentsPerMinute` a minute each
 * (429 with the seconds to wait beyond that). The torrent's uploader is told of it.
 */
export async function postComment(
  deps: WebDeps,
  actor: Actor,
  torrentId: number,
  text: string,
): Promise<CommentChange> {
  const body = cleanBody(text);
  const problem = bodyProblem(body);
  if (problem) return refuseField("body", problem);
  const perMinute = deps.config.webapi.commentsPerMinute;
  const rendering = renderBounded(body);
  if (!rendering.ok) return refuseField("body", rendering.problem);
  const { html } = rendering;
  const result = await insertComment(deps.sql, { torrentId, authorId: actor.id, body, html, perMinute });
  if (result === null) return refuse("not_found", NO_TORRENT);
  if ("throttled" in result) {
    const message = `You are commenting too fast: at most ${perMinute} comment${perMinute === 1 ? "" : "s"} a minute. Try again in ${result.throttled} s.`;
    return refuse("throttled", message, { fields: { body: message }, retryAfterSeconds: result.throttled });
  }
  return placed(deps, actor, result.id);
}

/** The comment if it exists and the actor wrote it (the only one who may edit it). */
export async function editableComment(deps: WebDeps, actor: Actor, id: number): Promise<CommentChange> {
  const found = await placed(deps, actor, id);
  if (found.ok && !found.comment.canEdit) return refuse("forbidden", "Only its author may edit a comment.");
  return found;
}

/** Changes the text of one's own comment. */
export async function editComment(
  deps: WebDeps,
  actor: Actor,
  id: number,
  text: string,
): Promise<CommentChange> {
  const found = await editableComment(deps, actor, id);
  if (!found.ok) return found;
  const body = cleanBody(text);
  const problem = bodyProblem(body);
  if (problem) return refuseField("body", problem);
  const rendering = renderBounded(body);
  if (!rendering.ok) return refuseField("body", rendering.problem);
  const throttled = countEdit(deps, actor.id, "body");
  if (throttled) return throttled;
  await updateComment(deps.sql, id, body, rendering.html);
  return placed(deps, actor, id);
}

/** Deletes a comment: its author, or a moderator. */
export async function removeComment(deps: WebDeps, actor: Actor, id: number): Promise<CommentChange> {
  const found = await placed(deps, actor, id);
  if (!found.ok) return found;
  if (!found.comment.canDelete)
    return refuse("forbidden", "Only its author and moderators may delete a comment.");
  await deleteComment(deps.sql, id);
  return found;
}

/** The torrent a comment form is about, or null (for the pages that show the form again). */
export async function commentedTorrent(deps: WebDeps, torrentId: number) {
  return getTorrent(deps.sql, torrentId);
}

/** New comments on the member's torrents, for the notice on the torrent list. */
export async function newCommentNotices(deps: WebDeps, userId: number) {
  const rows = await commentNotices(deps.sql, userId, NOTICES_SHOWN);
  return rows.map(({ before, ...row }) => ({ ...row, page: pageOf(before) }));
}

/** The uploader opened their torrent's page: its comments count as seen. */
export async function markCommentsSeen(
  deps: WebDeps,
  viewer: { id: number },
  torrent: { id: number; creatorId: number | null },
): Promise<void> {
  if (torrent.creatorId === viewer.id) await clearCommentNotice(deps.sql, viewer.id, torrent.id);
}
