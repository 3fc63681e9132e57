import { type Sql, UNIQUE_VIOLATION } from "../client.ts";

/** A category as lists and forms show it. */
export interface CategoryRow {
  id: number;
  name: string;
  icon: string;
  position: number;
}

/** A category with the number of torrents in it (the administration page). */
export interface CategoryWithCount extends CategoryRow {
  torrents: number;
}

/** Every category, in the site's order (position, then name). */
export async function listCategories(sql: Sql): Promise<CategoryRow[]> {
  return await sql<CategoryRow[]>`
    select id, name, icon, position from categories
    order by position, lower(name), id
  `;
}

/**
 * Every category with its number of torrents, counted from the category indexes (one index-only
 * range each, so the page stays quick with a large catalogue).
 */
export async function listCategoriesWithCounts(sql: Sql): Promise<CategoryWithCount[]> {
  return await sql<CategoryWithCount[]>`
    select c.id, c.name, c.icon, c.position,
      (select count(*)::int from torrents t where t.category_id = c.id) as torrents
    from categories c
    order by c.position, lower(c.name), c.id
  `;
}

/** One category, or null. */
export async function getCategory(sql: Sql, id: number): Promise<CategoryRow | null> {
  const [row] = await sql<CategoryRow[]>`select id, name, icon, position from categories where id = ${id}`;
  return row ?? null;
}

/** Whether any category exists (uploads must then choose one). */
export async function anyCategory(sql: Sql): Promise<boolean> {
  const [row] = await sql<{ any: boolean }[]>`select exists (select 1 from categories) as any`;
  return row!.any;
}

/** Stores a new category; null when another has this name (ignoring case). */
export async function insertCategory(
  sql: Sql,
  input: { name: string; icon: string; position: number },
): Promise<CategoryRow | null> {
  try {
    const [row] = await sql<CategoryRow[]>`
      insert into categories (name, icon, position)
      values (${input.name}, ${input.icon}, ${input.position})
      returning id, name, icon, position
    `;
    return row!;
  } catch (error) {
    if ((error as { code?: string }).code === UNIQUE_VIOLATION) return null;
    throw error;
  }
}

/** Changes a category; "taken" when another has this name, null when there is no such category. */
export async function updateCategory(
  sql: Sql,
  id: number,
  input: { name: string; icon: string; position: number },
): Promise<CategoryRow | "taken" | null> {
  try {
    const [row] = await sql<CategoryRow[]>`
      update categories set name = ${input.name}, icon = ${input.icon}, position = ${input.position}
      where id = ${id}
      returning id, name, icon, position
    `;
    return row ?? null;
  } catch (error) {
    if ((error as { code?: string }).code === UNIQUE_VIOLATION) return "taken";
    throw error;
  }
}

/**
 * Deletes a category, first moving its torrents to `moveTo` (when given) in the same transaction.
 * Returns how many torrents moved, or null when there was no such category. Fails with a foreign
 * key error when torrents remain and no target was given: the caller checks first.
 */
export async function deleteCategory(sql: Sql, id: number, moveTo: number | null): Promise<number | null> {
  return (await sql.begin(async (tx) => {
    const [found] = await tx<{ id: number }[]>`select id from categories where id = ${id} for update`;
    if (!found) return null;
    let moved = 0;
    if (moveTo !== null) {
      const result = await tx`update torrents set category_id = ${moveTo} where category_id = ${id}`;
      moved = result.count;
    }
    await tx`delete from categories where id = ${id}`;
    return moved;
  })) as number | null;
}

/** How many torrents are in a category. */
export async function categoryTorrentCount(sql: Sql, id: number): Promise<number> {
  const [row] = await sql<{ n: number }[]>`select count(*)::int as n from torrents where category_id = ${id}`;
  return row!.n;
}
