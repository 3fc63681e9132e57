import { bookmarkedAmong } from "../../db/queries/bookmarks.ts";
import { listWindows } from "../../db/queries/freeleech.ts";
import { requestsFilledBy } from "../../db/queries/requests.ts";
import { findTag } from "../../db/queries/tags.ts";
import {
  deleteTorrent,
  getTorrent,
  listTorrents,
  type Sort,
  storeDescriptionHtml,
  storedCounts,
  type TorrentDetail,
  type TorrentRow,
  torrentFile,
  updateTorrent,
} from "../../db/queries/torrents.ts";
import type { Actor } from "../access.ts";
import { chooseCategory } from "../categories/service.ts";
import type { WebDeps } from "../deps.ts";
import type { Links } from "../links.ts";
import {
  countEdit,
  type RenderedHtml,
  renderBounded,
  renderMarkdown,
  storedHtml,
} from "../markdown/service.ts";
import { personalise, safeFileName } from "../metainfo.ts";
import { NO_TORRENT, type Result, refuse, refuseFields } from "../refusal.ts";
import { badgeOf, combineFactors } from "../transfers/service.ts";
import { parseTags, TAG_LIMITS } from "./tags.ts";

/** Longest title and description, for the forms, their schemas and the rules. */
export const TEXT_LIMITS = { titleMax: 200, descriptionMax: 20000 } as const;
/** Every limit the upload and edit forms repeat: texts and tags. */
export const FORM_LIMITS = {
  ...TEXT_LIMITS,
  tagsFieldMax: TAG_LIMITS.fieldMax,
  tagLength: TAG_LIMITS.length,
  tagCount: TAG_LIMITS.count,
} as const;

/** The title as stored: trimmed. */
export function cleanTitle(title: string | undefined): string {
  return (title ?? "").trim();
}

/** The description as stored: Unix line ends, trimmed. */
export function cleanDescription(description: string | undefined): string {
  return (description ?? "").replace(/\r\n/g, "\n").trim();
}

/** What the actor may do to a torrent: its uploader and moderators edit, moderators delete. */
export function torrentRights(actor: Actor, torrent: { creatorId: number | null }) {
  return {
    canEdit: torrent.creatorId === actor.id || actor.can("moderate"),
    canDelete: actor.can("moderate"),
  };
}

/** A row with the tracker's live counts in place of the stored ones, when it reported any. */
export function withLiveCounts<T extends TorrentRow>(deps: WebDeps, row: T): T {
  const live = deps.counts.get(row.id);
  return live ? { ...row, seeders: live.seeders, leechers: live.leechers, snatches: live.snatches } : row;
}

/** A function that adds to a row its credit state now (the site-wide windows read once). */
export async function creditStates(deps: WebDeps): Promise<<T extends TorrentRow>(row: T) => T> {
  const windows = await listWindows(deps.sql);
  const now = new Date();
  return (row) => {
    const c = combineFactors(
      { downloadFactor: row.downloadFactor, uploadFactor: row.uploadFactor },
      windows,
      now,
    );
    return { ...row, credit: { badge: badgeOf(c.downloadFactor, c.uploadFactor), until: c.until } };
  };
}

/** What a list asks for: search words, category, tag, order, page and rows per page. */
export interface ListQuery {
  q: string;
  /** Only torrents in this category. */
  category?: number;
  /** Only torrents in one of these categories. */
  categories?: readonly number[];
  /** Only torrents with this tag (as stored: see tagFilter). */
  tag?: string;
  sort?: Sort;
  order: "asc" | "desc";
  page: number;
  limit: number;
}

/**
 * One page of the torrent list, with live counts, and whether a next page exists: the one list of
 * the pages, the API and the feeds. An unknown tag or category lists nothing.
 */
export async function torrentPage(
  deps: WebDeps,
  query: ListQuery,
): Promise<{ rows: TorrentRow[]; hasNext: boolean }> {
  let tag: { id: number; uses: number } | undefined;
  if (query.tag !== undefined) {
    const found = await findTag(deps.sql, query.tag);
    if (!found || found.uses === 0) return { rows: [], hasNext: false };
    tag = found;
  }
  const rows = await listTorrents(deps.sql, {
    search: query.q || undefined,
    categoryId: query.category,
    categoryIds: query.categories,
    tag,
    sort: query.sort,
    order: query.order,
    limit: query.limit,
    offset: (query.page - 1) * query.limit,
  });
  const credit = await creditStates(deps);
  return {
    rows: rows.slice(0, query.limit).map((row) => credit(withLiveCounts(deps, row))),
    hasNext: rows.length > query.limit,
  };
}

/** One torrent with live counts, or null. */
export async function findTorrent(deps: WebDeps, id: number): Promise<TorrentDetail | null> {
  const torrent = await getTorrent(deps.sql, id);
  return torrent && (await creditStates(deps))(withLiveCounts(deps, torrent));
}

/**
 * The description as the torrent page shows it: its stored rendering, or for one written before
 * the site stored them, rendered now and stored for the next reader.
 */
export async function descriptionHtml(
  deps: WebDeps,
  torrent: { id: number; description: string; descriptionHtml: string | null },
): Promise<RenderedHtml> {
  if (torrent.descriptionHtml !== null) return storedHtml(torrent.descriptionHtml);
  const html = renderMarkdown(torrent.description);
  await storeDescriptionHtml(deps.sql, torrent.id, torrent.description, html);
  return html;
}

/** A change to a torrent that was made (the torrent as it is now), or why not. */
export type TorrentChange = Result<{ torrent: TorrentDetail }>;

/** The torrent if it exists and the actor may edit it. */
export async function editableTorrent(deps: WebDeps, actor: Actor, id: number): Promise<TorrentChange> {
  const torrent = await findTorrent(deps, id);
  if (!torrent) return refuse("not_found", NO_TORRENT);
  if (!torrentRights(actor, torrent).canEdit)
    return refuse("forbidden", "Only the uploader and moderators may edit this torrent.");
  return { ok: true, torrent };
}

/** What an edit may change; what is left out stays. */
export interface TorrentEdit {
  title?: string;
  description?: string;
  /** The category's id (null: none, allowed only while the site has no categories). */
  categoryId?: number | null;
  /** Comma-separated text (forms) or a list (API); replaces every tag. */
  tags?: string | readonly string[];
}

/** Changes a torrent's title, description, category or tags (what is left out stays). */
export async function editTorrent(
  deps: WebDeps,
  actor: Actor,
  id: number,
  input: TorrentEdit,
): Promise<TorrentChange> {
  const found = await editableTorrent(deps, actor, id);
  if (!found.ok) return found;
  const { torrent } = found;
  if (
    input.title === undefined &&
    input.description === undefined &&
    input.categoryId === undefined &&
    input.tags === undefined
  )
    return refuseFields({ body: "Send a title, a description, a category, tags, or several." });
  const title = input.title === undefined ? torrent.title : cleanTitle(input.title);
  if (!title) return refuseFields({ title: "Enter a title." });
  const description =
    input.description === undefined ? torrent.description : cleanDescription(input.description);
  let categoryId = torrent.categoryId;
  if (input.categoryId !== undefined) {
    const choice = await chooseCategory(deps, input.categoryId);
    if (!choice.ok) return refuseFields({ ...choice.refusal.fields });
    categoryId = choice.categoryId;
  }
  let tags = torrent.tags;
  if (input.tags !== undefined) {
    const parsed = parseTags(input.tags);
    if (!parsed.ok) return refuseFields({ tags: parsed.message });
    tags = parsed.tags;
  }
  let descriptionHtml = torrent.descriptionHtml;
  if (input.description !== undefined || descriptionHtml === null) {
    const rendering = renderBounded(description);
    if (!rendering.ok) return refuseFields({ description: rendering.problem });
    descriptionHtml = rendering.html;
  }
  if (input.description !== undefined && description !== torrent.description) {
    const throttled = countEdit(deps, actor.id, "description");
    if (throttled) return throttled;
  }
  await updateTorrent(deps.sql, torrent.id, { title, description, descriptionHtml, categoryId, tags });
  return { ok: true, torrent: (await findTorrent(deps, torrent.id)) ?? torrent };
}

/** Deletes a torrent (moderators only) and makes the tracker forget it before returning. */
export async function removeTorrent(deps: WebDeps, actor: Actor, id: number): Promise<TorrentChange> {
  if (!actor.can("moderate")) return refuse("forbidden", "Only moderators may delete torrents.");
  const torrent = await findTorrent(deps, id);
  if (!torrent) return refuse("not_found", NO_TORRENT);
  await deleteTorrent(deps.sql, torrent.id);
  await deps.sync.torrent(torrent.id);
  return { ok: true, torrent };
}

/**
 * The .torrent of torrent `id` with the member's announce URL in it, as a download: the one answer
 * of the torrent page, the API and the feeds. Null when there is no such torrent.
 */
export async function personalisedDownload(
  deps: WebDeps,
  id: number,
  passkey: string,
  links: Links,
): Promise<Response | null> {
  const file = await torrentFile(deps.sql, id);
  if (!file) return null;
  const body = personalise(file.metainfo, links.announceUrls(passkey));
  return new Response(body as Uint8Array<ArrayBuffer>, {
    headers: {
      "content-type": "application/x-bittorrent",
      "content-disposition": `attachment; filename="${safeFileName(file.title)}"`,
      "cache-control": "private, no-store",
    },
  });
}

/** Live counts of the torrents among `ids` that exist (the stored ones before the tracker's first report). */
export async function countsOf(
  deps: WebDeps,
  ids: readonly number[],
): Promise<{ id: number; seeders: number; leechers: number; snatches: number }[]> {
  return (await storedCounts(deps.sql, ids)).map((row) => ({
    ...row,
    ...deps.counts.get(row.id),
    id: row.id,
  }));
}

/** The requests a torrent filled or waits to fill, for its page. */
export function filledRequests(deps: WebDeps, torrentId: number) {
  return requestsFilledBy(deps.sql, torrentId);
}

/** Which of these torrents the viewer keeps in their bookmarks. */
export function bookmarkedOf(deps: WebDeps, viewer: { id: number }, torrentIds: readonly number[]) {
  return bookmarkedAmong(deps.sql, viewer.id, torrentIds);
}
