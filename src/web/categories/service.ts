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
import { type Result, refuse, refuseField } from "../refusal.ts";
import { CATEGORY_ICON_NAMES, isCategoryIcon } from "./icons.ts";

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
export type CategoryChange = Result<{ category: CategoryRow }>;

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
function cleanInput(input: CategoryInput): Result<{ value: CategoryInput }> {
  const name = input.name.trim().replace(/\s+/g, " ");
  if (!name) return refuseField("name", "Name the category.");
  if (/[\u0000-\u001f\u007f]/.test(name))
    return refuseField("name", "Use letters, digits, spaces and punctuation.");
  if (name.length > CATEGORY_LIMITS.nameMax)
    return refuseField("name", `Use at most ${CATEGORY_LIMITS.nameMax} characters.`);
  if (!isCategoryIcon(input.icon))
    return refuseField("icon", `Choose one of the icons: ${ICONS.join(", ")}.`);
  if (
    !Number.isInteger(input.position) ||
    input.position < CATEGORY_LIMITS.positionMin ||
    input.position > CATEGORY_LIMITS.positionMax
  )
    return refuseField(
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
  if (!actor.can("admin")) return refuse("forbidden", ADMINS_ONLY);
  const clean = cleanInput(input);
  if (!clean.ok) return clean;
  const category = await insertCategory(deps.sql, clean.value);
  if (!category) return refuseField("name", TAKEN, "conflict");
  return { ok: true, category };
}

/** Changes a category's name, icon and position (administrators only). */
export async function changeCategory(
  deps: WebDeps,
  actor: Actor,
  id: number,
  input: CategoryInput,
): Promise<CategoryChange> {
  if (!actor.can("admin")) return refuse("forbidden", ADMINS_ONLY);
  const clean = cleanInput(input);
  if (!clean.ok) return clean;
  const result = await updateCategory(deps.sql, id, clean.value);
  if (result === null) return refuse("not_found", NO_CATEGORY);
  if (result === "taken") return refuseField("name", TAKEN, "conflict");
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
): Promise<Result<{ category: CategoryRow; moved: number }>> {
  if (!actor.can("admin")) return refuse("forbidden", ADMINS_ONLY);
  const category = await getCategory(deps.sql, id);
  if (!category) return refuse("not_found", NO_CATEGORY);
  if (moveTo === id) return refuseField("move_to", "Move its torrents to another category.");
  if (moveTo !== null && !(await getCategory(deps.sql, moveTo)))
    return refuseField("move_to", "The category to move the torrents to is gone.");
  if (moveTo === null) {
    const held = await categoryTorrentCount(deps.sql, id);
    if (held > 0)
      return refuseField(
        "move_to",
        `This category holds ${held} torrent${held === 1 ? "" : "s"}: choose a category to move ${held === 1 ? "it" : "them"} to.`,
        "conflict",
      );
  }
  const moved = await deleteCategory(deps.sql, id, moveTo);
  if (moved === null) return refuse("not_found", NO_CATEGORY);
  return { ok: true, category, moved };
}

/** The category a torrent gets, or why not: the one rule of the upload and edit forms and the API. */
export type CategoryChoice = Result<{ categoryId: number | null }>;

/**
 * Checks the category chosen for a torrent: once the site has categories every torrent needs one
 * of them; before that there is nothing to choose and none may be given.
 */
export async function chooseCategory(deps: WebDeps, chosen: number | null): Promise<CategoryChoice> {
  if (chosen === null)
    return (await anyCategory(deps.sql))
      ? refuseField("category", "Choose a category.")
      : { ok: true, categoryId: null };
  if (!(await getCategory(deps.sql, chosen)))
    return refuseField("category", "This category does not exist (any more): choose another.");
  return { ok: true, categoryId: chosen };
}
