/** @jsxImportSource @kitajs/html */
import { BookmarkButton } from "../bookmarks/bookmarks.tsx";
import { CategoryIcon } from "../categories/icons.tsx";
import { CommentsSection, type CommentsView } from "../comments/comments.tsx";
import { type BadgeView, FactorBadge } from "../economy/badge.tsx";
import { formatAge, formatSize } from "../layout/format.ts";
import { Csrf, FieldError, Layout } from "../layout/layout.tsx";
import { MemberLink } from "../layout/member-link.tsx";
import type { CountsView, PageContext } from "../layout/page.ts";
import { MarkdownField, Rendered, type RenderedHtml } from "../markdown/rendered.tsx";
import { LineChart, type PlotView } from "../plots/line-chart.tsx";
import type { CategoryChoice } from "./list.tsx";

/** A torrent with everything its page shows. */
export interface TorrentView {
  id: number;
  title: string;
  size: number;
  createdAt: Date;
  creator: string | null;
  categoryId: number | null;
  category: string | null;
  categoryIcon: string | null;
  tags: readonly string[];
  files: readonly { path: string; length: number }[];
  infoHash: Uint8Array;
  infoHashV2: Uint8Array | null;
  /** The credit state when not normal (freeleech, double upload, …). */
  credit?: BadgeView;
}

/** Longest title, description and tags field the upload and edit forms take, and the tag rules. */
export interface TorrentTextLimits {
  titleMax: number;
  descriptionMax: number;
  tagsFieldMax: number;
  tagLength: number;
  tagCount: number;
}

/** The category choice of the upload and edit forms (nothing when the site has no categories). */
export function CategorySelect(props: {
  categories: readonly CategoryChoice[];
  chosen: number | null | undefined;
  errors?: Record<string, string>;
}) {
  if (props.categories.length === 0) return "";
  return (
    <label>
      Category
      <select name="category" required>
        <option value="">Choose a category</option>
        {props.categories.map((category) => (
          <option value={String(category.id)} selected={props.chosen === category.id} safe>
            {category.name}
          </option>
        ))}
      </select>
      <FieldError errors={props.errors} name="category" />
    </label>
  );
}

/** The tags field of the upload and edit forms. */
export function TagsInput(props: {
  value: string;
  limits: TorrentTextLimits;
  errors?: Record<string, string>;
}) {
  return (
    <label>
      Tags
      <input
        type="text"
        name="tags"
        value={props.value}
        maxlength={String(props.limits.tagsFieldMax)}
        placeholder="e.g. linux, live cd, amd64"
        aria-describedby="tags-help"
      />
      <span class="muted" id="tags-help">
        Separated by commas; at most {props.limits.tagCount}, each up to {props.limits.tagLength} letters,
        digits, dots or hyphens. Spaces become dots.
      </span>
      <FieldError errors={props.errors} name="tags" />
    </label>
  );
}

/** A torrent's page: facts, live counts, files, download, and edit/delete for those allowed. */
export function TorrentPage(props: {
  page: PageContext;
  torrent: TorrentView;
  descriptionHtml: RenderedHtml;
  hasDescription: boolean;
  counts: CountsView;
  canEdit: boolean;
  canDelete: boolean;
  comments: CommentsView;
  notice?: string;
  history?: PlotView;
  /** Whether the viewer keeps it in their bookmarks. */
  bookmarked?: boolean;
  /** The requests it filled, or waits to fill. */
  requests?: readonly { id: number; title: string; status: string }[];
}) {
  const { base } = props.page;
  const t = props.torrent;
  const id = String(t.id);
  return (
    <Layout page={props.page} title={t.title} live>
      <h1 safe>{t.title}</h1>
      {t.credit?.badge ? (
        <p>
          <FactorBadge state={t.credit} />
        </p>
      ) : (
        ""
      )}
      {props.notice ? (
        <div class="notice good" role="status" safe>
          {props.notice}
        </div>
      ) : (
        ""
      )}
      <div class="card">
        <div class="counts">
          <span class="seeders">
            <span data-torrent-id={id} data-count="seeders">
              {props.counts.seeders}
            </span>{" "}
            seeders
          </span>
          <span class="leechers">
            <span data-torrent-id={id} data-count="leechers">
              {props.counts.leechers}
            </span>{" "}
            leechers
          </span>
          <span>
            <span data-torrent-id={id} data-count="snatches">
              {props.counts.snatches}
            </span>{" "}
            snatches
          </span>
        </div>
        <p>
          <a class="button" href={`${base}/torrents/${id}/download`}>
            Download .torrent
          </a>{" "}
          {props.bookmarked !== undefined ? (
            <BookmarkButton page={props.page} torrentId={t.id} bookmarked={props.bookmarked} />
          ) : (
            ""
          )}
        </p>
        {props.requests && props.requests.length > 0 ? (
          <p class="filled-requests">
            {props.requests.map((r) => (
              <span>
                {r.status === "filled" ? "Filled the request " : "Offered as the fill of the request "}
                <a href={`${base}/requests/${String(r.id)}`} safe>
                  {r.title}
                </a>{" "}
              </span>
            ))}
          </p>
        ) : (
          ""
        )}
        <dl class="facts">
          {t.categoryId !== null ? (
            <>
              <dt>Category</dt>
              <dd>
                <a class="category-link" href={`${base}/torrents?category=${String(t.categoryId)}`}>
                  <CategoryIcon name={t.categoryIcon ?? ""} />
                  <span safe>{t.category ?? ""}</span>
                </a>
              </dd>
            </>
          ) : (
            ""
          )}
          {t.tags.length > 0 ? (
            <>
              <dt>Tags</dt>
              <dd class="tags">
                {t.tags.map((tag) => (
                  <a class="tag" href={`${base}/torrents?tag=${encodeURIComponent(tag)}`} safe>
                    {tag}
                  </a>
                ))}
              </dd>
            </>
          ) : (
            ""
          )}
          <dt>Size</dt>
          <dd safe>{formatSize(t.size)}</dd>
          <dt>Uploader</dt>
          <dd>
            <MemberLink base={base} name={t.creator} />
          </dd>
          <dt>Added</dt>
          <dd>
            <time datetime={t.createdAt.toISOString()} safe>
              {formatAge(t.createdAt)}
            </time>
          </dd>
          <dt>Info hash</dt>
          <dd class="mono" safe>
            {Buffer.from(t.infoHash).toString("hex")}
          </dd>
          {t.infoHashV2 ? (
            <>
              <dt>Info hash (v2)</dt>
              <dd class="mono" safe>
                {Buffer.from(t.infoHashV2).toString("hex")}
              </dd>
            </>
          ) : (
            ""
          )}
        </dl>
      </div>
      {props.history ? <LineChart plot={props.history} /> : ""}
      {props.hasDescription ? (
        <>
          <h2>Description</h2>
          <Rendered html={props.descriptionHtml} class="card description" />
        </>
      ) : (
        ""
      )}
      {/* Peers, credit state and (for staff) snatches, loaded after the page so it stays fast. */}
      <div hx-get={`${base}/torrents/${id}/swarm`} hx-trigger="load" hx-swap="outerHTML">
        <p>
          <a href={`${base}/torrents/${id}/swarm`}>Peers, credit and snatches</a>
        </p>
      </div>
      <h2>Files ({t.files.length})</h2>
      <table class="list">
        <tbody>
          {t.files.slice(0, 1000).map((file) => (
            <tr>
              <td class="mono" safe>
                {file.path}
              </td>
              <td class="num" safe>
                {formatSize(file.length)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {t.files.length > 1000 ? <p class="muted">and {t.files.length - 1000} more files</p> : ""}
      {props.canEdit || props.canDelete ? (
        <div class="row actions">
          {props.canEdit ? (
            <a class="button secondary" href={`${base}/torrents/${id}/edit`}>
              Edit
            </a>
          ) : (
            ""
          )}
          {props.canDelete ? (
            <form method="post" action={`${base}/torrents/${id}/delete`} class="inline">
              <Csrf page={props.page} />
              <button class="danger" type="submit" data-confirm="Delete this torrent for everyone?">
                Delete
              </button>
            </form>
          ) : (
            ""
          )}
        </div>
      ) : (
        ""
      )}
      <CommentsSection page={props.page} torrentId={t.id} comments={props.comments} />
    </Layout>
  );
}

/** Editing a torrent's title, category, tags and description. */
export function EditTorrentPage(props: {
  page: PageContext;
  id: number;
  title: string;
  description: string;
  descriptionPreview: { html: RenderedHtml; empty: boolean };
  categories: readonly CategoryChoice[];
  categoryId: number | null;
  tags: string;
  limits: TorrentTextLimits;
  errors?: Record<string, string>;
}) {
  const { base } = props.page;
  return (
    <Layout page={props.page} title="Edit torrent">
      <h1>Edit torrent</h1>
      <form class="stack card" method="post" action={`${base}/torrents/${String(props.id)}/edit`}>
        <Csrf page={props.page} />
        <label>
          Title
          <input
            type="text"
            name="title"
            value={props.title}
            required
            maxlength={String(props.limits.titleMax)}
          />
          <FieldError errors={props.errors} name="title" />
        </label>
        <CategorySelect categories={props.categories} chosen={props.categoryId} errors={props.errors} />
        <TagsInput value={props.tags} limits={props.limits} errors={props.errors} />
        <MarkdownField
          base={base}
          label="Description"
          name="description"
          value={props.description}
          maxLength={props.limits.descriptionMax}
          preview={props.descriptionPreview}
          errors={props.errors}
          rows={10}
        />
        <div class="row">
          <button type="submit">Save</button>
          <a href={`${base}/torrents/${String(props.id)}`}>Cancel</a>
        </div>
      </form>
    </Layout>
  );
}
