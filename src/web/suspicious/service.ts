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

function item(row: SuspiciousRow): SuspiciousItem {
  return {
    id: row.id,
    member: { id: row.user_id, name: row.member },
    torrent:
      row.torrent_id !== null && row.torrent !== null ? { id: row.torrent_id, title: row.torrent } : null,
    peerId: Buffer.from(row.peer_id).toString("hex"),
    clientPrefix: clientPrefix(row.peer_id),
    userAgent: row.user_agent,
    claimedUp: row.claimed_up,
    claimedDown: row.claimed_down,
    creditedUp: row.credited_up,
    creditedDown: row.credited_down,
    seconds: row.seconds,
    reasons: row.reasons,
    at: row.at,
    repeats: row.repeats,
    firstAt: row.first_at,
  };
}

function tallyItem(row: TallyRow): TallyItem {
  return {
    member: { id: row.user_id, name: row.member },
    records: row.records,
    uncreditedUp: row.uncredited_up,
    uncreditedDown: row.uncredited_down,
    lastAt: row.last_at,
  };
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
