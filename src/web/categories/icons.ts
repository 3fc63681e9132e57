// The icons for media, then the others.
const MEDIA = ["film", "tv", "music", "microphone", "game", "software", "terminal", "disc"] as const;
const OTHER = ["book", "education", "image", "archive", "globe", "star", "folder"] as const;

/** Every icon a category may have, in the order the form offers them (views/categories/icons.tsx draws them). */
export const CATEGORY_ICON_NAMES = [...MEDIA, ...OTHER] as const;

/** The name of one of the site's category icons. */
export type CategoryIconName = (typeof CATEGORY_ICON_NAMES)[number];

const NAMES: ReadonlySet<string> = new Set(CATEGORY_ICON_NAMES);

/** Whether `name` is one of the site's icons. */
export function isCategoryIcon(name: string): name is CategoryIconName {
  return NAMES.has(name);
}
