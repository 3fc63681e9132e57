/** @jsxImportSource @kitajs/html */
import { Elysia, t } from "elysia";
import { CommentRefusedPage, EditCommentPage } from "../../../views/comments/comments.tsx";
import { notFound, refusedPage } from "../context.tsx";
import type { WebDeps } from "../deps.ts";
import { pageGate } from "../gate.tsx";
import { preview } from "../markdown/service.ts";
import { NO_TORRENT } from "../refusal.ts";
import { CsrfField, CsrfOnly, IdParams } from "../schemas.ts";
import {
  COMMENT_LIMITS,
  type CommentChange,
  cleanBody,
  commentedTorrent,
  editableComment,
  editComment,
  postComment,
  removeComment,
} from "./service.ts";

const CommentBody = t.Object({ body: t.String({ maxLength: COMMENT_LIMITS.bodyMax }), ...CsrfField });

/** Where a comment is shown: its torrent's page, at the comments page holding it. */
function placeOf(base: string, result: CommentChange & { ok: true }, anchor = true): string {
  const { comment, page } = result;
  return `${base}/torrents/${comment.torrentId}${page > 1 ? `?cpage=${page}` : ""}#${anchor ? `comment-${comment.id}` : "comments"}`;
}

/** Comments on torrents: post, edit one's own, delete one's own (moderators any). */
export function commentPages(deps: WebDeps) {
  return new Elysia({ name: "comment-pages" })
    .use(pageGate(deps))
    .post(
      "/torrents/:id/comments",
      async ({ page, viewer, params, body, set }) => {
        const result = await postComment(deps, viewer, params.id, body.body);
        if (result.ok)
          return new Response(null, { status: 303, headers: { location: placeOf(page.base, result) } });
        // The form again needs its torrent, which may have gone meanwhile.
        const torrent = result.refusal.fields && (await commentedTorrent(deps, params.id));
        if (torrent === null) return notFound(page, set, NO_TORRENT);
        return refusedPage(page, set, result.refusal, {
          form: {
            render: (errors) => (
              <CommentRefusedPage
                page={page}
                torrentId={torrent!.id}
                torrentTitle={torrent!.title}
                bodyMax={COMMENT_LIMITS.bodyMax}
                body={cleanBody(body.body)}
                errors={errors}
              />
            ),
          },
        });
      },
      { member: "/torrents/:id", params: IdParams, body: CommentBody },
    )
    .get(
      "/comments/:id/edit",
      async ({ page, viewer, params, set }) => {
        const found = await editableComment(deps, viewer, params.id);
        if (!found.ok) return refusedPage(page, set, found.refusal);
        return (
          <EditCommentPage
            page={page}
            id={found.comment.id}
            torrentId={found.comment.torrentId}
            torrentPage={found.page}
            body={found.comment.body}
            preview={preview(found.comment.body)}
            bodyMax={COMMENT_LIMITS.bodyMax}
          />
        );
      },
      { member: true, params: IdParams },
    )
    .post(
      "/comments/:id/edit",
      async ({ page, viewer, params, body, set }) => {
        const result = await editComment(deps, viewer, params.id, body.body);
        if (result.ok)
          return new Response(null, { status: 303, headers: { location: placeOf(page.base, result) } });
        // The form again needs its comment, which may have gone meanwhile.
        const found = result.refusal.fields ? await editableComment(deps, viewer, params.id) : null;
        if (found && !found.ok) return refusedPage(page, set, found.refusal);
        const place = found?.ok ? found : null;
        const text = cleanBody(body.body);
        return refusedPage(page, set, result.refusal, {
          form: {
            render: (errors) => (
              <EditCommentPage
                page={page}
                id={params.id}
                torrentId={place!.comment.torrentId}
                torrentPage={place!.page}
                body={text}
                preview={preview(text)}
                bodyMax={COMMENT_LIMITS.bodyMax}
                errors={errors}
              />
            ),
          },
        });
      },
      { member: "/comments/:id/edit", params: IdParams, body: CommentBody },
    )
    .post(
      "/comments/:id/delete",
      async ({ page, viewer, params, set }) => {
        const result = await removeComment(deps, viewer, params.id);
        if (!result.ok) return refusedPage(page, set, result.refusal);
        return new Response(null, { status: 303, headers: { location: placeOf(page.base, result, false) } });
      },
      { member: true, params: IdParams, body: CsrfOnly },
    );
}
