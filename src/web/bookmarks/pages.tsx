/** @jsxImportSource @kitajs/html */
import { Elysia, t } from "elysia";
import { BookmarkButton, BookmarksPage } from "../../../views/bookmarks/bookmarks.tsx";
import { rssKey } from "../../db/queries/tokens.ts";
import { refusedPage } from "../context.tsx";
import type { WebDeps } from "../deps.ts";
import { pageGate } from "../gate.tsx";
import { linksFor } from "../links.ts";
import { refuseField } from "../refusal.ts";
import { CsrfField, IdParams, optionalTexts } from "../schemas.ts";
import { bookmarkPage, setBookmark } from "./service.ts";

/** Bookmarks: the toggle on torrents (htmx, or a plain form post) and the member's own list. */
export function bookmarkPages(deps: WebDeps) {
  return new Elysia({ name: "bookmark-pages" })
    .use(pageGate(deps))
    .post(
      "/torrents/:id/bookmark",
      async ({ page, viewer, params, body, request, set }) => {
        // Checked here too: a multipart body can reach the handler without the field.
        const wanted = body?.bookmarked;
        const result =
          wanted === "0" || wanted === "1"
            ? await setBookmark(deps, viewer, params.id, wanted === "1")
            : refuseField("bookmarked", "Say 1 to bookmark the torrent or 0 to remove the bookmark.");
        if (!result.ok) return refusedPage(page, set, result.refusal, { notFoundTitle: "Torrent not found" });
        if (request.headers.get("hx-request") === "true")
          return <BookmarkButton page={page} torrentId={result.torrentId} bookmarked={result.bookmarked} />;
        return new Response(null, {
          status: 303,
          headers: { location: `${page.base}/torrents/${params.id}` },
        });
      },
      {
        member: "/torrents/:id",
        params: IdParams,
        body: t.Object({
          bookmarked: t.Optional(t.String({ maxLength: 1, pattern: "^[01]$" })),
          ...CsrfField,
        }),
      },
    )
    .get(
      "/bookmarks",
      async ({ page, viewer, query, set, request }) => {
        const pageNumber = query.page && /^[1-9][0-9]{0,4}$/.test(query.page) ? Number(query.page) : 1;
        const result = await bookmarkPage(deps, viewer, pageNumber);
        if (!result.ok) return refusedPage(page, set, result.refusal);
        const key = await rssKey(deps.sql, viewer.id);
        const links = linksFor(deps.config, request, page.base);
        return (
          <BookmarksPage
            page={page}
            rows={result.rows}
            pageNumber={result.page}
            hasNext={result.hasNext}
            feedUrl={key ? `${links.site}/rss/${key}/bookmarks` : null}
          />
        );
      },
      { member: true, query: optionalTexts({ page: 10 }) },
    );
}
