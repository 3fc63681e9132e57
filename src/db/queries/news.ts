import type { Sql } from "../client.ts";

/** A news item with its author's name. */
export interface NewsRow {
  id: number;
  title: string;
  body: string;
  /** The body rendered when written; null for an item written before the site stored it. */
  bodyHtml: string | null;
  authorId: number | null;
  author: string | null;
  createdAt: Date;
  updatedAt: Date | null;
}

/** News, newest first: `limit` items after `offset` (one more is fetched: is there a next page?). */
export async function listNews(sql: Sql, options: { limit: number; offset: number }): Promise<NewsRow[]> {
  return await sql<NewsRow[]>`
    select n.id, n.title, n.body, n.body_html, n.author_id, u.name as author, n.created_at, n.updated_at
    from news n
    left join users u on u.id = n.author_id
    order by n.created_at desc, n.id desc
    limit ${options.limit + 1}
    offset ${options.offset}
  `;
}

/** One news item, or null. */
export async function newsItem(sql: Sql, id: number): Promise<NewsRow | null> {
  const [row] = await sql<NewsRow[]>`
    select n.id, n.title, n.body, n.body_html, n.author_id, u.name as author, n.created_at, n.updated_at
    from news n
    left join users u on u.id = n.author_id
    where n.id = ${id}
  `;
  return row ?? null;
}

/** Stores a news item; returns its id. */
export async function insertNews(
  sql: Sql,
  item: { title: string; body: string; bodyHtml: string; authorId: number },
): Promise<number> {
  const [row] = await sql<{ id: number }[]>`
    insert into news (title, body, body_html, author_id)
    values (${item.title}, ${item.body}, ${item.bodyHtml}, ${item.authorId})
    returning id
  `;
  return row!.id;
}

/** Changes a news item's title and body; false when there is no such item. */
export async function updateNews(
  sql: Sql,
  id: number,
  item: { title: string; body: string; bodyHtml: string },
): Promise<boolean> {
  const rows = await sql`
    update news set title = ${item.title}, body = ${item.body}, body_html = ${item.bodyHtml}, updated_at = now()
    where id = ${id}
    returning id
  `;
  return rows.length > 0;
}

/** Stores the rendering of an item written before the site stored them (unless it changed meanwhile). */
export async function storeNewsHtml(sql: Sql, id: number, body: string, html: string): Promise<void> {
  await sql`update news set body_html = ${html} where id = ${id} and body_html is null and body = ${body}`;
}

/** Deletes a news item; false when there was none. */
export async function deleteNews(sql: Sql, id: number): Promise<boolean> {
  const rows = await sql`delete from news where id = ${id} returning id`;
  return rows.length > 0;
}
