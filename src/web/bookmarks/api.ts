import { Elysia, t } from "elysia";
import { type ApiLimiters, apiContext } from "../api/context.ts";
import { accepted } from "../api/errors.ts";
import { errors, iso, summaryBody, TorrentSummary } from "../api/schemas.ts";
import type { WebDeps } from "../deps.ts";
import { IdParams, wholeNumber } from "../schemas.ts";
import { BOOKMARKS_PER_PAGE, bookmarkPage, MAX_BOOKMARK_PAGE, setBookmark } from "./service.ts";

const Bookmark = t.Object(
  { torrent: TorrentSummary, bookmarked_at: t.String({ format: "date-time", description: "When" }) },
  { description: "A torrent the caller keeps for later" },
);
const BookmarkState = t.Object(
  {
    torrent_id: t.Number(),
    bookmarked: t.Boolean({ description: "Whether the caller now has it bookmarked" }),
  },
  { description: "A bookmark's state" },
);

/** The caller's own bookmarks: list, add, remove. Nobody sees or changes another member's. */
export function bookmarksApi(deps: WebDeps, limiters: ApiLimiters) {
  return new Elysia({ name: "api-bookmarks" })
    .use(apiContext(deps, limiters))
    .get(
      "/bookmarks",
      async ({ caller, query }) => {
        const result = accepted(await bookmarkPage(deps, caller, query.page ?? 1));
        return {
          items: result.rows.map((row) => ({
            torrent: summaryBody(row),
            bookmarked_at: iso(row.bookmarkedAt),
          })),
          page: result.page,
          has_next: result.hasNext,
        };
      },
      {
        member: true,
        query: t.Object({
          page: t.Optional(
            wholeNumber("page", 1, MAX_BOOKMARK_PAGE, `From 1 (default), ${BOOKMARKS_PER_PAGE} a page`),
          ),
        }),
        response: {
          200: t.Object({ items: t.Array(Bookmark), page: t.Number(), has_next: t.Boolean() }),
          ...errors(401, 422),
        },
        detail: { tags: ["Bookmarks"], summary: "Your bookmarks", description: "Newest first." },
      },
    )
    .put(
      "/bookmarks/:id",
      async ({ caller, params }) => {
        const done = accepted(await setBookmark(deps, caller, params.id, true));
        return { torrent_id: done.torrentId, bookmarked: done.bookmarked };
      },
      {
        member: true,
        params: t.Object({ id: IdParams.properties.id }),
        response: { 200: BookmarkState, ...errors(401, 404, 422) },
        detail: {
          tags: ["Bookmarks"],
          summary: "Bookmark a torrent",
          description: "The path's id is the torrent's. Bookmarking it again changes nothing.",
        },
      },
    )
    .delete(
      "/bookmarks/:id",
      async ({ caller, params }) => {
        const done = accepted(await setBookmark(deps, caller, params.id, false));
        return { torrent_id: done.torrentId, bookmarked: done.bookmarked };
      },
      {
        member: true,
        params: t.Object({ id: IdParams.properties.id }),
        response: { 200: BookmarkState, ...errors(401, 422) },
        detail: {
          tags: ["Bookmarks"],
          summary: "Remove a bookmark",
          description: "The path's id is the torrent's; removing one that is not there changes nothing.",
        },
      },
    );
}
