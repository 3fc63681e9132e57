import type { Sql } from "../../db/client.ts";
import { torrentFile } from "../../db/queries/torrents.ts";
import type { WebDeps } from "../deps.ts";
import { personalise, safeFileName } from "../metainfo.ts";

/** A member's announce URL. */
export function announceUrl(deps: WebDeps, passkey: string): string {
  return `${deps.config.trackerUrl}/${passkey}/announce`;
}

/**
 * The .torrent of torrent `id` with the member's announce URL in it, as a download (the same file
 * the torrent page gives), or null when there is no such torrent.
 */
export async function personalisedDownload(
  deps: WebDeps,
  id: number,
  passkey: string,
): Promise<Response | null> {
  const file = await torrentFile(deps.sql, id);
  if (!file) return null;
  const body = personalise(file.metainfo, announceUrl(deps, passkey));
  return new Response(body as Uint8Array<ArrayBuffer>, {
    headers: {
      "content-type": "application/x-bittorrent",
      "content-disposition": `attachment; filename="${safeFileName(file.title)}"`,
      "cache-control": "private, no-store",
    },
  });
}

/** Seeders, leechers and snatches as last stored, for the torrents among `ids` that exist. */
export async function storedCounts(
  sql: Sql,
  ids: readonly number[],
): Promise<{ id: number; seeders: number; leechers: number; snatches: number }[]> {
  if (ids.length === 0) return [];
  return (await sql`
    select t.id, c.seeders, c.leechers, t.snatches
    from torrents t
    join torrent_counts c on c.torrent_id = t.id
    where t.id = any(${`{${ids.join(",")}}`}::bigint[])
    order by t.id
  `) as unknown as { id: number; seeders: number; leechers: number; snatches: number }[];
}

/** Bytes of the stored .torrent of each of `ids` that exists. */
export async function metainfoSizes(sql: Sql, ids: readonly number[]): Promise<Map<number, number>> {
  const sizes = new Map<number, number>();
  if (ids.length === 0) return sizes;
  const rows = await sql`
    select id, octet_length(metainfo)::bigint as bytes from torrents
    where id = any(${`{${ids.join(",")}}`}::bigint[])
  `;
  for (const row of rows) sizes.set(row.id as number, row.bytes as number);
  return sizes;
}
