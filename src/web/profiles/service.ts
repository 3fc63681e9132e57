import { memberUploads, type UploadRow } from "../../db/queries/members.ts";
import {
  type ProfileRow,
  type ProfileSettings,
  profileRow,
  profileSettings,
  setProfile,
} from "../../db/queries/profiles.ts";
import type { Role } from "../../db/queries/users.ts";
import { isStaff } from "../access.ts";
import type { WebDeps } from "../deps.ts";
import { memberHistory } from "../plots/service.ts";
import { NO_MEMBER, type Result, refuse, refuseField, refuseFields } from "../refusal.ts";

/** Longest bio (characters) and most lines, for the form, its schema and the rule. */
export const BIO_LIMITS = { max: 1000, lines: 30 } as const;
/** Uploads listed on a profile. */
export const PROFILE_UPLOADS = 10;
/** What a page says about a profile that is not there. */
export const NO_PROFILE = "There is no member with this name.";

/** Someone looking at or changing a profile. */
export interface Viewer {
  readonly id: number;
  can(role: Role): boolean;
}

/** A member's transfer figures. */
export interface TransferFigures {
  uploaded: number;
  downloaded: number;
  snatches: number;
}

/** A profile as one viewer may see it. */
export interface Profile {
  id: number;
  name: string;
  createdAt: Date;
  roles: Role[];
  inviter: { id: number; name: string } | null;
  /** Markdown, as the member wrote it. */
  bio: string;
  /** Torrents the member uploaded, and the latest of them. */
  uploads: number;
  latestUploads: UploadRow[];
  /** The member's setting: transfer figures hidden from other members. */
  hideTransfer: boolean;
  /** Null when hidden from this viewer. */
  transfer: TransferFigures | null;
  /** Whether the viewer is the member. */
  own: boolean;
  /** Whether the viewer is staff (and sees everything). */
  staff: boolean;
  /** Staff only: whether the account is disabled (null for everyone else). */
  disabled: boolean | null;
}

/** A profile, or why not. */
export type ProfileResult = Result<{ profile: Profile }>;

/** Whether the viewer sees a member's transfer figures: unless hidden, and always their own or as staff. */
export function transferVisible(viewer: Viewer, member: { id: number; hideTransfer: boolean }): boolean {
  return !member.hideTransfer || viewer.id === member.id || isStaff(viewer);
}

function asProfile(viewer: Viewer, row: ProfileRow, latestUploads: UploadRow[]): Profile {
  const staff = isStaff(viewer);
  return {
    id: row.id,
    name: row.name,
    createdAt: row.createdAt,
    roles: row.roles,
    inviter: row.invitedBy !== null && row.inviter !== null ? { id: row.invitedBy, name: row.inviter } : null,
    bio: row.bio,
    uploads: row.uploads,
    latestUploads,
    hideTransfer: row.hideTransfer,
    transfer: transferVisible(viewer, row)
      ? { uploaded: row.uploaded, downloaded: row.downloaded, snatches: row.snatches }
      : null,
    own: viewer.id === row.id,
    staff,
    disabled: staff ? row.disabled : null,
  };
}

/** A member's public profile, by id or name, as `viewer` may see it. */
export async function memberProfile(
  deps: WebDeps,
  viewer: Viewer,
  who: { id: number } | { name: string },
): Promise<ProfileResult> {
  const row = await profileRow(deps.sql, who);
  if (!row) return refuse("not_found", "id" in who ? NO_MEMBER : NO_PROFILE);
  // Uploads still held for moderation are the uploader's and the staff's to see.
  const own = viewer.id === row.id || isStaff(viewer);
  const { rows } = await memberUploads(deps.sql, row.id, PROFILE_UPLOADS, !own);
  return { ok: true, profile: asProfile(viewer, row, rows) };
}

/** A member's transfer over time, for a profile whose figures the viewer may see. */
export async function transferPlots(
  deps: WebDeps,
  profile: Profile,
): Promise<Result<{ plots: Awaited<ReturnType<typeof memberHistory>> }>> {
  if (!profile.transfer) return refuse("forbidden", "This member hides their transfer figures.");
  return { ok: true, plots: await memberHistory(deps, { id: profile.id, ...profile.transfer }) };
}

/** A bio as stored: Unix line ends, no trailing spaces on lines, trimmed. */
export function cleanBio(text: string): string {
  return text
    .replace(/\r\n?/g, "\n")
    .replace(/[ \t]+$/gm, "")
    .trim();
}

/** Why a (cleaned) bio cannot be stored, or null. */
export function bioProblem(bio: string): string | null {
  if (bio.length > BIO_LIMITS.max)
    return `Use at most ${BIO_LIMITS.max} characters (this has ${bio.length}).`;
  if (bio.split("\n").length > BIO_LIMITS.lines) return `Use at most ${BIO_LIMITS.lines} lines.`;
  // Line breaks and tabs are text; other control characters (NUL among them) are not.
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(bio))
    return "Use letters, digits, punctuation and line breaks only (no control characters).";
  return null;
}

/** A profile change that was made (the settings as they are now), or why not, by field. */
export type ProfileUpdate = Result<{ settings: ProfileSettings }>;

/** The member's own bio and transfer setting, or null. */
export function ownSettings(deps: WebDeps, userId: number): Promise<ProfileSettings | null> {
  return profileSettings(deps.sql, userId);
}

/** Changes a member's own bio, transfer setting or both (what is left out stays); only their own. */
export async function updateProfile(
  deps: WebDeps,
  actor: Viewer,
  userId: number,
  input: { bio?: string; hideTransfer?: boolean },
): Promise<ProfileUpdate> {
  if (actor.id !== userId) return refuseField("id", "Members change only their own profile.", "forbidden");
  const current = await profileSettings(deps.sql, userId);
  if (!current) return refuseField("id", NO_MEMBER, "not_found");
  if (input.bio === undefined && input.hideTransfer === undefined)
    return refuseFields({ body: "Send a bio, a transfer setting or both." });
  const bio = input.bio === undefined ? current.bio : cleanBio(input.bio);
  const problem = bioProblem(bio);
  if (problem) return refuseFields({ bio: problem });
  const settings = { bio, hideTransfer: input.hideTransfer ?? current.hideTransfer };
  await setProfile(deps.sql, userId, settings);
  return { ok: true, settings };
}
