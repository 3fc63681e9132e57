import {
  recentSuspicious,
  type SuspiciousRow,
  suspiciousTally,
  type TallyRow,
} from "../../db/queries/suspicious.ts";
import type { Role } from "../../db/queries/users.ts";
import type { WebDeps } from "../deps.ts";
import { type Refused, refuseFields } from "../refusal.ts";

/** Who may look at suspicious transfers. */
export const MODERATORS: readonly Role[] = ["moderate"];
/** Records per page unless asked otherwise, and the most one page may hold. */
export const RECORDS_PER_PAGE = 50;
export const MAX_RECORDS_PER_PAGE = 100;
/** Members in the tally. */
export const TALLY_SIZE = 50;
/** The last page anyone may ask for (deep offsets cost the database a scan). */
export const MAX_PAGE = 10_000;

/** One suspicious transfer, as both faces show it. */
export interface SuspiciousItem {
  id: number;
  member: { id: number; name: string };
  torrent: { id: number; title: string } | null;
  /** The peer_id in hex, and its printable client prefix ("-qB4520-"), if any. */
  peerId: string;
  clientPrefix: string;
  userAgent: string | null;
  claimedUp: number;
  claimedDown: number;
  creditedUp: number;
  creditedDown: number;
  seconds: number;
  reasons: string[];
  at: Date;
  /** Announces this record stands for (the figures are their sums), from `firstAt` to `at`. */
  repeats: number;
  firstAt: Date;
}

/** One member's tally. Uncredited bytes are decimal text: a tally may pass what a double holds. */
export interface TallyItem {
  member: { id: number; name: string };
  records: number;
  uncreditedUp: string;
  uncreditedDown: string;
  lastAt: Date;
}

/** A page of suspicious transfers, newest first, and the tally. */
export type SuspiciousPage =
  | { ok: true; items: SuspiciousItem[]; tally: TallyItem[]; page: number; limit: number; hasNext: boolean }
  | Refused;

/**
 * The client prefix of a peer_id: its leading printable characters up to the second '-' of an
 * Azureus-style id ("-qB4520-"), or the first eight printable ones (Shadow style, "A2-1-36-").
 */
export function clientPrefix(peerId: Uint8Array): string {
  let end = 0;
  while (end < peerId.length && end < 8 && peerId[end]! >= 0x21 && peerId[end]! <= 0x7e) end++;
  return Buffer.from(peerId.subarray(0, end)).toString("latin1");
}

function item({ userId, member, torrentId, torrent, peerId, ...rest }: SuspiciousRow): SuspiciousItem {
  return {
    ...rest,
    member: { id: userId, name: member },
    torrent: torrentId !== null && torrent !== null ? { id: torrentId, title: torrent } : null,
    peerId: Buffer.from(peerId).toString("hex"),
    clientPrefix: clientPrefix(peerId),
  };
}

function tallyItem({ userId, member, ...rest }: TallyRow): TallyItem {
  return { ...rest, member: { id: userId, name: member } };
}

/** One page of suspicious transfers (page from 1) and the members with the most of them. */
export async function suspiciousPage(
  deps: WebDeps,
  input: { page: number; limit?: number },
): Promise<SuspiciousPage> {
  const limit = input.limit ?? RECORDS_PER_PAGE;
  if (!Number.isSafeInteger(input.page) || input.page < 1 || input.page > MAX_PAGE)
    return refuseFields({ page: `Use a whole number from 1 to ${MAX_PAGE}.` });
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_RECORDS_PER_PAGE)
    return refuseFields({ limit: `Use a whole number from 1 to ${MAX_RECORDS_PER_PAGE}.` });
  const rows = await recentSuspicious(deps.sql, { limit, offset: (input.page - 1) * limit });
  const tally = await suspiciousTally(deps.sql, TALLY_SIZE);
  return {
    ok: true,
    items: rows.slice(0, limit).map(item),
    tally: tally.map(tallyItem),
    page: input.page,
    limit,
    hasNext: rows.length > limit,
  };
}
