import type { FactorWindow } from "../../shared/channel.ts";
import type { Sql } from "../client.ts";

/** Highest factor a torrent or a window may carry (the tables' checks hold the same figure). */
export const MAX_FACTOR = 10;

/** Every site-wide window not yet over, as the tracker needs it (Unix seconds). */
export async function factorWindows(sql: Sql): Promise<FactorWindow[]> {
  return await sql<FactorWindow[]>`
    select extract(epoch from starts_at)::float8 as "startsAt", extract(epoch from ends_at)::float8 as "endsAt",
      download_factor::float8 as "downloadFactor", upload_factor::float8 as "uploadFactor"
    from freeleech_windows
    where ends_at > now()
    order by starts_at
  `;
}

/** A site-wide window as pages and the API show it. */
export interface WindowRow {
  id: number;
  startsAt: Date;
  endsAt: Date;
  downloadFactor: number;
  uploadFactor: number;
  note: string;
  createdBy: string | null;
}

/** Windows not over yet, or all of them, soonest first. */
export async function listWindows(sql: Sql, includePast = false): Promise<WindowRow[]> {
  return await sql<WindowRow[]>`
    select w.id, w.starts_at, w.ends_at, w.download_factor::float8, w.upload_factor::float8, w.note,
      u.name as created_by
    from freeleech_windows w
    left join users u on u.id = w.created_by
    where ${includePast} or w.ends_at > now()
    order by w.starts_at, w.id
    limit 500
  `;
}

/** Adds a window; returns its id. */
export async function createWindow(
  sql: Sql,
  w: {
    startsAt: Date;
    endsAt: Date;
    downloadFactor: number;
    uploadFactor: number;
    note: string;
    createdBy: number;
  },
): Promise<number> {
  const [row] = await sql<{ id: number }[]>`
    insert into freeleech_windows (starts_at, ends_at, download_factor, upload_factor, note, created_by)
    values (${w.startsAt}, ${w.endsAt}, ${w.downloadFactor}, ${w.uploadFactor}, ${w.note}, ${w.createdBy})
    returning id
  `;
  return row!.id;
}

/** Removes a window; returns what it was, or null when there was none with that id. */
export async function deleteWindow(
  sql: Sql,
  id: number,
): Promise<{
  startsAt: Date;
  endsAt: Date;
  downloadFactor: number;
  uploadFactor: number;
  note: string;
} | null> {
  const [row] = await sql<
    { startsAt: Date; endsAt: Date; downloadFactor: number; uploadFactor: number; note: string }[]
  >`
    delete from freeleech_windows where id = ${id}
    returning starts_at, ends_at, download_factor::float8 as download_factor,
      upload_factor::float8 as upload_factor, note
  `;
  return row ?? null;
}

/** A torrent's own factors and whether its uploader asked for freeleech. */
export interface TorrentFactors {
  id: number;
  creatorId: number | null;
  downloadFactor: number;
  uploadFactor: number;
  freeleechRequested: boolean;
}

/** The factors of one torrent, or null when it does not exist. */
export async function torrentFactors(sql: Sql, id: number): Promise<TorrentFactors | null> {
  const [row] = await sql<TorrentFactors[]>`
    select id, creator_id, download_factor::float8, upload_factor::float8, freeleech_requested
    from torrents
    where id = ${id}
  `;
  return row ?? null;
}

/** Sets a torrent's factors (and clears its request); false when it does not exist. */
export async function setTorrentFactors(sql: Sql, id: number, down: number, up: number): Promise<boolean> {
  const rows = await sql`
    update torrents set download_factor = ${down}, upload_factor = ${up}, freeleech_requested = false
    where id = ${id}
    returning id
  `;
  return rows.length > 0;
}

/** Sets or clears the uploader's freeleech request; false when the torrent does not exist. */
export async function setFreeleechRequest(sql: Sql, id: number, requested: boolean): Promise<boolean> {
  const rows =
    await sql`update torrents set freeleech_requested = ${requested} where id = ${id} returning id`;
  return rows.length > 0;
}
