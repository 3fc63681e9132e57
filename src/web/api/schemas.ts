import { t } from "elysia";
import type { Int8 } from "../../db/client.ts";
import type { MemberDetail } from "../../db/queries/members.ts";
import type { TorrentDetail, TorrentRow } from "../../db/queries/torrents.ts";
import { ALL_ROLES } from "../../db/queries/users.ts";
import { ErrorBody } from "./errors.ts";

const Time = (description: string) => t.String({ format: "date-time", description });
const Nullable = <T extends Parameters<typeof t.Union>[0][number]>(schema: T) => t.Union([schema, t.Null()]);

/**
 * A byte total: a JSON integer written with every digit. It can pass 2^53 (up to 2^60), where a
 * JavaScript number rounds it: read it as a 64-bit integer.
 */
export const ByteTotal = (description: string) =>
  t.Unsafe<number | ExactInteger>(
    t.Any({ type: "integer", format: "int64", minimum: 0, description: `${description}; exact, up to 2^60` }),
  );

/** A JSON integer too large for a number, written with all its digits (see exactInteger). */
type ExactInteger = ReturnType<typeof JSON.rawJSON>;

/** A bigint column's value for a JSON body: a number when one holds it, else its exact digits. */
export function exactInteger(value: Int8): number | ExactInteger {
  return typeof value === "bigint" ? JSON.rawJSON(value.toString()) : value;
}

/** A camelCase name as the API spells it: snake_case. */
type SnakeCase<S extends string> = S extends `${infer Head}${infer Tail}`
  ? `${Head extends Lowercase<Head> ? Head : `_${Lowercase<Head>}`}${SnakeCase<Tail>}`
  : S;

/** The named fields of a service's record under the API's snake_case names, their values as they are. */
export function snaked<T extends object, K extends keyof T & string>(
  source: T,
  ...keys: K[]
): { [P in K as SnakeCase<P>]: T[P] } {
  const out: Record<string, unknown> = {};
  for (const key of keys) out[key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = source[key];
  return out as { [P in K as SnakeCase<P>]: T[P] };
}

export const MemberRef = t.Object({ id: t.Number(), name: t.String() });

export const User = t.Object(
  {
    id: t.Number(),
    name: t.String(),
    roles: t.Array(t.String(), { description: `Roles held: ${ALL_ROLES.join(", ")}` }),
    disabled: t.Boolean(),
    created_at: Time("When the account was made"),
    uploaded: ByteTotal("Bytes uploaded, as reported by the tracker"),
    downloaded: ByteTotal("Bytes downloaded, as reported by the tracker"),
    snatches: t.Number({ description: "Torrents this member completed" }),
    invited_by: Nullable(MemberRef),
  },
  { description: "A member" },
);

export const Me = t.Object(
  {
    ...User.properties,
    announce_url: t.String({ description: "Announce URL with the member's passkey: keep it private" }),
    auth: t.Union([t.Literal("session"), t.Literal("token")], {
      description: "How this call was authenticated",
    }),
    csrf: Nullable(
      t.String({
        description:
          "With the session cookie: the token to send as X-CSRF-Token on every change. Null with an API token.",
      }),
    ),
  },
  { description: "The calling member" },
);

export const Roles = t.Object({ roles: t.Array(t.String()) }, { description: "The member's roles" });

export const CountsBody = t.Object(
  {
    id: t.Number(),
    seeders: t.Number(),
    leechers: t.Number(),
    snatches: t.Number(),
  },
  { description: "Live counts of a torrent" },
);

export const CategoryBody = t.Object(
  {
    id: t.Number(),
    name: t.String(),
    icon: t.String({ description: "The name of one of the site's icons" }),
    position: t.Number({ description: "Place in the list: lower first" }),
  },
  { description: "A category" },
);

export const CategoryRef = t.Object({ id: t.Number(), name: t.String(), icon: t.String() });

export const TorrentSummary = t.Object({
  id: t.Number(),
  title: t.String(),
  size: t.Number({ description: "Bytes" }),
  created_at: Time("When it was uploaded"),
  creator: Nullable(MemberRef),
  category: Nullable(CategoryRef),
  tags: t.Array(t.String(), { description: "Its tags, normalised, in alphabetical order" }),
  seeders: t.Number(),
  leechers: t.Number(),
  snatches: t.Number(),
  freeleech: t.Optional(
    Nullable(
      t.Object(
        { badge: t.String(), until: Nullable(Time("When the site-wide window behind it ends")) },
        { description: "The credit state when not normal (freeleech, neutral, double upload, …)" },
      ),
    ),
  ),
  moderation: t.Optional(
    t.Union([t.Literal("pending"), t.Literal("approved"), t.Literal("rejected")], {
      description:
        "Moderation state: pending and rejected torrents are shown only to their uploader and staff, and refused by the tracker",
    }),
  ),
  moderation_note: t.Optional(
    t.String({ description: "The reason of a rejection or the note of a postponement" }),
  ),
});

export const TorrentFull = t.Object(
  {
    ...TorrentSummary.properties,
    description: t.String({ description: "Markdown, as written" }),
    description_html: t.String({
      description: "The description rendered as the site shows it (raw HTML is not passed through)",
    }),
    info_hash: t.String({ description: "v1 info hash, 40 hex digits" }),
    info_hash_v2: Nullable(t.String({ description: "v2 info hash, 64 hex digits" })),
    files: t.Array(t.Object({ path: t.String(), length: t.Number() })),
    can_edit: t.Boolean({ description: "Whether the caller may change title and description" }),
    can_delete: t.Boolean({ description: "Whether the caller may delete it" }),
  },
  { description: "A torrent" },
);

export const TorrentPage = t.Object(
  {
    items: t.Array(TorrentSummary),
    page: t.Number(),
    limit: t.Number(),
    has_next: t.Boolean({ description: "Whether a next page exists" }),
  },
  { description: "One page of torrents" },
);

export const CommentBody = t.Object(
  {
    id: t.Number(),
    torrent_id: t.Number(),
    author: Nullable(MemberRef),
    body: t.String({ description: "Markdown, as written" }),
    html: t.String({ description: "The text rendered as the site shows it" }),
    created_at: Time("When it was posted"),
    edited_at: Nullable(Time("When it was last edited")),
    can_edit: t.Boolean({ description: "Whether the caller may edit it (its author)" }),
    can_delete: t.Boolean({ description: "Whether the caller may delete it (its author, moderators)" }),
  },
  { description: "A comment" },
);

export const CommentPageBody = t.Object(
  {
    items: t.Array(CommentBody),
    page: t.Number(),
    pages: t.Number({ description: "How many pages there are (at least 1)" }),
    total: t.Number({ description: "How many comments the torrent has" }),
  },
  { description: "One page of a torrent's comments, oldest first" },
);

export const CommentNoticeBody = t.Object({
  torrent_id: t.Number(),
  title: t.String(),
  unread: t.Number({ description: "New comments by others" }),
  page: t.Number({ description: "The comments page holding the first new one" }),
});

/** What each error status means, as the documentation says it. */
const ERROR_MEANING = {
  400: "Malformed request",
  401: "Not logged in, or the API token is not valid",
  403: "Not allowed: a role or ownership is missing, or the CSRF token",
  404: "Not found",
  409: "Conflict: a duplicate, or a change not allowed in this state",
  410: "Gone: the invite was used, revoked or expired",
  413: "The file is too large",
  422: "Not valid: `fields` names the inputs at fault",
  429: "Too many requests: wait for Retry-After seconds",
  503: "Unavailable: the database or the tracker did not answer in time; try again shortly",
} as const;

/** Error responses of a route (429 always: every route is rate limited), each with the error body. */
export function errors(...statuses: (keyof typeof ERROR_MEANING)[]) {
  const out: Record<number, typeof ErrorBody> = {};
  for (const status of [...statuses, 429] as const)
    out[status] = t.Object(ErrorBody.properties, { description: ERROR_MEANING[status] });
  return out;
}

export const iso = (date: Date) => date.toISOString();

/** A member as the API shows them. */
export function userBody(member: MemberDetail): typeof User.static {
  return {
    id: member.id,
    name: member.name,
    roles: member.roles,
    disabled: member.disabled,
    created_at: iso(member.createdAt),
    uploaded: exactInteger(member.uploaded),
    downloaded: exactInteger(member.downloaded),
    snatches: member.snatches,
    invited_by: member.invitedBy !== null ? { id: member.invitedBy, name: member.inviter ?? "" } : null,
  };
}

/** The `Me` body: the member's account, announce URL, and how they are calling. */
export function meBody(
  member: MemberDetail,
  announceUrl: string,
  auth: "session" | "token",
  csrf: string | null,
): typeof Me.static {
  return { ...userBody(member), announce_url: announceUrl, auth, csrf };
}

/** A torrent row (with its live counts) as the API lists it. */
export function summaryBody(row: TorrentRow): typeof TorrentSummary.static {
  return {
    id: row.id,
    title: row.title,
    size: row.size,
    created_at: iso(row.createdAt),
    creator: row.creatorId !== null ? { id: row.creatorId, name: row.creator ?? "" } : null,
    category:
      row.categoryId !== null
        ? { id: row.categoryId, name: row.category ?? "", icon: row.categoryIcon ?? "" }
        : null,
    tags: row.tags,
    seeders: row.seeders,
    leechers: row.leechers,
    snatches: row.snatches,
    freeleech: row.credit?.badge
      ? { badge: row.credit.badge, until: row.credit.until ? iso(row.credit.until) : null }
      : null,
    moderation: row.moderation,
    moderation_note: row.moderationNote,
  };
}

/** A torrent (with its live counts) as the API shows it, with what the caller may do to it. */
export function fullBody(
  row: TorrentDetail,
  rights: { canEdit: boolean; canDelete: boolean },
  descriptionHtml: string,
): typeof TorrentFull.static {
  return {
    ...summaryBody(row),
    description: row.description,
    description_html: descriptionHtml,
    info_hash: Buffer.from(row.infoHash).toString("hex"),
    info_hash_v2: row.infoHashV2 ? Buffer.from(row.infoHashV2).toString("hex") : null,
    files: row.files,
    can_edit: rights.canEdit,
    can_delete: rights.canDelete,
  };
}
