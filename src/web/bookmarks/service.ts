import {
  addBookmark,
  type BookmarkRow,
  memberBookmarks,
  removeBookmark,
} from "../../db/queries/bookmarks.ts";
import type { WebDeps } from "../deps.ts";
import { NO_TORRENT, type Result, refuse, refuseFields } from "../refusal.ts";
import { creditStates, withLiveCounts } from "../torrents/service.ts";

export type { BookmarkRow } from "../../db/queries/bookmarks.ts";

/** Bookmarks on one page, and the last page anyone may ask for. */
export const BOOKMARKS_PER_PAGE = 50;
export const MAX_BOOKMARK_PAGE = 10_000;

/**
 * Sets whether the member keeps `torrentId` bookmarked (saying it twice changes nothing). A
 * member's bookmarks are theirs alone: nobody else reads or changes them.
 */
export async function setBookmark(
  deps: WebDeps,
  viewer: { id: number },
  torrentId: number,
  bookmarked: boolean,
): Promise<Result<{ torrentId: number; bookmarked: boolean }>> {
  if (bookmarked) {
    if (!(await addBookmark(deps.sql, viewer.id, torrentId, deps.clock?.() ?? new Date())))
      return refuse("not_found", NO_TORRENT);
  } else await removeBookmark(deps.sql, viewer.id, torrentId);
  return { ok: true, torrentId, bookmarked };
}

/** One page of the member's own bookmarks, newest first. */
export async function bookmarkPage(
  deps: WebDeps,
  viewer: { id: number },
  page: number,
  limit = BOOKMARKS_PER_PAGE,
): Promise<Result<{ rows: BookmarkRow[]; page: number; hasNext: boolean }>> {
  if (!Number.isSafeInteger(page) || page < 1 || page > MAX_BOOKMARK_PAGE)
    return refuseFields({ page: `Use a whole number from 1 to ${MAX_BOOKMARK_PAGE}.` });
  const rows = await memberBookmarks(deps.sql, viewer.id, limit, (page - 1) * limit);
  const shown = rows.slice(0, limit);
  const credit = await creditStates(deps);
  return {
    ok: true,
    rows: shown.map((row) => credit(withLiveCounts(deps, row))),
    page,
    hasNext: rows.length > limit,
  };
}
