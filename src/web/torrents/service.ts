import { listWindows } from "../../db/queries/freeleech.ts";
import {
  deleteTorrent,
  getTorrent,
  listTorrents,
  type Sort,
  storedCounts,
  type TorrentDetail,
  type TorrentRow,
  torrentFile,
  updateTorrent,
} from "../../db/queries/torrents.ts";
import type { Role } from "../../db/queries/users.ts";
import type { WebDeps } from "../deps.ts";
import { badgeOf, combineFactors } from "../economy/service.ts";
import type { Links } from "../links.ts";
import { personalise, safeFileName } from "../metainfo.ts";

/** Longest title and description, for the forms, their schemas and the rules. */
export const TEXT_LIMITS = { titleMax: 200, descriptionMax: 20000 } as const;
export const NO_TORRENT = "There is no torrent with this number.";

/** Someone acting on a torrent. */
export interface Actor {
  readonly id: number;
  can(role: Role): boolean;
}

/** The title as stored: trimmed. */
export function cleanTitle(title: string | undefined): string {
  return (title ?? "").trim();
}

/** The description as stored: Unix line ends, trimmed. */
export function cleanDescription(description: string | undefined): string {
  return (description ?? "").replace(/\r\n/g, "\n").trim();
}

/** What the actor may do to a torrent: its uploader and moderators edit, moderators delete. */
export function torrentRights(actor: Actor, torrent: { creator_id: number | null }) {
  return {
    canEdit: torrent.creator_id === actor.id || actor.can("moderate"),
    canDelete: actor.can("moderate"),
  };
}

/** A row with the tracker's live counts in place of the stored ones, when it reported any. */
export function withLiveCounts<T extends TorrentRow>(deps: WebDeps, row: T): T {
  const live = deps.counts.get(row.id);
  return live ? { ...row, seeders: live.seeders, leechers: live.leechers, snatches: live.snatches } : row;
}

/** A function that adds to a row its credit state now (the site-wide windows read once). */
async function creditStates(deps: WebDeps): Promise<<T extends TorrentRow>(row: T) => T> {
  const windows = await listWindows(deps.sql);
  const now = new Date();
  return (row) => {
    const c = combineFactors(
      { downloadFactor: row.download_factor, uploadFactor: row.upload_factor },
      windows,
      now,
    );
    return { ...row, credit: { badge: badgeOf(c.downloadFactor, c.uploadFactor), until: c.until } };
  };
}

/** What a list asks for: search words, order, page and rows per page. */
export interface ListQuery {
  q: string;
  sort?: Sort;
  order: "asc" | "desc";
  page: number;
  limit: number;
}

/** One page of the torrent list, with live counts, and whether a next page exists. */
export async function torrentPage(
  deps: WebDeps,
  query: ListQuery,
): Promise<{ rows: TorrentRow[]; hasNext: boolean }> {
  const rows = await listTorrents(deps.sql, {
    search: query.q || undefined,
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

/** A change to a torrent that was made (the torrent as it is now), or why not. */
export type TorrentChange =
  | { ok: true; torrent: TorrentDetail }
  | { ok: false; status: 403 | 404 | 422; field: "title" | "body" | null; message: string };

/** The torrent if it exists and the actor may edit it. */
export async function editableTorrent(deps: WebDeps, actor: Actor, id: number): Promise<TorrentChange> {
  const torrent = await findTorrent(deps, id);
  if (!torrent) return { ok: false, status: 404, field: null, message: NO_TORRENT };
  if (!torrentRights(actor, torrent).canEdit)
    return {
      ok: false,
      status: 403,
      field: null,
      message: "Only the uploader and moderators may edit this torrent.",
    };
  return { ok: true, torrent };
}

/** Changes a torrent's title, description or both (what is left out stays). */
export async function editTorrent(
  deps: WebDeps,
  actor: Actor,
  id: number,
  input: { title?: string; description?: string },
): Promise<TorrentChange> {
  const found = await editableTorrent(deps, actor, id);
  if (!found.ok) return found;
  const { torrent } = found;
  if (input.title === undefined && input.description === undefined)
    return { ok: false, status: 422, field: "body", message: "Send a title, a description or both." };
  const title = input.title === undefined ? torrent.title : cleanTitle(input.title);
  if (!title) return { ok: false, status: 422, field: "title", message: "Enter a title." };
  const description =
    input.description === undefined ? torrent.description : cleanDescription(input.description);
  await updateTorrent(deps.sql, torrent.id, title, description);
  return { ok: true, torrent: (await findTorrent(deps, torrent.id)) ?? torrent };
}

/** Deletes a torrent (moderators only) and makes the tracker forget it before returning. */
export async function removeTorrent(deps: WebDeps, actor: Actor, id: number): Promise<TorrentChange> {
  if (!actor.can("moderate"))
    return { ok: false, status: 403, field: null, message: "Only moderators may delete torrents." };
  const torrent = await findTorrent(deps, id);
  if (!torrent) return { ok: false, status: 404, field: null, message: NO_TORRENT };
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
  const body = personalise(file.metainfo, links.announce(passkey));
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
