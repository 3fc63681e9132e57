import { findDuplicate, insertTorrent } from "../../db/queries/torrents.ts";
import { chooseCategory } from "../categories/service.ts";
import type { WebDeps } from "../deps.ts";
import { renderBounded } from "../markdown/service.ts";
import { MetainfoError, type ParsedTorrent } from "../metainfo.ts";
import { parseOffThread } from "../metainfo-pool.ts";
import { type Refused, type Result, refuse, refuseField } from "../refusal.ts";
import { cleanDescription, cleanTitle, TEXT_LIMITS } from "./service.ts";
import { parseTags } from "./tags.ts";

/** What the upload form, the API and the front of the server say about a file over the limit. */
export function fileTooLarge(maxBytes: number): string {
  return `The file is larger than ${Math.floor(maxBytes / 1024)} KiB.`;
}

/** What an upload form or API call sends. */
export interface UploadInput {
  /** The .torrent file (anything else, or an empty file, is refused). */
  file?: unknown;
  title?: string;
  description?: string;
  /** The category's id; needed once the site has categories. */
  categoryId?: number | null;
  /** Comma-separated tags (normalised here). */
  tags?: string | readonly string[];
  creatorId: number;
}

/** The category's id from a form or multipart field: digits, or null for anything else. */
export function categoryField(text: string | undefined): number | null {
  const trimmed = (text ?? "").trim();
  return /^[1-9][0-9]{0,14}$/.test(trimmed) ? Number(trimmed) : null;
}

/** The outcome of an upload: stored, or why not (with the field at fault, null for the whole form). */
export type UploadResult =
  | Result<{ id: number; title: string; changed: boolean }>
  /** The torrent already on the site, for a duplicate. */
  | (Refused & { duplicateOf: number });

const ALREADY_HERE = "This torrent is already on the site.";

/**
 * Checks, rewrites and stores an uploaded .torrent for the upload page and the API alike: a file
 * must be there and within `webapi.maxTorrentBytes` (413), valid (422, the validator's message), and
 * not on the site already under either info hash (409). The title defaults to the torrent's name;
 * the category must be one of the site's (once it has any) and the tags well formed (422).
 * The file is checked on the upload checker's thread, so a hostile one never stalls other pages.
 * A stored torrent is announced to the tracker before this returns.
 */
export async function acceptUpload(deps: WebDeps, input: UploadInput): Promise<UploadResult> {
  const maxBytes = deps.config.webapi.maxTorrentBytes;
  const { file } = input;
  if (!(file instanceof Blob) || file.size === 0) return refuseField("file", "Choose a .torrent file.");
  if (file.size > maxBytes) return refuseField("file", fileTooLarge(maxBytes), "too_large");
  // Before reading the file: a browser does not keep the chosen file when the form comes back.
  const category = await chooseCategory(deps, input.categoryId ?? null);
  if (!category.ok) return category;
  const tags = parseTags(input.tags);
  if (!tags.ok) return refuseField("tags", tags.message);
  let parsed: ParsedTorrent;
  try {
    parsed = await parseOffThread(new Uint8Array(await file.arrayBuffer()), {
      source: deps.config.siteName,
      maxBytes,
    });
  } catch (error) {
    if (error instanceof MetainfoError) return refuseField("file", error.message);
    throw error;
  }
  const title = cleanTitle(input.title) || parsed.name;
  if (title.length > TEXT_LIMITS.titleMax)
    return refuseField("title", `Use at most ${TEXT_LIMITS.titleMax} characters.`);
  const description = cleanDescription(input.description);
  const rendering = renderBounded(description);
  if (!rendering.ok) return refuseField("description", rendering.problem);
  const duplicate = await findDuplicate(deps.sql, parsed.infoHash, parsed.infoHashV2);
  if (duplicate !== null) return { ...refuse("conflict", ALREADY_HERE), duplicateOf: duplicate };
  const id = await insertTorrent(deps.sql, {
    infoHash: parsed.infoHash,
    infoHashV2: parsed.infoHashV2,
    title,
    description,
    descriptionHtml: rendering.html,
    size: parsed.size,
    files: parsed.files,
    creatorId: input.creatorId,
    metainfo: parsed.metainfo,
    categoryId: category.categoryId,
    tags: tags.tags,
  });
  // Two uploads of one torrent at once: the unique index decides, the loser hears why.
  if (id === null) return refuse("conflict", ALREADY_HERE);
  await deps.sync.torrent(id);
  return { ok: true, id, title, changed: parsed.changed };
}
