/** Longest tag, most tags a torrent carries, and the longest tags field of a form. */
export const TAG_LIMITS = { length: 32, count: 10, fieldMax: 500 } as const;

/**
 * A tag as stored: Unicode-normalised (NFKC), lowercase, trimmed, each run of spaces turned into
 * one dot ("Science Fiction" is "science.fiction"), runs of dots made one, and no dot, hyphen or
 * underscore at either end. May return "" (nothing left).
 */
export function normaliseTag(raw: string): string {
  return raw
    .normalize("NFKC")
    .toLowerCase()
    .trim()
    .replace(/\s+/g, ".")
    .replace(/\.{2,}/g, ".")
    .replace(/^[._-]+|[._-]+$/g, "");
}

const TAG_SHAPE = /^[\p{L}\p{M}\p{N}._-]+$/u;

/** A list of tags as stored, or the first problem with it. */
export type TagsResult = { ok: true; tags: string[] } | { ok: false; message: string };

/**
 * The tags of a form field (comma-separated: "linux, live cd") or an API list, normalised and
 * without duplicates, in the order given. Letters, digits, dots, hyphens and underscores only, at
 * most TAG_LIMITS.length characters each and TAG_LIMITS.count in all.
 */
export function parseTags(input: string | readonly string[] | undefined): TagsResult {
  const parts = input === undefined ? [] : typeof input === "string" ? input.split(/[,;\n]/) : input;
  const tags: string[] = [];
  for (const part of parts) {
    const tag = normaliseTag(part);
    if (tag === "") continue;
    if (!TAG_SHAPE.test(tag))
      return {
        ok: false,
        message: `The tag “${tag.slice(0, 40)}” may hold only letters, digits, dots, hyphens and underscores.`,
      };
    if (tag.length > TAG_LIMITS.length)
      return {
        ok: false,
        message: `The tag “${tag.slice(0, 40)}…” is longer than ${TAG_LIMITS.length} characters.`,
      };
    if (!tags.includes(tag)) tags.push(tag);
  }
  if (tags.length > TAG_LIMITS.count) return { ok: false, message: `Use at most ${TAG_LIMITS.count} tags.` };
  return { ok: true, tags };
}

/** A tag from a list filter (`?tag=`) as stored, or null when it cannot be a tag. */
export function tagFilter(raw: string | undefined): string | null {
  if (raw === undefined) return null;
  const tag = normaliseTag(raw);
  return tag !== "" && TAG_SHAPE.test(tag) && tag.length <= TAG_LIMITS.length ? tag : null;
}
