/** @jsxImportSource @kitajs/html */
import { formatPoints } from "../economy/economy.tsx";
import { DateTime } from "../layout/date-time.tsx";
import { Csrf, FieldError, Layout } from "../layout/layout.tsx";
import { MemberLink } from "../layout/member-link.tsx";
import type { PageContext } from "../layout/page.ts";
import { MarkdownField, Rendered, type RenderedHtml } from "../markdown/rendered.tsx";
import type { CategoryChoice } from "../torrents/list.tsx";
import { CategorySelect } from "../torrents/torrent.tsx";

/** Where a request stands. */
export type RequestStatusView = "open" | "pending" | "filled" | "expired";

/** A request as the list shows it. */
export interface RequestListItem {
  id: number;
  title: string;
  status: RequestStatusView;
  requester: string | null;
  category: string | null;
  tags: readonly string[];
  bountyMillipoints: number | bigint;
  contributors: number;
  createdAt: Date;
  expiresAt: Date;
}

/** What the list shows and how it is filtered. */
export interface RequestListState {
  q: string;
  status: string;
  category?: number;
  sort: "date" | "bounty";
  page: number;
  hasNext: boolean;
  items: readonly RequestListItem[];
  categories: readonly CategoryChoice[];
  statuses: readonly string[];
}

const STATUS_TEXT: Record<string, string> = {
  active: "Open or waiting",
  open: "Open",
  pending: "Fill waiting for an answer",
  filled: "Filled",
  expired: "Expired",
  all: "All",
};

/** The address of the list with these filters. */
export function requestsUrl(base: string, state: RequestListState, change: { page?: number } = {}): string {
  const query = new URLSearchParams();
  if (state.q) query.set("q", state.q);
  if (state.status !== "active") query.set("status", state.status);
  if (state.category !== undefined) query.set("category", String(state.category));
  if (state.sort !== "date") query.set("sort", state.sort);
  const page = change.page ?? state.page;
  if (page > 1) query.set("page", String(page));
  return `${base}/requests${query.size ? `?${query.toString()}` : ""}`;
}

function StatusBadge(props: { status: RequestStatusView }) {
  return (
    <span class={`status status-${props.status}`} safe>
      {STATUS_TEXT[props.status] ?? props.status}
    </span>
  );
}

/** The list's table and pager: what htmx swaps in while a search is typed. */
export function RequestResults(props: { base: string; state: RequestListState }) {
  const { base, state } = props;
  return (
    <div id="request-results">
      {state.items.length === 0 ? (
        <p class="notice">No request matches.</p>
      ) : (
        <table class="list requests">
          <thead>
            <tr>
              <th>Request</th>
              <th>Status</th>
              <th class="num">Bounty</th>
              <th>Requester</th>
              <th>Expires</th>
            </tr>
          </thead>
          <tbody>
            {state.items.map((r) => (
              <tr>
                <td class="title">
                  <a href={`${base}/requests/${String(r.id)}`} safe>
                    {r.title}
                  </a>
                  {r.category ? (
                    <span class="muted" safe>
                      {` · ${r.category}`}
                    </span>
                  ) : (
                    ""
                  )}
                  {r.tags.length > 0 ? (
                    <span class="tags">
                      {r.tags.map((tag) => (
                        <span class="tag" safe>
                          {tag}
                        </span>
                      ))}
                    </span>
                  ) : (
                    ""
                  )}
                </td>
                <td data-label="Status">
                  <StatusBadge status={r.status} />
                </td>
                <td class="num" data-label="Bounty" safe>
                  {`${formatPoints(Number(r.bountyMillipoints))} (${String(r.contributors)})`}
                </td>
                <td data-label="Requester">
                  <MemberLink base={base} name={r.requester} />
                </td>
                <td data-label="Expires">
                  <DateTime date={r.expiresAt} day />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <nav class="pager">
        {state.page > 1 ? <a href={requestsUrl(base, state, { page: state.page - 1 })}>← Newer</a> : <span />}
        <span class="muted">Page {state.page}</span>
        {state.hasNext ? <a href={requestsUrl(base, state, { page: state.page + 1 })}>Older →</a> : <span />}
      </nav>
    </div>
  );
}

/** The list of requests with its search and filters. */
export function RequestsPage(props: { page: PageContext; state: RequestListState }) {
  const { base } = props.page;
  const { state } = props;
  return (
    <Layout page={props.page} title="Requests">
      <div class="row spread">
        <h1>Requests</h1>
        <a class="button" href={`${base}/requests/new`}>
          New request
        </a>
      </div>
      <form
        class="searchbar"
        method="get"
        action={`${base}/requests`}
        hx-get={`${base}/requests`}
        hx-trigger="input changed delay:300ms, change"
        hx-target="#request-results"
        hx-select="#request-results"
        hx-swap="outerHTML"
        hx-push-url="true"
      >
        <input
          type="search"
          name="q"
          value={state.q}
          maxlength="200"
          placeholder="Search titles"
          aria-label="Search titles"
        />
        <select name="status" aria-label="Status">
          {state.statuses.map((s) => (
            <option value={s} selected={state.status === s} safe>
              {STATUS_TEXT[s] ?? s}
            </option>
          ))}
        </select>
        {state.categories.length > 0 ? (
          <select name="category" aria-label="Category">
            <option value="">Every category</option>
            {state.categories.map((c) => (
              <option value={String(c.id)} selected={state.category === c.id} safe>
                {c.name}
              </option>
            ))}
          </select>
        ) : (
          ""
        )}
        <select name="sort" aria-label="Order">
          <option value="date" selected={state.sort === "date"}>
            Newest first
          </option>
          <option value="bounty" selected={state.sort === "bounty"}>
            Largest bounty first
          </option>
        </select>
        <button type="submit">Search</button>
      </form>
      <RequestResults base={base} state={state} />
    </Layout>
  );
}

/** What the new-request form shows again after a refusal. */
export interface RequestFormValues {
  title?: string;
  description?: string;
  category?: number | null;
  tags?: string;
  points?: string;
}

/** The form for a new request. */
export function NewRequestPage(props: {
  page: PageContext;
  values: RequestFormValues;
  categories: readonly CategoryChoice[];
  limits: { titleMax: number; descriptionMax: number; tagsFieldMax: number };
  minPoints: number;
  millipoints: number;
  expireDays: number;
  errors?: Record<string, string>;
}) {
  const { base } = props.page;
  const v = props.values;
  return (
    <Layout page={props.page} title="New request">
      <h1>New request</h1>
      <p class="muted" safe>
        {`You have ${formatPoints(props.millipoints)} bonus points. The bounty is taken from them at once and held until the request is filled (the filler receives it) or expires after ${String(props.expireDays)} days (it is refunded).`}
      </p>
      {props.errors?.form ? (
        <div class="notice bad" role="alert" safe>
          {props.errors.form}
        </div>
      ) : (
        ""
      )}
      <form class="stack card" method="post" action={`${base}/requests`}>
        <Csrf page={props.page} />
        <label>
          Title
          <input
            type="text"
            name="title"
            value={v.title ?? ""}
            maxlength={String(props.limits.titleMax)}
            required
          />
          <FieldError errors={props.errors} name="title" />
        </label>
        <CategorySelect categories={props.categories} chosen={v.category} errors={props.errors} />
        <label>
          Tags
          <input
            type="text"
            name="tags"
            value={v.tags ?? ""}
            maxlength={String(props.limits.tagsFieldMax)}
            placeholder="comma, separated"
          />
          <FieldError errors={props.errors} name="tags" />
        </label>
        <MarkdownField
          base={base}
          label="Description"
          name="description"
          value={v.description ?? ""}
          maxLength={props.limits.descriptionMax}
          errors={props.errors}
          rows={8}
        />
        <label>
          Bounty (bonus points, at least {props.minPoints})
          <input
            type="number"
            name="points"
            value={v.points ?? String(props.minPoints)}
            min={String(props.minPoints)}
            step="1"
            required
          />
          <FieldError errors={props.errors} name="points" />
        </label>
        <div class="row">
          <button type="submit">Make the request</button>
        </div>
      </form>
    </Layout>
  );
}

/** A request with everything its page shows. */
export interface RequestView extends RequestListItem {
  requesterId: number | null;
  categoryId: number | null;
  torrentId: number | null;
  torrentTitle: string | null;
  filler: string | null;
  filledAt: Date | null;
  settledAt: Date | null;
}

/** One contribution to a bounty. */
export interface BountyView {
  name: string | null;
  millipoints: number | bigint;
  createdAt: Date;
}

/** A request's page: what is asked, the bounty and who put it there, the fill and the forms. */
export function RequestPage(props: {
  page: PageContext;
  request: RequestView;
  html: RenderedHtml;
  bounties: readonly BountyView[];
  rights: { canContribute: boolean; canFill: boolean; canAnswer: boolean };
  millipoints: number;
  notice?: string;
  errors?: Record<string, string>;
  values?: { points?: string; torrent?: string };
}) {
  const { base } = props.page;
  const r = props.request;
  const id = String(r.id);
  return (
    <Layout page={props.page} title={r.title}>
      <h1 safe>{r.title}</h1>
      {props.notice ? (
        <div class="notice good" role="status" safe>
          {props.notice}
        </div>
      ) : (
        ""
      )}
      {props.errors?.form ? (
        <div class="notice bad" role="alert" safe>
          {props.errors.form}
        </div>
      ) : (
        ""
      )}
      <div class="card">
        <dl class="facts">
          <dt>Status</dt>
          <dd>
            <StatusBadge status={r.status} />
          </dd>
          <dt>Bounty</dt>
          <dd id="bounty" safe>
            {`${formatPoints(Number(r.bountyMillipoints))} points from ${String(r.contributors)} member${r.contributors === 1 ? "" : "s"}`}
          </dd>
          <dt>Requested by</dt>
          <dd>
            <MemberLink base={base} name={r.requester} />
          </dd>
          {r.category ? (
            <>
              <dt>Category</dt>
              <dd safe>{r.category}</dd>
            </>
          ) : (
            ""
          )}
          {r.tags.length > 0 ? (
            <>
              <dt>Tags</dt>
              <dd class="tags">
                {r.tags.map((tag) => (
                  <span class="tag" safe>
                    {tag}
                  </span>
                ))}
              </dd>
            </>
          ) : (
            ""
          )}
          <dt>Made</dt>
          <dd>
            <DateTime date={r.createdAt} />
          </dd>
          <dt>{r.status === "expired" ? "Expired" : "Expires"}</dt>
          <dd>
            <DateTime date={r.status === "expired" && r.settledAt ? r.settledAt : r.expiresAt} />
          </dd>
          {r.status === "pending" || r.status === "filled" ? (
            <>
              <dt>{r.status === "filled" ? "Filled with" : "Fill offered"}</dt>
              <dd id="fill">
                {r.torrentId !== null ? (
                  <a href={`${base}/torrents/${String(r.torrentId)}`} safe>
                    {r.torrentTitle ?? `Torrent ${String(r.torrentId)}`}
                  </a>
                ) : (
                  <span class="muted">a torrent since deleted</span>
                )}{" "}
                by <MemberLink base={base} name={r.filler} />
              </dd>
            </>
          ) : (
            ""
          )}
        </dl>
        {props.rights.canAnswer ? (
          <div class="row">
            <form method="post" action={`${base}/requests/${id}/accept`} class="inline">
              <Csrf page={props.page} />
              <button type="submit" data-confirm="Accept this fill and give the filler the whole bounty?">
                Accept the fill
              </button>
            </form>
            <form method="post" action={`${base}/requests/${id}/reject`} class="inline">
              <Csrf page={props.page} />
              <button class="danger" type="submit">
                Reject the fill
              </button>
            </form>
          </div>
        ) : (
          ""
        )}
      </div>
      <section>
        <h2>Description</h2>
        <Rendered html={props.html} />
      </section>
      {props.rights.canContribute ? (
        <form class="card stack" method="post" action={`${base}/requests/${id}/bounty`}>
          <Csrf page={props.page} />
          <label>
            <span safe>{`Add to the bounty (you have ${formatPoints(props.millipoints)} points)`}</span>
            <input type="number" name="points" min="1" step="1" value={props.values?.points ?? ""} required />
            <FieldError errors={props.errors} name="points" />
          </label>
          <div class="row">
            <button type="submit">Add points</button>
          </div>
        </form>
      ) : (
        ""
      )}
      {props.rights.canFill ? (
        <form class="card stack" method="post" action={`${base}/requests/${id}/fill`}>
          <Csrf page={props.page} />
          <label>
            Fill with a torrent on this site (its number or the link to its page)
            <input type="text" name="torrent" maxlength="500" value={props.values?.torrent ?? ""} required />
            <FieldError errors={props.errors} name="torrent" />
          </label>
          <div class="row">
            <button type="submit">Fill the request</button>
          </div>
        </form>
      ) : (
        ""
      )}
      <section>
        <h2>Bounty</h2>
        <table class="list" id="bounties">
          <thead>
            <tr>
              <th>Member</th>
              <th class="num">Points</th>
              <th>When</th>
            </tr>
          </thead>
          <tbody>
            {props.bounties.map((b) => (
              <tr>
                <td data-label="Member">
                  <MemberLink base={base} name={b.name} />
                </td>
                <td class="num" data-label="Points" safe>
                  {formatPoints(Number(b.millipoints))}
                </td>
                <td data-label="When">
                  <DateTime date={b.createdAt} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </Layout>
  );
}
