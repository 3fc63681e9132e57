import { findDuplicate, insertTorrent } from "../../db/queries/torrents.ts";
import type { WebDeps } from "../deps.ts";
import { MetainfoError, type ParsedTorrent } from "../metainfo.ts";
import { parseOffThread } from "../metainfo-pool.ts";
import { cleanDescription, cleanTitle, TEXT_LIMITS } from "./service.ts";

/** What an upload form or API call sends. */
export interface UploadInput {
  /** The .torrent file (anything else, or an empty file, is refused). */
  file?: unknown;
  title?: string;
  description?: string;
  creatorId: number;
}

/** The outcome of an upload: stored, or why not (with the field at fault, null for the whole form). */
export type UploadResult =
  | { ok: true; id: number; title: string; changed: boolean }
  | {
      ok: false;
      status: 409 | 413 | 422;
      field: "file" | "title" | null;
      message: string;
      /** The torrent already on the site, for a duplicate. */
      duplicateOf: number | null;
    };

/**
 * Checks, rewrites and stores an uploaded .torrent for the upload page and the API alike: a file
 * must be there and within `webapi.maxTorrentBytes` (413), valid (422, the validator's message), and
 * not on the site already under either info hash (409). The title defaults to the torrent's name.
 * The file is checked on the upload checker's thread, so a hostile one never stalls other pages.
 * A stored torrent is announced to the tracker before this returns.
 */
export async function acceptUpload(deps: WebDeps, input: UploadInput): Promise<UploadResult> {
  const refuse = (
    status: 409 | 413 | 422,
    field: "file" | "title" | null,
    message: string,
    duplicateOf: number | null = null,
  ): UploadResult => ({ ok: false, status, field, message, duplicateOf });
  const maxBytes = deps.config.webapi.maxTorrentBytes;
  const { file } = input;
  if (!(file instanceof Blob) || file.size === 0) return refuse(422, "file", "Choose a .torrent file.");
  if (file.size > maxBytes)
    return refuse(413, "file", `The file is larger than ${Math.floor(maxBytes / 1024)} KiB.`);
  let parsed: ParsedTorrent;
  try {
    parsed = await parseOffThread(new Uint8Array(await file.arrayBuffer()), {
      source: deps.config.siteName,
      maxBytes,
    });
  } catch (error) {
    if (error instanceof MetainfoError) return refuse(422, "file", error.message);
    throw error;
  }
  const title = cleanTitle(input.title) || parsed.name;
  if (title.length > TEXT_LIMITS.titleMax)
    return refuse(422, "title", `Use at most ${TEXT_LIMITS.titleMax} characters.`);
  const duplicate = await findDuplicate(deps.sql, parsed.infoHash, parsed.infoHashV2);
  if (duplicate !== null) return refuse(409, null, "This torrent is already on the site.", duplicate);
  const id = await insertTorrent(deps.sql, {
    infoHash: parsed.infoHash,
    infoHashV2: parsed.infoHashV2,
    title,
    description: cleanDescription(input.description),
    size: parsed.size,
    files: parsed.files,
    creatorId: input.creatorId,
    metainfo: parsed.metainfo,
  });
  // Two uploads of one torrent at once: the unique index decides, the loser hears why.
  if (id === null) return refuse(409, null, "This torrent is already on the site.");
  await deps.sync.torrent(id);
  return { ok: true, id, title, changed: parsed.changed };
}
