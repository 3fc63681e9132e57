/** @jsxImportSource @kitajs/html */
import { BookmarkButton } from "../bookmarks/bookmarks.tsx";
import { CategoryIcon } from "../categories/icons.tsx";
import { type BadgeView, FactorBadge } from "../economy/badge.tsx";
import { formatAge, formatSize } from "../layout/format.ts";
import { Layout } from "../layout/layout.tsx";
import type { CountsView, PageContext } from "../layout/page.ts";

/** Columns the list can be sorted by. */
export type SortColumn = "date" | "seeders" | "leechers" | "snatches" | "size" | "title";

/** A torrent as a row of the list shows it, with its live counts. */
export interface TorrentListItem extends CountsView {
  id: number;
  title: string;
  size: number;
  createdAt: Date;
  creator: string | null;
  categoryId: number | null;
  category: string | null;
  categoryIcon: string | null;
  tags: readonly string[];
  /** The credit state when not normal (freeleech, double upload, …). */
  credit?: BadgeView;
}

/** A category as the list's filter offers it. */
export interface CategoryChoice {
  id: number;
  name: string;
  icon: string;
}

/** A tag with the number of torrents carrying it. */
export interface TagCountView {
  name: string;
  uses: number;
}

/** New comments on one of the viewer's torrents. */
export interface CommentNoticeView {
  torrentId: number;
  title: string;
  unread: number;
  /** The comments page holding the first new one. */
  page: number;
}

/** What a list shows: the search, the filters, the sort, the page and its rows. */
export interface ListState {
  q: string;
  category?: number;
  tag?: string;
  sort?: SortColumn;
  order: "asc" | "desc";
  page: number;
  rows: TorrentListItem[];
  hasNext: boolean;
  categories: readonly CategoryChoice[];
  /** The most used tags, offered as filters. */
  tags: readonly TagCountView[];
  /** The rows the viewer has bookmarked (a toggle on each row when given). */
  bookmarked?: readonly number[];
}

/** The list's address with the state's search, filters and order, and `change` applied. */
export function listUrl(
  base: string,
  state: Pick<ListState, "q" | "category" | "tag" | "sort" | "order" | "page">,
  change: Partial<{
    sort: SortColumn;
    order: string;
    page: number;
    category: number | null;
    tag: string | null;
  }>,
): string {
  const params = new URLSearchParams();
  if (state.q) params.set("q", state.q);
  const category = change.category === undefined ? state.category : change.category;
  if (category !== undefined && category !== null) params.set("category", String(category));
  const tag = change.tag === undefined ? state.tag : change.tag;
  if (tag) params.set("tag", tag);
  const filterChanged = change.category !== undefined || change.tag !== undefined;
  const sort = change.sort ?? state.sort;
  if (sort) params.set("sort", sort);
  const order = change.order ?? (change.sort ? "desc" : state.order);
  if (sort && order !== "desc") params.set("order", order);
  const page = change.page ?? (change.sort || filterChanged ? 1 : state.page);
  if (page > 1) params.set("page", String(page));
  const text = params.toString();
  return `${base}/torrents${text ? `?${text}` : ""}`;
}

function SortHeader(props: {
  base: string;
  state: ListState;
  sort: SortColumn;
  label: string;
  num?: boolean;
}) {
  const active = props.state.sort === props.sort;
  const next = active && props.state.order === "desc" ? "asc" : "desc";
  return (
    <th class={props.num ? "num" : undefined}>
      <a href={listUrl(props.base, props.state, { sort: props.sort, order: next })}>
        <span safe>{props.label}</span>
        {active ? (props.state.order === "desc" ? " ↓" : " ↑") : ""}
      </a>
    </th>
  );
}

/** A live count in a row: live.js updates it by its torrent id and count name. */
function CountCell(props: { id: number; count: "seeders" | "leechers" | "snatches"; value: number }) {
  const label = props.count[0]!.toUpperCase() + props.count.slice(1);
  return (
    <td
      class={props.count === "snatches" ? "num" : `num ${props.count}`}
      data-label={label}
      data-torrent-id={String(props.id)}
      data-count={props.count}
    >
      {props.value}
    </td>
  );
}

/** The category and tag filters, each link keeping the search and the order. */
function Filters(props: { base: string; state: ListState }) {
  const { base, state } = props;
  const activeTagShown = state.tag !== undefined && !state.tags.some((t) => t.name === state.tag);
  return (
    <div class="filters">
      {state.categories.length > 0 ? (
        <nav class="category-filter" aria-label="Categories">
          <a
            class={state.category === undefined ? "chip active" : "chip"}
            href={listUrl(base, state, { category: null })}
            aria-current={state.category === undefined ? "true" : undefined}
          >
            All
          </a>
          {state.categories.map((category) => (
            <a
              class={state.category === category.id ? "chip active" : "chip"}
              href={listUrl(base, state, { category: category.id })}
              aria-current={state.category === category.id ? "true" : undefined}
            >
              <CategoryIcon name={category.icon} />
              <span safe>{category.name}</span>
            </a>
          ))}
        </nav>
      ) : (
        ""
      )}
      {state.tags.length > 0 || state.tag !== undefined ? (
        <nav class="tag-filter" aria-label="Tags">
          {state.tag !== undefined ? (
            <a class="chip" href={listUrl(base, state, { tag: null })} title="Show every tag">
              × all tags
            </a>
          ) : (
            ""
          )}
          {activeTagShown ? (
            <a class="tag active" href={listUrl(base, state, { tag: state.tag })} aria-current="true" safe>
              {state.tag}
            </a>
          ) : (
            ""
          )}
          {state.tags.map((tag) => (
            <a
              class={state.tag === tag.name ? "tag active" : "tag"}
              href={listUrl(base, state, { tag: tag.name })}
              aria-current={state.tag === tag.name ? "true" : undefined}
            >
              <span safe>{tag.name}</span> <span class="count">{tag.uses}</span>
            </a>
          ))}
        </nav>
      ) : (
        ""
      )}
    </div>
  );
}

function emptyMessage(state: ListState): string {
  if (state.q) return "No torrent matches this search.";
  if (state.category !== undefined || state.tag !== undefined) return "No torrent matches these filters.";
  return "No torrents yet.";
}

/** The filters, results table and pager: what htmx swaps in while searching. */
export function TorrentResults(props: { page: PageContext; state: ListState }) {
  const { state } = props;
  const { base } = props.page;
  return (
    <div id="results">
      <Filters base={base} state={state} />
      {state.rows.length === 0 ? (
        <p class="notice" safe>
          {emptyMessage(state)}
        </p>
      ) : (
        <table class="list">
          <thead>
            <tr>
              {state.categories.length > 0 ? <th>Category</th> : ""}
              <SortHeader base={base} state={state} sort="title" label="Title" />
              <SortHeader base={base} state={state} sort="size" label="Size" num />
              <th>Uploader</th>
              <SortHeader base={base} state={state} sort="date" label="Age" />
              <SortHeader base={base} state={state} sort="seeders" label="Seeders" num />
              <SortHeader base={base} state={state} sort="leechers" label="Leechers" num />
              <SortHeader base={base} state={state} sort="snatches" label="Snatches" num />
            </tr>
          </thead>
          <tbody>
            {state.rows.map((row) => {
              return (
                <tr>
                  {state.categories.length > 0 ? (
                    <td class="category" data-label="Category">
                      {row.categoryId !== null ? (
                        <a href={listUrl(base, state, { category: row.categoryId })}>
                          <CategoryIcon name={row.categoryIcon ?? ""} />
                          <span safe>{row.category ?? ""}</span>
                        </a>
                      ) : (
                        "—"
                      )}
                    </td>
                  ) : (
                    ""
                  )}
                  <td class="title">
                    {state.bookmarked ? (
                      <BookmarkButton
                        page={props.page}
                        torrentId={row.id}
                        bookmarked={state.bookmarked.includes(row.id)}
                      />
                    ) : (
                      ""
                    )}
                    <a href={`${base}/torrents/${row.id}`} safe>
                      {row.title}
                    </a>
                    {row.credit ? (
                      <>
                        {" "}
                        <FactorBadge state={row.credit} />
                      </>
                    ) : (
                      ""
                    )}
                    {row.tags.length > 0 ? (
                      <span class="tags">
                        {row.tags.map((tag) => (
                          <a class="tag" href={listUrl(base, state, { tag })} safe>
                            {tag}
                          </a>
                        ))}
                      </span>
                    ) : (
                      ""
                    )}
                  </td>
                  <td class="num" data-label="Size" safe>
                    {formatSize(row.size)}
                  </td>
                  <td data-label="Uploader" safe>
                    {row.creator ?? "—"}
                  </td>
                  <td data-label="Age">
                    <time datetime={row.createdAt.toISOString()} safe>
                      {formatAge(row.createdAt)}
                    </time>
                  </td>
                  <CountCell id={row.id} count="seeders" value={row.seeders} />
                  <CountCell id={row.id} count="leechers" value={row.leechers} />
                  <CountCell id={row.id} count="snatches" value={row.snatches} />
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <nav class="pager">
        {state.page > 1 ? <a href={listUrl(base, state, { page: state.page - 1 })}>← Newer</a> : <span />}
        <span class="muted">Page {state.page}</span>
        {state.hasNext ? <a href={listUrl(base, state, { page: state.page + 1 })}>Older →</a> : <span />}
      </nav>
    </div>
  );
}

const SORT_LABELS: readonly [SortColumn, string][] = [
  ["date", "Sort by age"],
  ["title", "Sort by title"],
  ["size", "Sort by size"],
  ["seeders", "Sort by seeders"],
  ["leechers", "Sort by leechers"],
  ["snatches", "Sort by snatches"],
];

/**
 * The sort as a form control, for screens too narrow for the table's headers: a plain GET form
 * field, so it works without JavaScript (with the Search button) and through htmx as it changes.
 */
function SortControl(props: { state: ListState }) {
  const sort = props.state.sort ?? "date";
  return (
    <span class="sort">
      <select name="sort" aria-label="Sort by">
        {SORT_LABELS.map(([value, label]) => (
          <option value={value} selected={value === sort} safe>
            {label}
          </option>
        ))}
      </select>
      <select name="order" aria-label="Order">
        <option value="desc" selected={props.state.order !== "asc"}>
          Descending
        </option>
        <option value="asc" selected={props.state.order === "asc"}>
          Ascending
        </option>
      </select>
    </span>
  );
}

/** New comments on the viewer's torrents, each linking to where the first new one is. */
function CommentNotices(props: { base: string; notices: readonly CommentNoticeView[] }) {
  if (props.notices.length === 0) return "";
  return (
    <div class="notice comment-notices" role="status">
      New comments on your torrents:{" "}
      {props.notices.map((notice, i) => (
        <>
          {i > 0 ? ", " : ""}
          <a
            href={`${props.base}/torrents/${notice.torrentId}${notice.page > 1 ? `?cpage=${notice.page}` : ""}#comments`}
            safe
          >
            {notice.title}
          </a>{" "}
          ({notice.unread})
        </>
      ))}
    </div>
  );
}

function pageTitle(state: ListState): string {
  const category = state.categories.find((c) => c.id === state.category)?.name;
  const parts = [
    state.q ? `Search: ${state.q}` : "Torrents",
    category,
    state.tag ? `#${state.tag}` : undefined,
  ];
  return parts.filter(Boolean).join(" · ");
}

/** The torrent list with its search box and filters. */
export function TorrentsPage(props: {
  page: PageContext;
  state: ListState;
  notices?: readonly CommentNoticeView[];
}) {
  const { base } = props.page;
  const { state } = props;
  return (
    <Layout page={props.page} title={pageTitle(state)} live>
      <h1>Torrents</h1>
      <CommentNotices base={base} notices={props.notices ?? []} />
      {/* htmx sends the whole form as a search is typed or the sort changes; Search sends it plainly. */}
      <form
        class="searchbar"
        method="get"
        action={`${base}/torrents`}
        hx-get={`${base}/torrents`}
        hx-trigger="input changed delay:300ms"
        hx-target="#results"
        hx-select="#results"
        hx-swap="outerHTML"
        hx-push-url="true"
      >
        {state.category !== undefined ? (
          <input type="hidden" name="category" value={String(state.category)} />
        ) : (
          ""
        )}
        {state.tag !== undefined ? <input type="hidden" name="tag" value={state.tag} /> : ""}
        <input
          type="search"
          name="q"
          value={state.q}
          maxlength="200"
          placeholder="Search titles"
          aria-label="Search titles"
        />
        <SortControl state={state} />
        <button type="submit">Search</button>
      </form>
      <TorrentResults page={props.page} state={state} />
    </Layout>
  );
}
