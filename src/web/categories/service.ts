import { CATEGORY_ICON_NAMES, isCategoryIcon } from "../../../views/categories/icons.tsx";
import {
  anyCategory,
  type CategoryRow,
  type CategoryWithCount,
  categoryTorrentCount,
  deleteCategory,
  getCategory,
  insertCategory,
  listCategories,
  listCategoriesWithCounts,
  updateCategory,
} from "../../db/queries/categories.ts";
import type { Role } from "../../db/queries/users.ts";
import type { WebDeps } from "../deps.ts";

/** Longest name and the range of positions, for the forms, their schemas and the rules. */
export const CATEGORY_LIMITS = { nameMax: 40, positionMin: -9999, positionMax: 9999 } as const;
/** The icons a category may have. */
export const ICONS = CATEGORY_ICON_NAMES;
export const NO_CATEGORY = "There is no category with this number.";
const ADMINS_ONLY = "Only administrators manage categories.";

/** Someone acting on categories. */
export interface Actor {
  can(role: Role): boolean;
}

/** What the category form sends. */
export interface CategoryInput {
  name: string;
  icon: string;
  position: number;
}

/** A change to the categories that was made, or why not (with the field at fault, if one). */
export type CategoryChange =
  | { ok: true; category: CategoryRow }
  | {
      ok: false;
      status: 403 | 404 | 409 | 422;
      field: "name" | "icon" | "position" | "move_to" | null;
      message: string;
    };

/** Every category in the site's order. */
export function categories(deps: WebDeps): Promise<CategoryRow[]> {
  return listCategories(deps.sql);
}

/** Every category with its number of torrents (the administration page). */
export function categoriesWithCounts(deps: WebDeps): Promise<CategoryWithCount[]> {
  return listCategoriesWithCounts(deps.sql);
}

/** One category, or null. */
export function findCategory(deps: WebDeps, id: number): Promise<CategoryRow | null> {
  return getCategory(deps.sql, id);
}

/** The input as stored, or the first problem with it. */
function cleanInput(
  input: CategoryInput,
): { ok: true; value: CategoryInput } | (CategoryChange & { ok: false }) {
  const name = input.name.trim().replace(/\s+/g, " ");
  const refuse = (field: "name" | "icon" | "position", message: string) =>
    ({ ok: false, status: 422, field, message }) as const;
  if (!name) return refuse("name", "Name the category.");
  if (/[\u0000-\u001f\u007f]/.test(name))
    return refuse("name", "Use letters, digits, spaces and punctuation.");
  if (name.length > CATEGORY_LIMITS.nameMax)
    return refuse("name", `Use at most ${CATEGORY_LIMITS.nameMax} characters.`);
  if (!isCategoryIcon(input.icon)) return refuse("icon", `Choose one of the icons: ${ICONS.join(", ")}.`);
  if (
    !Number.isInteger(input.position) ||
    input.position < CATEGORY_LIMITS.positionMin ||
    input.position > CATEGORY_LIMITS.positionMax
  )
    return refuse(
      "position",
      `Use a whole number from ${CATEGORY_LIMITS.positionMin} to ${CATEGORY_LIMITS.positionMax}.`,
    );
  return { ok: true, value: { name, icon: input.icon, position: input.position } };
}

const TAKEN = "Another category has this name.";

/** Creates a category (administrators only). */
export async function createCategory(
  deps: WebDeps,
  actor: Actor,
  input: CategoryInput,
): Promise<CategoryChange> {
  if (!actor.can("admin")) return { ok: false, status: 403, field: null, message: ADMINS_ONLY };
  const clean = cleanInput(input);
  if (!clean.ok) return clean;
  const category = await insertCategory(deps.sql, clean.value);
  if (!category) return { ok: false, status: 409, field: "name", message: TAKEN };
  return { ok: true, category };
}

/** Changes a category's name, icon and position (administrators only). */
export async function changeCategory(
  deps: WebDeps,
  actor: Actor,
  id: number,
  input: CategoryInput,
): Promise<CategoryChange> {
  if (!actor.can("admin")) return { ok: false, status: 403, field: null, message: ADMINS_ONLY };
  const clean = cleanInput(input);
  if (!clean.ok) return clean;
  const result = await updateCategory(deps.sql, id, clean.value);
  if (result === null) return { ok: false, status: 404, field: null, message: NO_CATEGORY };
  if (result === "taken") return { ok: false, status: 409, field: "name", message: TAKEN };
  return { ok: true, category: result };
}

/**
 * Deletes a category (administrators only). One that holds torrents needs another category to
 * move them to (`moveTo`), since every torrent keeps one.
 */
export async function removeCategory(
  deps: WebDeps,
  actor: Actor,
  id: number,
  moveTo: number | null,
): Promise<CategoryChange & { moved?: number }> {
  if (!actor.can("admin")) return { ok: false, status: 403, field: null, message: ADMINS_ONLY };
  const category = await getCategory(deps.sql, id);
  if (!category) return { ok: false, status: 404, field: null, message: NO_CATEGORY };
  if (moveTo === id)
    return { ok: false, status: 422, field: "move_to", message: "Move its torrents to another category." };
  if (moveTo !== null && !(await getCategory(deps.sql, moveTo)))
    return {
      ok: false,
      status: 422,
      field: "move_to",
      message: "The category to move the torrents to is gone.",
    };
  if (moveTo === null) {
    const held = await categoryTorrentCount(deps.sql, id);
    if (held > 0)
      return {
        ok: false,
        status: 409,
        field: "move_to",
        message: `This category holds ${held} torrent${held === 1 ? "" : "s"}: choose a category to move ${held === 1 ? "it" : "them"} to.`,
      };
  }
  const moved = await deleteCategory(deps.sql, id, moveTo);
  if (moved === null) return { ok: false, status: 404, field: null, message: NO_CATEGORY };
  return { ok: true, category, moved };
}

/** The category a torrent gets, or why not: the one rule of the upload and edit forms and the API. */
export type CategoryChoice = { ok: true; categoryId: number | null } | { ok: false; message: string };

/**
 * Checks the category chosen for a torrent: once the site has categories every torrent needs one
 * of them; before that there is nothing to choose and none may be given.
 */
export async function chooseCategory(deps: WebDeps, chosen: number | null): Promise<CategoryChoice> {
  if (chosen === null)
    return (await anyCategory(deps.sql))
      ? { ok: false, message: "Choose a category." }
      : { ok: true, categoryId: null };
  if (!(await getCategory(deps.sql, chosen)))
    return { ok: false, message: "This category does not exist (any more): choose another." };
  return { ok: true, categoryId: chosen };
}
