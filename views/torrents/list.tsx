/** @jsxImportSource @kitajs/html */

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
  created_at: Date;
  creator: string | null;
  /** The credit state when not normal (freeleech, double upload, …). */
  credit?: BadgeView;
}

/** What a list shows: the search, the sort, the page and its rows. */
export interface ListState {
  q: string;
  sort?: SortColumn;
  order: "asc" | "desc";
  page: number;
  rows: TorrentListItem[];
  hasNext: boolean;
}

function listUrl(
  base: string,
  state: ListState,
  change: Partial<{ sort: SortColumn; order: string; page: number }>,
): string {
  const params = new URLSearchParams();
  if (state.q) params.set("q", state.q);
  const sort = change.sort ?? state.sort;
  if (sort) params.set("sort", sort);
  const order = change.order ?? (change.sort ? "desc" : state.order);
  if (sort && order !== "desc") params.set("order", order);
  const page = change.page ?? (change.sort ? 1 : state.page);
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

/** The results table and pager: what htmx swaps in while searching. */
export function TorrentResults(props: { base: string; state: ListState }) {
  const { base, state } = props;
  return (
    <div id="results">
      {state.rows.length === 0 ? (
        <p class="notice">{state.q ? "No torrent matches this search." : "No torrents yet."}</p>
      ) : (
        <table class="list">
          <thead>
            <tr>
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
                  <td class="title">
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
                  </td>
                  <td class="num" data-label="Size" safe>
                    {formatSize(row.size)}
                  </td>
                  <td data-label="Uploader" safe>
                    {row.creator ?? "—"}
                  </td>
                  <td data-label="Age">
                    <time datetime={row.created_at.toISOString()} safe>
                      {formatAge(row.created_at)}
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

/** The torrent list with its search box. */
export function TorrentsPage(props: { page: PageContext; state: ListState }) {
  const { base } = props.page;
  return (
    <Layout page={props.page} title={props.state.q ? `Search: ${props.state.q}` : "Torrents"} live>
      <h1>Torrents</h1>
      <form class="searchbar" method="get" action={`${base}/torrents`}>
        <input
          type="search"
          name="q"
          value={props.state.q}
          maxlength="200"
          placeholder="Search titles"
          aria-label="Search titles"
          hx-get={`${base}/torrents`}
          hx-trigger="input changed delay:300ms, search"
          hx-target="#results"
          hx-select="#results"
          hx-swap="outerHTML"
          hx-push-url="true"
        />
        <button type="submit">Search</button>
      </form>
      <TorrentResults base={base} state={props.state} />
    </Layout>
  );
}
