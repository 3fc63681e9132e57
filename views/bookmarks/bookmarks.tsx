/** @jsxImportSource @kitajs/html */
import { formatAge, formatSize } from "../layout/format.ts";
import { Csrf, Layout } from "../layout/layout.tsx";
import type { PageContext } from "../layout/page.ts";

/**
 * The bookmark toggle of a torrent, on its page and in the list: htmx swaps in the answer (this
 * form, the other way round) without reloading; without JavaScript the form posts and comes back.
 */
export function BookmarkButton(props: { page: PageContext; torrentId: number; bookmarked: boolean }) {
  const id = String(props.torrentId);
  const action = `${props.page.base}/torrents/${id}/bookmark`;
  return (
    <form
      class="inline bookmark"
      id={`bookmark-${id}`}
      method="post"
      action={action}
      hx-post={action}
      hx-target="this"
      hx-swap="outerHTML"
    >
      <Csrf page={props.page} />
      <input type="hidden" name="bookmarked" value={props.bookmarked ? "0" : "1"} />
      <button
        type="submit"
        class={props.bookmarked ? "secondary bookmarked" : "secondary"}
        aria-pressed={props.bookmarked ? "true" : "false"}
        title={props.bookmarked ? "Remove from your bookmarks" : "Keep for later in your bookmarks"}
      >
        {props.bookmarked ? "★ Bookmarked" : "☆ Bookmark"}
      </button>
    </form>
  );
}

/** A bookmarked torrent as the bookmarks page lists it. */
export interface BookmarkItem {
  id: number;
  title: string;
  size: number;
  category: string | null;
  seeders: number;
  leechers: number;
  bookmarkedAt: Date;
}

/** The member's bookmarks, newest first, with their RSS feed. */
export function BookmarksPage(props: {
  page: PageContext;
  rows: readonly BookmarkItem[];
  pageNumber: number;
  hasNext: boolean;
  feedUrl: string | null;
}) {
  const { base } = props.page;
  return (
    <Layout page={props.page} title="Bookmarks">
      <h1>Bookmarks</h1>
      {props.feedUrl ? (
        <p class="muted">
          Your bookmarks as an RSS feed (its links download your own .torrent; keep it private):{" "}
          <a class="mono" href={props.feedUrl} safe>
            {props.feedUrl}
          </a>
        </p>
      ) : (
        ""
      )}
      {props.rows.length === 0 ? (
        <p class="notice">
          No bookmarks yet: use ☆ Bookmark on a torrent's page or in the <a href={`${base}/torrents`}>list</a>
          .
        </p>
      ) : (
        <table class="list" id="bookmarks">
          <thead>
            <tr>
              <th>Title</th>
              <th class="num">Size</th>
              <th class="num">Seeders</th>
              <th class="num">Leechers</th>
              <th>Bookmarked</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {props.rows.map((row) => (
              <tr>
                <td class="title">
                  <a href={`${base}/torrents/${String(row.id)}`} safe>
                    {row.title}
                  </a>
                  {row.category ? (
                    <span class="muted" safe>
                      {` · ${row.category}`}
                    </span>
                  ) : (
                    ""
                  )}
                </td>
                <td class="num" data-label="Size" safe>
                  {formatSize(row.size)}
                </td>
                <td class="num seeders" data-label="Seeders">
                  {row.seeders}
                </td>
                <td class="num leechers" data-label="Leechers">
                  {row.leechers}
                </td>
                <td data-label="Bookmarked">
                  <time datetime={row.bookmarkedAt.toISOString()} safe>
                    {formatAge(row.bookmarkedAt)}
                  </time>
                </td>
                <td class="row-actions">
                  <a class="button" href={`${base}/torrents/${String(row.id)}/download`}>
                    Download
                  </a>{" "}
                  <BookmarkButton page={props.page} torrentId={row.id} bookmarked={true} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <nav class="pager">
        {props.pageNumber > 1 ? (
          <a href={`${base}/bookmarks?page=${String(props.pageNumber - 1)}`}>← Newer</a>
        ) : (
          <span />
        )}
        <span class="muted">Page {props.pageNumber}</span>
        {props.hasNext ? (
          <a href={`${base}/bookmarks?page=${String(props.pageNumber + 1)}`}>Older →</a>
        ) : (
          <span />
        )}
      </nav>
    </Layout>
  );
}
