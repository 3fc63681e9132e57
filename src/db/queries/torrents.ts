import type { Completions, TrackerTorrent } from "../../shared/channel.ts";
import { type Sql, UNIQUE_VIOLATION } from "../client.ts";
import { setTorrentTags } from "./tags.ts";

/** Every torrent as the tracker needs it (hashes in hex). */
export async function trackerTorrents(sql: Sql): Promise<TrackerTorrent[]> {
  return await sql<TrackerTorrent[]>`
    select id, encode(info_hash, 'hex') as "infoHash", encode(info_hash_v2, 'hex') as "infoHashV2", snatches,
      download_factor::float8 as "downloadFactor", upload_factor::float8 as "uploadFactor",
      size::float8 as size
    from torrents
  `;
}

/** One torrent as the tracker needs it, or null. */
export async function trackerTorrent(sql: Sql, id: number): Promise<TrackerTorrent | null> {
  const [row] = await sql<TrackerTorrent[]>`
    select id, encode(info_hash, 'hex') as "infoHash", encode(info_hash_v2, 'hex') as "infoHashV2", snatches,
      download_factor::float8 as "downloadFactor", upload_factor::float8 as "uploadFactor",
      size::float8 as size
    from torrents
    where id = ${id}
  `;
  return row ?? null;
}

/** Completions read per query at start: memory stays bounded however many there are. */
const COMPLETIONS_PAGE = 50_000;

/**
 * Who completed which torrent, as packed [member id, torrent id] pairs ordered by member: the
 * tracker loads them at start so that a repeated completion is never a second snatch. Read in
 * pages along the primary key.
 */
export async function trackerCompletions(sql: Sql, pageSize = COMPLETIONS_PAGE): Promise<Completions> {
  let out = new Float64Array(1024);
  let n = 0;
  let afterUser = 0;
  let afterTorrent = 0;
  for (;;) {
    const rows = await sql<{ userId: number; torrentId: number }[]>`
      select user_id, torrent_id
      from user_torrent_stats
      where (user_id, torrent_id) > (${afterUser}::bigint, ${afterTorrent}::bigint)
        and completed_at is not null
      order by user_id, torrent_id
      limit ${pageSize}
    `;
    if (n + rows.length * 2 > out.length) {
      const grown = new Float64Array(Math.max(out.length * 2, n + rows.length * 2));
      grown.set(out);
      out = grown;
    }
    for (const row of rows) {
      out[n++] = row.userId;
      out[n++] = row.torrentId;
    }
    if (rows.length < pageSize) break;
    afterUser = rows.at(-1)!.userId;
    afterTorrent = rows.at(-1)!.torrentId;
  }
  return out.slice(0, n);
}

/** A torrent as lists show it. */
export interface TorrentRow {
  id: number;
  title: string;
  size: number;
  createdAt: Date;
  creatorId: number | null;
  creator: string | null;
  seeders: number;
  leechers: number;
  snatches: number;
  categoryId: number | null;
  category: string | null;
  categoryIcon: string | null;
  /** Its tags by name, in alphabetical order. */
  tags: string[];
  /** The torrent's own credit factors (see the README's Accounting). */
  downloadFactor: number;
  uploadFactor: number;
  /** The credit state in force, with site-wide windows: filled in by the web side. */
  credit?: { badge: string | null; until: Date | null };
}

/** A torrent with everything its page shows. */
export interface TorrentDetail extends TorrentRow {
  description: string;
  /** The description rendered when written; null for one written before the site stored it. */
  descriptionHtml: string | null;
  files: { path: string; length: number }[];
  infoHash: Buffer;
  infoHashV2: Buffer | null;
}

/** Columns a list can be sorted by. */
export const SORTS = ["date", "seeders", "leechers", "snatches", "size", "title"] as const;
export type Sort = (typeof SORTS)[number];

/** Word beginnings up to this length are stored in the search vector (sql/005, sql/008). */
const INDEXED_PREFIX = 16;

/**
 * Words of a search as a full-text query that matches titles with words beginning with each of
 * them: "debi book" finds "Debian Bookworm", "quokka sunrise" finds
 * "Quokka.Sunrise.Sampler.2026.FLAC". The search vector stores every beginning of every word up to
 * 16 characters, so those words are exact lookups; a longer word is a prefix query. Words are runs
 * of letters (with their marks, as in Devanagari) and digits, split where titles are split
 * (sql/008): at punctuation and spaces. Nothing else survives, so the result is always a valid
 * tsquery (or null: no words).
 */
export function searchQuery(text: string): string | null {
  const words =
    text
      .toLowerCase()
      .match(/[\p{L}\p{M}\p{N}]+/gu)
      ?.slice(0, 16) ?? [];
  return words.length ? words.map((w) => (w.length <= INDEXED_PREFIX ? w : `${w}:*`)).join(" & ") : null;
}

/**
 * A search (or a tag) with at most this many matches is sorted by collecting its matches first;
 * one with more walks the sort's index and tests each torrent against the search.
 */
const FEW_MATCHES = 5000;

/** What a list is filtered by, besides the search words. */
export interface ListFilter {
  creatorId?: number;
  categoryId?: number;
  /** Only torrents in one of these categories (Torznab's `cat`); not with `categoryId`. */
  categoryIds?: readonly number[];
  /** The tag, as found by `findTag` (its count says whether it is rare). */
  tag?: { id: number; uses: number };
}

/** The columns every list and page shows, from `t` (torrents), `c` (counts), `u` and `cat`. */
/** The columns of a TorrentRow, over `torrents t`, `torrent_counts c`, `users u` and `categories cat`. */
export function rowColumns(sql: Sql) {
  return sql`
    t.id, t.title, t.size, t.created_at, t.creator_id, u.name as creator, c.seeders, c.leechers, t.snatches,
    t.category_id, cat.name as category, cat.icon as category_icon,
    t.download_factor::float8 as download_factor, t.upload_factor::float8 as upload_factor,
    array(
      select g.name from torrent_tags tt join tags g on g.id = tt.tag_id
      where tt.torrent_id = t.id order by g.name
    ) as tags
  `;
}

/**
 * One page of torrents, newest first or by `sort`, optionally only those matching a search, in a
 * category, carrying a tag or uploaded by one member. Every order has an index with the id as
 * tie-breaker in the same direction (sql/005), and the same again led by the category (sql/011),
 * so a page costs the same at a million torrents as at a hundred, filtered by category or not.
 * Fetches one row more than `limit` so the caller knows whether a next page exists.
 *
 * A search in date order walks the date index: insertion order, so the rows it tests are close
 * together. In any other order, or within a category, the walk jumps across the table, which is
 * cheap for a common word (matches come every few rows) and ruinous for a rare one (it would test
 * most of the catalogue). So such a search first counts its matches, up to FEW_MATCHES + 1 (cheap
 * either way: the search index finds rare words, a scan stops early on common ones), and with few
 * of them sorts just those. A tag is the same: a rare one (its count is stored) collects its
 * torrents and sorts them, a common one walks the index; with other filters its matches are
 * counted first.
 */
export async function listTorrents(
  sql: Sql,
  options: {
    search?: string;
    sort?: Sort;
    order?: "asc" | "desc";
    limit: number;
    offset: number;
  } & ListFilter,
): Promise<TorrentRow[]> {
  const ts = options.search ? searchQuery(options.search) : null;
  if (options.search && !ts) return [];
  const dir = options.order === "asc" ? sql`asc` : sql`desc`;
  const sort = options.sort ?? "date";
  const order = {
    date: sql`t.created_at ${dir}, t.id ${dir}`,
    seeders: sql`c.seeders ${dir}, c.torrent_id ${dir}`,
    leechers: sql`c.leechers ${dir}, c.torrent_id ${dir}`,
    snatches: sql`t.snatches ${dir}, t.id ${dir}`,
    size: sql`t.size ${dir}, t.id ${dir}`,
    title: sql`lower(t.title) ${dir}, t.id ${dir}`,
  }[sort];
  const { tag, categoryId, categoryIds, creatorId } = options;
  const matches = ts ? sql`t.search @@ to_tsquery('simple', ${ts})` : sql`true`;
  const creator = creatorId !== undefined ? sql`and t.creator_id = ${creatorId}` : sql``;
  const tagged = tag
    ? sql`and t.id in (select torrent_id from torrent_tags where tag_id = ${tag.id})`
    : sql``;
  // The category copy in torrent_counts leads the seeder and leecher indexes (sql/011).
  const onCounts = sort === "seeders" || sort === "leechers";
  const category = (alias: "t" | "c") =>
    categoryIds !== undefined
      ? sql`and ${alias === "c" ? sql`c.category_id` : sql`t.category_id`} in ${sql(categoryIds.length ? categoryIds : [0])}`
      : categoryId === undefined
        ? sql``
        : alias === "c"
          ? sql`and c.category_id = ${categoryId}`
          : sql`and t.category_id = ${categoryId}`;
  let few = false;
  const narrowed =
    ts !== null || categoryId !== undefined || categoryIds !== undefined || creatorId !== undefined;
  if (tag && tag.uses <= FEW_MATCHES) few = true;
  else if (
    (tag && narrowed) ||
    (ts && (sort !== "date" || categoryId !== undefined || categoryIds !== undefined))
  ) {
    const [row] = await sql<{ n: number }[]>`
      select count(*)::int as n from (
        select 1 from torrents t where ${matches} ${creator} ${category("t")} ${tagged}
        limit ${FEW_MATCHES + 1}
      ) as m
    `;
    few = row!.n <= FEW_MATCHES;
  }
  // The page's ids are found first, from as little as the order needs (often its index alone),
  // and only those rows are read in full with their uploader, category and tags: the rows an
  // offset skips would otherwise each be fetched and pay for those lookups too.
  const from = few
    ? sql`(
        select t.id, t.created_at, t.snatches, t.size, t.title
        from torrents t
        where ${matches} ${creator} ${category("t")} ${tagged}
        offset 0
      ) as t`
    : sql`torrents t`;
  const onTorrents = few || ts !== null || creatorId !== undefined || tag !== undefined;
  const where = few ? sql`` : sql`where ${matches} ${creator} ${category(onCounts ? "c" : "t")} ${tagged}`;
  const page = sql`limit ${options.limit + 1} offset ${options.offset}`;
  const ids = !onCounts
    ? sql`select t.id from ${from} ${where} order by ${order} ${page}`
    : onTorrents
      ? sql`select t.id from ${from} join torrent_counts c on c.torrent_id = t.id ${where} order by ${order} ${page}`
      : sql`select c.torrent_id as id from torrent_counts c ${where} order by ${order} ${page}`;
  return await sql<TorrentRow[]>`
    select ${rowColumns(sql)}
    from (${ids}) as p
    join torrents t on t.id = p.id
    join torrent_counts c on c.torrent_id = t.id
    left join users u on u.id = t.creator_id
    left join categories cat on cat.id = t.category_id
    order by ${order}
  `;
}

/** One torrent with its page's details, or null. */
export async function getTorrent(sql: Sql, id: number): Promise<TorrentDetail | null> {
  const [row] = await sql<TorrentDetail[]>`
    select ${rowColumns(sql)}, t.description, t.description_html, t.files, t.info_hash, t.info_hash_v2
    from torrents t
    join torrent_counts c on c.torrent_id = t.id
    left join users u on u.id = t.creator_id
    left join categories cat on cat.id = t.category_id
    where t.id = ${id}
  `;
  return row ?? null;
}

/** The stored metainfo and title of a torrent, for downloads. */
export async function torrentFile(sql: Sql, id: number): Promise<{ title: string; metainfo: Buffer } | null> {
  const [row] = await sql<
    { title: string; metainfo: Buffer }[]
  >`select title, metainfo from torrents where id = ${id}`;
  return row ?? null;
}

/** The id of a torrent already registered with either hash, or null. */
export async function findDuplicate(
  sql: Sql,
  infoHash: Buffer,
  infoHashV2: Buffer | null,
): Promise<number | null> {
  const [row] = await sql<{ id: number }[]>`
    select id from torrents
    where info_hash = ${infoHash}
      or (${infoHashV2}::bytea is not null and info_hash_v2 = ${infoHashV2})
    limit 1
  `;
  return row?.id ?? null;
}

/**
 * Stores a new torrent with its tags, in one transaction; returns its id, or null when one with
 * either info hash is already stored.
 */
export async function insertTorrent(
  sql: Sql,
  t: {
    infoHash: Buffer;
    infoHashV2: Buffer | null;
    title: string;
    description: string;
    descriptionHtml: string;
    size: number;
    files: { path: string; length: number }[];
    creatorId: number;
    metainfo: Buffer;
    categoryId: number | null;
    tags: readonly string[];
  },
): Promise<number | null> {
  try {
    return (await sql.begin(async (tx) => {
      const [row] = await tx<{ id: number }[]>`
        insert into torrents (
          info_hash, info_hash_v2, title, description, description_html, size, files, creator_id,
          metainfo, category_id
        )
        values (
          ${t.infoHash}, ${t.infoHashV2}, ${t.title}, ${t.description}, ${t.descriptionHtml}, ${t.size},
          ${tx.json(t.files)}, ${t.creatorId}, ${t.metainfo}, ${t.categoryId}
        )
        returning id
      `;
      await setTorrentTags(tx as unknown as Sql, row!.id, t.tags);
      return row!.id;
    })) as number;
  } catch (error) {
    // Two uploads of one torrent at once: the unique index decides.
    if ((error as { code?: string }).code === UNIQUE_VIOLATION) return null;
    throw error;
  }
}

/** Changes a torrent's title, description, category and tags, in one transaction. */
export async function updateTorrent(
  sql: Sql,
  id: number,
  change: {
    title: string;
    description: string;
    descriptionHtml: string;
    categoryId: number | null;
    tags: readonly string[];
  },
): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`
      update torrents
      set title = ${change.title}, description = ${change.description},
        description_html = ${change.descriptionHtml}, category_id = ${change.categoryId}
      where id = ${id}
    `;
    await setTorrentTags(tx as unknown as Sql, id, change.tags);
  });
}

/** Stores the rendering of a description written before the site stored them (unless it changed meanwhile). */
export async function storeDescriptionHtml(
  sql: Sql,
  id: number,
  description: string,
  html: string,
): Promise<void> {
  await sql`
    update torrents set description_html = ${html}
    where id = ${id} and description_html is null and description = ${description}
  `;
}

/** Deletes a torrent (its statistics go with it). */
export async function deleteTorrent(sql: Sql, id: number): Promise<void> {
  await sql`delete from torrents where id = ${id}`;
}

/** Seeders, leechers and snatches as last stored, for the torrents among `ids` that exist. */
export async function storedCounts(
  sql: Sql,
  ids: readonly number[],
): Promise<{ id: number; seeders: number; leechers: number; snatches: number }[]> {
  if (ids.length === 0) return [];
  return sql<{ id: number; seeders: number; leechers: number; snatches: number }[]>`
    select t.id, c.seeders, c.leechers, t.snatches
    from torrents t
    join torrent_counts c on c.torrent_id = t.id
    where t.id in ${sql(ids)}
    order by t.id
  `;
}

/** Bytes of the stored .torrent of each of `ids` that exists. */
export async function metainfoSizes(sql: Sql, ids: readonly number[]): Promise<Map<number, number>> {
  const sizes = new Map<number, number>();
  if (ids.length === 0) return sizes;
  const rows = await sql<{ id: number; bytes: number }[]>`
    select id, octet_length(metainfo)::bigint as bytes from torrents
    where id in ${sql(ids)}
  `;
  for (const row of rows) sizes.set(row.id, row.bytes);
  return sizes;
}

/** The v1 info hash (hex; for a v2-only torrent, its truncated v2 hash) of each of `ids` that exists. */
export async function infoHashes(sql: Sql, ids: readonly number[]): Promise<Map<number, string>> {
  const hashes = new Map<number, string>();
  if (ids.length === 0) return hashes;
  const rows = await sql<{ id: number; hash: string }[]>`
    select id, encode(info_hash, 'hex') as hash from torrents where id in ${sql(ids)}
  `;
  for (const row of rows) hashes.set(row.id, row.hash);
  return hashes;
}
