import type { Sql } from "../client.ts";

/** A tag with the number of torrents carrying it. */
export interface TagCount {
  name: string;
  uses: number;
}

/** A tag as the list filter needs it: its id and how many torrents carry it. */
export interface TagRef extends TagCount {
  id: number;
}

/**
 * The most used tags, most used first (ties by name); within one category when `categoryId` is
 * given, counted among that category's torrents only (so each count is what the filter finds).
 */
export async function popularTags(sql: Sql, limit: number, categoryId?: number): Promise<TagCount[]> {
  if (categoryId !== undefined)
    return await sql<TagCount[]>`
      select t.name, count(*)::int as uses
      from torrent_tags tt
      join torrents r on r.id = tt.torrent_id
      join tags t on t.id = tt.tag_id
      where r.category_id = ${categoryId}
      group by t.name
      order by uses desc, t.name
      limit ${limit}
    `;
  return await sql<TagCount[]>`
    select name, uses from tags
    where uses > 0
    order by uses desc, name
    limit ${limit}
  `;
}

/** Tags in use beginning with `prefix` (already normalised), most used first. */
export async function tagsStartingWith(sql: Sql, prefix: string, limit: number): Promise<TagCount[]> {
  const pattern = `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  return await sql<TagCount[]>`
    select name, uses from tags
    where name like ${pattern} and uses > 0
    order by uses desc, name
    limit ${limit}
  `;
}

/** One tag by its (normalised) name, or null. */
export async function findTag(sql: Sql, name: string): Promise<TagRef | null> {
  const [row] = await sql<TagRef[]>`select id, name, uses from tags where name = ${name}`;
  return row ?? null;
}

/** The tags of each of `ids` (by name), for the torrents that have any. */
export async function tagsOf(sql: Sql, ids: readonly number[]): Promise<Map<number, string[]>> {
  const out = new Map<number, string[]>();
  if (ids.length === 0) return out;
  const rows = await sql<{ torrentId: number; name: string }[]>`
    select tt.torrent_id, t.name
    from torrent_tags tt
    join tags t on t.id = tt.tag_id
    where tt.torrent_id in ${sql(ids)}
    order by tt.torrent_id, t.name
  `;
  for (const row of rows) {
    const list = out.get(row.torrentId);
    if (list) list.push(row.name);
    else out.set(row.torrentId, [row.name]);
  }
  return out;
}

/**
 * Makes `names` (normalised, distinct) the tags of a torrent: new names become tags, links that
 * are no longer wanted go. Run it inside the transaction that stores the torrent.
 */
export async function setTorrentTags(sql: Sql, torrentId: number, names: readonly string[]): Promise<void> {
  if (names.length === 0) {
    await sql`delete from torrent_tags where torrent_id = ${torrentId}`;
    return;
  }
  await sql`
    insert into tags ${sql(names.map((name) => ({ name })))}
    on conflict (name) do nothing
  `;
  const ids = (await sql<{ id: number }[]>`select id from tags where name in ${sql(names)}`).map((r) => r.id);
  await sql`
    delete from torrent_tags
    where torrent_id = ${torrentId} and tag_id not in ${sql(ids)}
  `;
  await sql`
    insert into torrent_tags ${sql(ids.map((id) => ({ tagId: id, torrentId })))}
    on conflict do nothing
  `;
}
