import { PeersUnavailableError } from "../../bridge/peers.ts";
import {
  createWindow,
  deleteWindow,
  listWindows,
  MAX_FACTOR,
  setFreeleechRequest,
  setTorrentFactors,
  torrentFactors,
  type WindowRow,
} from "../../db/queries/freeleech.ts";
import {
  HISTORY_SORTS,
  type HistoryRow,
  type HistorySort,
  isAnonymous,
  memberHistory,
  setAnonymous,
  torrentSnatches,
} from "../../db/queries/history.ts";
import { peerKey, torrentConnectable } from "../../db/queries/probes.ts";
import { getTorrent } from "../../db/queries/torrents.ts";
import { type Actor, isStaff } from "../access.ts";
import type { WebDeps } from "../deps.ts";
import { clientName } from "../peers/client.ts";
import { NO_TORRENT, type Refused, refuse, refuseFields } from "../refusal.ts";

export { HISTORY_SORTS, type HistorySort };

const NO_SUCH_TORRENT = refuse("not_found", NO_TORRENT);

/** Rows per page of a history or snatch list unless asked otherwise, and the most. */
export const ROWS_PER_PAGE = 50;
export const MAX_ROWS_PER_PAGE = 200;
/** The last page anyone may ask for. */
export const MAX_PAGE = 10_000;
/** Peers a peer list shows at most. */
export const MAX_PEERS_LISTED = 200;

/** What a torrent's factors come to right now. */
export interface FactorState {
  /** Credited download = downloaded × this; credited upload = uploaded × uploadFactor. */
  downloadFactor: number;
  uploadFactor: number;
  /** "freeleech", "neutral", "double upload", "freeleech, double upload", or null when normal. */
  badge: string | null;
  /** When the site-wide window behind the state ends, or null when it is the torrent's own (or none). */
  until: Date | null;
  /** The torrent's own factors, and whether its uploader asked for freeleech. */
  own: { downloadFactor: number; uploadFactor: number };
  requested: boolean;
}

/** A badge's words for a pair of factors, or null for the normal 1 and 1. */
export function badgeOf(down: number, up: number): string | null {
  const parts: string[] = [];
  if (down === 0 && up === 0) return "neutral";
  if (down === 0) parts.push("freeleech");
  else if (down < 1) parts.push(`${Math.round((1 - down) * 100)}% off download`);
  else if (down > 1) parts.push(`download ×${down}`);
  if (up === 2) parts.push("double upload");
  else if (up === 0) parts.push("no upload credit");
  else if (up !== 1) parts.push(`upload ×${up}`);
  return parts.length ? parts.join(", ") : null;
}

/**
 * The factors in force at `now` for a torrent with its own factors: the more generous of the
 * torrent's and the active windows' (the lowest download factor, the highest upload factor), as
 * the tracker applies them.
 */
export function combineFactors(
  own: { downloadFactor: number; uploadFactor: number },
  windows: readonly Pick<WindowRow, "startsAt" | "endsAt" | "downloadFactor" | "uploadFactor">[],
  now: Date,
): { downloadFactor: number; uploadFactor: number; until: Date | null } {
  let down = own.downloadFactor;
  let up = own.uploadFactor;
  let until: Date | null = null;
  for (const w of windows) {
    if (w.startsAt > now || w.endsAt <= now) continue;
    // A window counts for the badge's end only when it is what makes the state more generous.
    if ((w.downloadFactor < down || w.uploadFactor > up) && (until === null || w.endsAt < until))
      until = w.endsAt;
    down = Math.min(down, w.downloadFactor);
    up = Math.max(up, w.uploadFactor);
  }
  return { downloadFactor: down, uploadFactor: up, until };
}

/** The freeleech state of one torrent. */
export async function freeleechState(
  deps: WebDeps,
  torrentId: number,
  now = new Date(),
): Promise<({ ok: true } & FactorState) | Refused> {
  const own = await torrentFactors(deps.sql, torrentId);
  if (!own) return NO_SUCH_TORRENT;
  const windows = await listWindows(deps.sql);
  const c = combineFactors(own, windows, now);
  return {
    ok: true,
    ...c,
    badge: badgeOf(c.downloadFactor, c.uploadFactor),
    own: { downloadFactor: own.downloadFactor, uploadFactor: own.uploadFactor },
    requested: own.freeleechRequested,
  };
}

/** Why a factor is not one, or null. */
function factorProblem(v: unknown): string | null {
  return typeof v === "number" && Number.isFinite(v) && v >= 0 && v <= MAX_FACTOR
    ? null
    : `A factor is a number from 0 to ${MAX_FACTOR}.`;
}

/** Why a moderator may not set the factors of a torrent they uploaded. */
export const OWN_FACTORS =
  "You uploaded this torrent: its factors (freeleech, upload credit) are set by an administrator.";

/**
 * A moderator sets a torrent's own factors (an administrator for a torrent the moderator uploaded);
 * the tracker has them before this returns.
 */
export async function setFreeleech(
  deps: WebDeps,
  actor: Actor,
  torrentId: number,
  factors: { downloadFactor: number; uploadFactor: number },
): Promise<({ ok: true } & FactorState) | Refused> {
  if (!actor.can("moderate")) return refuse("forbidden", "Setting freeleech needs the moderate role.");
  for (const field of ["downloadFactor", "uploadFactor"] as const) {
    const problem = factorProblem(factors[field]);
    if (problem) return refuseFields({ [field]: problem });
  }
  // A moderator's own upload is no torrent of theirs to make free: an administrator sets its factors.
  const own = await torrentFactors(deps.sql, torrentId);
  if (!own) return NO_SUCH_TORRENT;
  if (own.creatorId === actor.id && !actor.can("admin")) return refuse("forbidden", OWN_FACTORS);
  if (!(await setTorrentFactors(deps.sql, torrentId, factors.downloadFactor, factors.uploadFactor)))
    return NO_SUCH_TORRENT;
  await deps.sync.torrent(torrentId);
  return freeleechState(deps, torrentId);
}

/** The uploader (or a moderator) asks for freeleech, or takes the request back. */
export async function requestFreeleech(
  deps: WebDeps,
  actor: Actor,
  torrentId: number,
  requested: boolean,
): Promise<{ ok: true } | Refused> {
  const own = await torrentFactors(deps.sql, torrentId);
  if (!own) return NO_SUCH_TORRENT;
  if (own.creatorId !== actor.id && !actor.can("moderate"))
    return refuse("forbidden", "Only the uploader may ask for freeleech.");
  await setFreeleechRequest(deps.sql, torrentId, requested);
  return { ok: true };
}

/** The site-wide windows not over yet (all of them with `includePast`). */
export async function windows(deps: WebDeps, includePast = false): Promise<WindowRow[]> {
  return await listWindows(deps.sql, includePast);
}

/** Longest note on a window. */
export const NOTE_MAX = 200;
/** Longest a window may last: a year. */
const MAX_WINDOW_MS = 366 * 86400_000;

/** An admin adds a site-wide window; the tracker has it before this returns. */
export async function addWindow(
  deps: WebDeps,
  actor: Actor,
  input: { startsAt: Date; endsAt: Date; downloadFactor: number; uploadFactor: number; note: string },
): Promise<{ ok: true; id: number } | Refused> {
  if (!actor.can("admin")) return refuse("forbidden", "Site-wide windows need the admin role.");
  if (Number.isNaN(input.startsAt.getTime()))
    return refuseFields({ starts_at: "The start is not a date and time." });
  if (Number.isNaN(input.endsAt.getTime()))
    return refuseFields({ ends_at: "The end is not a date and time." });
  if (input.endsAt <= input.startsAt) return refuseFields({ ends_at: "The end must come after the start." });
  if (input.endsAt.getTime() - input.startsAt.getTime() > MAX_WINDOW_MS)
    return refuseFields({ ends_at: "A window lasts at most a year." });
  for (const [field, v] of [
    ["download_factor", input.downloadFactor],
    ["upload_factor", input.uploadFactor],
  ] as const) {
    const problem = factorProblem(v);
    if (problem) return refuseFields({ [field]: problem });
  }
  const note = input.note.trim();
  if (note.length > NOTE_MAX) return refuseFields({ note: `A note has at most ${NOTE_MAX} characters.` });
  const id = await createWindow(deps.sql, { ...input, note, createdBy: actor.id });
  await deps.sync.windows();
  return { ok: true, id };
}

/** An admin removes a window; the tracker stops applying it before this returns. */
export async function removeWindow(deps: WebDeps, actor: Actor, id: number): Promise<{ ok: true } | Refused> {
  if (!actor.can("admin")) return refuse("forbidden", "Site-wide windows need the admin role.");
  if (!(await deleteWindow(deps.sql, id))) return refuse("not_found", "There is no window with this number.");
  await deps.sync.windows();
  return { ok: true };
}

/** A page of a member's history. */
export async function historyPage(
  deps: WebDeps,
  actor: Actor,
  userId: number,
  q: { sort: HistorySort; desc: boolean; page: number; limit: number },
): Promise<{ ok: true; rows: HistoryRow[]; hasNext: boolean } | Refused> {
  if (actor.id !== userId && !isStaff(actor))
    return refuse("forbidden", "A member's history is theirs and staff's to see.");
  const rows = await memberHistory(deps.sql, userId, {
    sort: q.sort,
    desc: q.desc,
    limit: q.limit,
    offset: (q.page - 1) * q.limit,
  });
  return { ok: true, rows: rows.slice(0, q.limit), hasNext: rows.length > q.limit };
}

/** Who completed a torrent, for staff. */
export async function snatchPage(
  deps: WebDeps,
  actor: Actor,
  torrentId: number,
  q: { page: number; limit: number },
): Promise<{ ok: true; rows: HistoryRow[]; hasNext: boolean } | Refused> {
  if (!actor.can("moderate")) return refuse("forbidden", "Snatch lists need the moderate role.");
  if (!(await getTorrent(deps.sql, torrentId))) return NO_SUCH_TORRENT;
  const rows = await torrentSnatches(deps.sql, torrentId, { limit: q.limit, offset: (q.page - 1) * q.limit });
  return { ok: true, rows: rows.slice(0, q.limit), hasNext: rows.length > q.limit };
}

/**
 * Whether a peer accepted a BitTorrent handshake at its last probe (see the README's Seeding
 * bonus): "unknown" until it is probed.
 */
export type Connectable = "yes" | "no" | "unknown";

/** A connectable state from its stored form (null or absent: never probed). */
export function connectableOf(value: boolean | null | undefined): Connectable {
  return value === true ? "yes" : value === false ? "no" : "unknown";
}

/** One peer in a peer list. No address: members never see one, and none is stored. */
export interface PeerItem {
  /** The member, or null when they chose to be anonymous and the viewer is not staff. */
  member: { id: number; name: string } | null;
  /** True when the member chose anonymity (staff see who it is anyway). */
  anonymous: boolean;
  client: string;
  seeder: boolean;
  /** Bytes this session, as the client reports them. */
  uploaded: number;
  downloaded: number;
  /** Share of the torrent the peer has, 0 to 1. */
  progress: number;
  announcedAt: Date;
  /** Seconds since its last announce. */
  idleSeconds: number;
  connectable: Connectable;
}

/** The tracker did not answer in time: the page and the API say so rather than show an empty swarm. */
const PEERS_UNAVAILABLE = refuse(
  "unavailable",
  "The tracker did not answer in time, so the peer list cannot be shown now. Try again in a moment.",
);

/**
 * The peers of a torrent, asked of the tracker, seeders first; anonymous members are hidden from
 * all but staff and themselves.
 */
export async function peerList(
  deps: WebDeps,
  actor: Actor,
  torrentId: number,
  now = new Date(),
): Promise<{ ok: true; seeders: PeerItem[]; leechers: PeerItem[] } | Refused> {
  const torrent = await getTorrent(deps.sql, torrentId);
  if (!torrent) return NO_SUCH_TORRENT;
  const staff = isStaff(actor);
  const size = Number(torrent.size);
  let rows: Awaited<ReturnType<WebDeps["peers"]>>;
  try {
    rows = await deps.peers(torrentId, MAX_PEERS_LISTED);
  } catch (error) {
    if (error instanceof PeersUnavailableError) return PEERS_UNAVAILABLE;
    throw error;
  }
  const probed = rows && rows.length > 0 ? await torrentConnectable(deps.sql, torrentId) : new Map();
  // A torrent the tracker has not heard of yet (just uploaded, say) has nobody in its swarm.
  const items = (rows ?? []).map((r): PeerItem => {
    const hidden = r.anonymous && !staff && Number(r.userId) !== actor.id;
    const left = Math.min(Math.max(Number(r.left), 0), size);
    return {
      member: hidden ? null : { id: Number(r.userId), name: r.name },
      anonymous: r.anonymous,
      client: clientName(r.peerId),
      seeder: r.seeder,
      uploaded: Number(r.uploaded),
      downloaded: Number(r.downloaded),
      progress: r.seeder ? 1 : size > 0 ? (size - left) / size : 0,
      announcedAt: r.announcedAt,
      idleSeconds: Math.max(0, Math.round((now.getTime() - r.announcedAt.getTime()) / 1000)),
      connectable: connectableOf(probed.get(peerKey(Number(r.userId), r.peerId))),
    };
  });
  return { ok: true, seeders: items.filter((p) => p.seeder), leechers: items.filter((p) => !p.seeder) };
}

/** Whether the member hides their name in peer lists. */
export async function anonymity(deps: WebDeps, actor: Actor): Promise<boolean> {
  return await isAnonymous(deps.sql, actor.id);
}

/** Sets whether the member hides their name in peer lists. */
export async function setAnonymity(deps: WebDeps, actor: Actor, anonymous: boolean): Promise<void> {
  await setAnonymous(deps.sql, actor.id, anonymous);
}
