/** @jsxImportSource @kitajs/html */

import { type BadgeView, FactorBadge } from "../economy/badge.tsx";
import { formatAge, formatSize } from "../layout/format.ts";
import { Csrf, FieldError, Layout } from "../layout/layout.tsx";
import type { CountsView, PageContext } from "../layout/page.ts";

/** A torrent with everything its page shows. */
export interface TorrentView {
  id: number;
  title: string;
  description: string;
  size: number;
  created_at: Date;
  creator: string | null;
  files: readonly { path: string; length: number }[];
  info_hash: Uint8Array;
  info_hash_v2: Uint8Array | null;
  /** The credit state when not normal (freeleech, double upload, …). */
  credit?: BadgeView;
}

/** Longest title and description the upload and edit forms take. */
export interface TorrentTextLimits {
  titleMax: number;
  descriptionMax: number;
}

/** A torrent's page: facts, live counts, files, download, and edit/delete for those allowed. */
export function TorrentPage(props: {
  page: PageContext;
  torrent: TorrentView;
  counts: CountsView;
  canEdit: boolean;
  canDelete: boolean;
  notice?: string;
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
          </a>
        </p>
        <dl class="facts">
          <dt>Size</dt>
          <dd safe>{formatSize(t.size)}</dd>
          <dt>Uploader</dt>
          <dd safe>{t.creator ?? "—"}</dd>
          <dt>Added</dt>
          <dd>
            <time datetime={t.created_at.toISOString()} safe>
              {formatAge(t.created_at)}
            </time>
          </dd>
          <dt>Info hash</dt>
          <dd class="mono" safe>
            {Buffer.from(t.info_hash).toString("hex")}
          </dd>
          {t.info_hash_v2 ? (
            <>
              <dt>Info hash (v2)</dt>
              <dd class="mono" safe>
                {Buffer.from(t.info_hash_v2).toString("hex")}
              </dd>
            </>
          ) : (
            ""
          )}
        </dl>
      </div>
      {t.description ? (
        <>
          <h2>Description</h2>
          <div class="card" style="white-space: pre-wrap; overflow-wrap: anywhere" safe>
            {t.description}
          </div>
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
        <div class="row" style="margin-top: 1rem">
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
              <button
                class="danger"
                type="submit"
                onclick="return confirm('Delete this torrent for everyone?')"
              >
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
    </Layout>
  );
}

/** Editing a torrent's title and description. */
export function EditTorrentPage(props: {
  page: PageContext;
  id: number;
  title: string;
  description: string;
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
        <label>
          Description
          <textarea name="description" maxlength={String(props.limits.descriptionMax)} safe>
            {props.description}
          </textarea>
          <FieldError errors={props.errors} name="description" />
        </label>
        <div class="row">
          <button type="submit">Save</button>
          <a href={`${base}/torrents/${String(props.id)}`}>Cancel</a>
        </div>
      </form>
    </Layout>
  );
}
