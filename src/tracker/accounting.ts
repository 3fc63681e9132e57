// The tracker's credit accounting: what one announce earns a member, as pure functions over the
// packed row layouts of src/shared/channel.ts. Nothing here keeps state or allocates per announce:
// the caller hands in reusable records (a Report, an Assessment) and the rows to write. The announce
// policy (who may announce, the swarms) is tracker.ts; the pending batches are ledger.ts.
import type { TrackerPolicy } from "../config.ts";
import { DELTA_FIELDS, DELTA_ROW, type FactorWindow, SUSPICIOUS_ROW } from "../shared/channel.ts";
import { peerTimeoutSeconds } from "./timeouts.ts";

/** Bits of a suspicious transfer's reasons field (bit i is SUSPICION_REASONS[i]). */
export const REASON = {
  rate: 1,
  noLeecher: 2,
  backwards: 4,
  /** An upload claim expired before other members' download backed it (byte conservation). */
  unbacked: 8,
  /** Reported download beyond CONSERVATION.sizeMultiple × the torrent's size in one period. */
  overSize: 16,
  /** `left` fell by more than the download reported: charged what `left` implies. */
  leftImplied: 32,
} as const;

/**
 * The numbers of byte conservation (see the README's accounting). Upload is credited only against
 * download that other members' peers in the same swarm reported.
 */
export const CONSERVATION = {
  /**
   * Each byte other members report downloading backs 1 + this bytes of upload claims: protocol
   * overhead that clients count as upload (Transmission ~0.08%, libtorrent's dual-stack duplicate
   * endgame blocks ~0.2%), with room to spare.
   */
  allowance: 0.005,
  /** Download a member reports on one torrent within one period beyond this × its size feeds nothing. */
  sizeMultiple: 2,
  /** `left` may fall by this fraction of the size more than the download reported, uncharged. */
  leftAllowance: 0.005,
} as const;

/** Seconds a reported download waits before it is shared: `claimHoldSeconds`, or the interval. */
export function holdSeconds(
  rules: Pick<TrackerPolicy, "claimHoldSeconds" | "announceIntervalSeconds">,
): number {
  return rules.claimHoldSeconds > 0 ? rules.claimHoldSeconds : rules.announceIntervalSeconds;
}

/**
 * Seconds an upload claim waits, unpaid, for download to back it (after which it expires and is
 * recorded), and a download period (the span of the size multiple): the peer timeout (a leecher
 * reports at least that often, or is dropped) plus the hold.
 */
export function expirySeconds(peerTimeout: number, hold: number): number {
  return peerTimeout + hold;
}

/** Upload claims `downloaded` bytes of other members' download can back. */
export function backingOf(downloaded: number): number {
  return downloaded * (1 + CONSERVATION.allowance);
}

/**
 * Download a report implies beyond what it says: when `left` fell by more than `downloaded` (the
 * report's download, bytes) plus the allowance, the fall less the allowance; else 0. A torrent of
 * unknown size (0) gets no allowance.
 */
export function impliedDownload(
  previousLeft: number,
  left: number,
  downloaded: number,
  size: number,
): number {
  const fall = previousLeft - left;
  if (!(fall > 0)) return 0;
  const floor = Math.floor(fall - size * CONSERVATION.leftAllowance);
  return floor > downloaded ? floor : 0;
}

/**
 * How much of `down` newly reported bytes may feed the pool when the member already reported `fed`
 * bytes on the torrent this period: up to sizeMultiple × size in all (everything when the size is
 * unknown).
 */
export function feedable(fed: number, down: number, size: number): number {
  if (!(size > 0)) return down;
  const room = CONSERVATION.sizeMultiple * size - fed;
  return room <= 0 ? 0 : Math.min(down, room);
}

/**
 * Shares `amount` bytes among `n` claims (what each still claims, in `claims`) max-min fairly:
 * equal shares, no claim paid beyond itself, what a smaller claim leaves going to the others. Whole
 * bytes; the payments go into `paid`, the total paid is returned. A liar claiming far more than it
 * uploaded gets at most an equal share, so it cannot take an honest seeder's share whole.
 */
export function shareFairly(claims: Float64Array, n: number, amount: number, paid: Float64Array): number {
  let left = Math.floor(amount);
  let active = 0;
  for (let i = 0; i < n; i++) {
    paid[i] = 0;
    if (claims[i]! > 0) active++;
  }
  while (left > 0 && active > 0) {
    const share = left / active;
    let settled = 0;
    let spent = 0;
    for (let i = 0; i < n; i++) {
      const rest = claims[i]! - paid[i]!;
      if (rest > 0 && rest <= share) {
        paid[i]! += rest;
        spent += rest;
        settled++;
      }
    }
    if (settled === 0) {
      const each = Math.floor(share);
      if (each === 0) break;
      for (let i = 0; i < n; i++) if (claims[i]! - paid[i]! > 0) paid[i]! += each;
      left -= each * active;
      break;
    }
    left -= spent;
    active -= settled;
  }
  return Math.floor(amount) - left;
}

/** The settings the accounting rules read. */
export type CreditRules = Pick<
  TrackerPolicy,
  | "maxRateBytesPerSecond"
  | "uploadNeedsLeecher"
  | "resetOnBackwardsCounter"
  | "announceIntervalSeconds"
  | "peerTimeoutSeconds"
>;

/** A peer's previous report (as the swarm, or the grace store, keeps it) and its new one. */
export interface Report {
  /** Counters and time (seconds) of the previous report, and whether it said seeder. */
  previousUploaded: number;
  previousDownloaded: number;
  previousAt: number;
  wasSeeder: boolean;
  /** Counters of this report. */
  uploaded: number;
  downloaded: number;
  /** This report is `event=started` (a counter going back is then no suspicion). */
  started: boolean;
  /** The peer comes back from the grace store: it was out of the swarm since its previous report. */
  returning: boolean;
  /** Last times (seconds) the swarm had at least one leecher, and at least two; 0 for never. */
  leecherAt: number;
  leechersAt: number;
}

/** What one report is credited, as {@link assess} and {@link applyFactors} leave it. */
export interface Assessment {
  /** What the counters imply since the previous report (negative when one went back). */
  claimedUp: number;
  claimedDown: number;
  /** What is credited. */
  up: number;
  down: number;
  /** Seconds since the previous report (0 when the clock went back). */
  seconds: number;
  /** Seeding time earned. */
  seedSeconds: number;
  /** Why the report was not credited in full: {@link REASON} bits, 0 for none. */
  reasons: number;
  /** Download implied by `left` beyond the reported one (see {@link impliedDownload}); 0 for none. */
  impliedDown: number;
}

/** A zeroed Report, to be reused from one announce to the next. */
export function newReport(): Report {
  return {
    previousUploaded: 0,
    previousDownloaded: 0,
    previousAt: 0,
    wasSeeder: false,
    uploaded: 0,
    downloaded: 0,
    started: false,
    returning: false,
    leecherAt: 0,
    leechersAt: 0,
  };
}

/** A zeroed Assessment, to be reused from one announce to the next. */
export function newAssessment(): Assessment {
  return {
    claimedUp: 0,
    claimedDown: 0,
    up: 0,
    down: 0,
    seconds: 0,
    seedSeconds: 0,
    reasons: 0,
    impliedDown: 0,
  };
}

/**
 * The plausibility rules: credits the difference between a peer's report and its previous one,
 * into `out` (returned). A counter lower than before starts a new session (neither counter, or
 * only that one, is credited); each counter is capped at (seconds + 1) × the rate limit; upload
 * needs a leecher to upload to since the previous report. Seeding time runs from a report as
 * seeder to the next, at most the peer timeout (what the slowest client's interval floor allows).
 */
export function assess(out: Assessment, rules: CreditRules, report: Report, now: number): Assessment {
  const since = report.previousAt;
  const up = report.uploaded - report.previousUploaded;
  const down = report.downloaded - report.previousDownloaded;
  let upCredit = up;
  let downCredit = down;
  let reasons = 0;
  if (up < 0 || down < 0) {
    // The client restarted its session (or lies): the new values are the baseline. `started`
    // says so itself and is not worth a record.
    if (!report.started) reasons = REASON.backwards;
    if (rules.resetOnBackwardsCounter) {
      upCredit = 0;
      downCredit = 0;
    } else {
      upCredit = Math.max(up, 0);
      downCredit = Math.max(down, 0);
    }
  }
  const seconds = now > since ? now - since : 0;
  if (rules.maxRateBytesPerSecond > 0) {
    // Whole seconds on both sides: one second more absorbs the rounding.
    const cap = (seconds + 1) * rules.maxRateBytesPerSecond;
    if (upCredit > cap) {
      upCredit = cap;
      reasons |= REASON.rate;
    }
    if (downCredit > cap) {
      downCredit = cap;
      reasons |= REASON.rate;
    }
  }
  if (upCredit > 0 && rules.uploadNeedsLeecher) {
    // A leecher counts itself among the leechers: it needs a second one to upload to. A peer
    // coming back was out of the swarm meanwhile, so any leecher counts.
    const seen = report.wasSeeder || report.returning ? report.leecherAt : report.leechersAt;
    if (seen < since) {
      upCredit = 0;
      reasons |= REASON.noLeecher;
    }
  }
  out.claimedUp = up;
  out.claimedDown = down;
  out.up = upCredit;
  out.down = downCredit;
  out.seconds = seconds;
  // Clients honour no interval below their floor (libtorrent 300 s, rtorrent 600 s): a step is
  // capped by the peer timeout, which allows for that, not by `interval`. A client silent for
  // longer would have been dropped; a peer coming back from the grace store was out meanwhile.
  out.seedSeconds = report.wasSeeder && !report.returning ? Math.min(seconds, peerTimeoutSeconds(rules)) : 0;
  out.reasons = reasons;
  out.impliedDown = 0;
  return out;
}

/**
 * Charges download `left` implies (see {@link impliedDownload}): when it exceeds what `a` credits
 * as download, that is raised to it and the report is marked. Before the factors.
 */
export function chargeLeft(a: Assessment, previousLeft: number, left: number, size: number): Assessment {
  const implied = impliedDownload(previousLeft, left, Math.max(a.claimedDown, 0), size);
  if (implied > a.down) {
    a.impliedDown = implied;
    a.down = implied;
    a.reasons |= REASON.leftImplied;
  }
  return a;
}

/**
 * Applies the download and upload factors to what `a` credits (after the plausibility rules,
 * rounded to whole bytes); the more generous of the torrent's own and the site-wide window's.
 */
export function applyFactors(
  a: Assessment,
  torrentDown: number,
  torrentUp: number,
  siteDown: number,
  siteUp: number,
): Assessment {
  const downFactor = Math.min(torrentDown, siteDown);
  const upFactor = Math.max(torrentUp, siteUp);
  if (downFactor !== 1) a.down = Math.round(a.down * downFactor);
  if (upFactor !== 1) a.up = Math.round(a.up * upFactor);
  return a;
}

/** Site-wide factors in force from a time on, and until when they hold. */
export interface SiteFactors {
  down: number;
  up: number;
  /** First time (exclusive) a window starts or ends after the one asked for. */
  until: number;
}

/** Whether a factor window can be used: finite times, a positive span, factors 0 or more. */
export function usableWindow(w: FactorWindow): boolean {
  return (
    Number.isFinite(w.startsAt) &&
    Number.isFinite(w.endsAt) &&
    w.endsAt > w.startsAt &&
    Number.isFinite(w.downloadFactor) &&
    w.downloadFactor >= 0 &&
    Number.isFinite(w.uploadFactor) &&
    w.uploadFactor >= 0
  );
}

/**
 * The site-wide factors at `now`, into `out`: the most generous of the windows in force (1 and 1
 * outside every window), and the next time a window starts or ends.
 */
export function siteFactorsAt(windows: readonly FactorWindow[], now: number, out: SiteFactors): SiteFactors {
  let down = 1;
  let up = 1;
  let until = Number.POSITIVE_INFINITY;
  for (const w of windows) {
    if (now >= w.startsAt && now < w.endsAt) {
      down = Math.min(down, w.downloadFactor);
      up = Math.max(up, w.uploadFactor);
      until = Math.min(until, w.endsAt);
    } else if (w.startsAt > now) {
      until = Math.min(until, w.startsAt);
    }
  }
  out.down = down;
  out.up = up;
  out.until = until;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Credit rows (DELTA_ROW layout), at offset `o` of a packed batch.

/** Starts a credit row for a pair: every field zero but the pair's ids. */
export function initCreditRow(rows: Float64Array, o: number, userId: number, torrentId: number): void {
  rows.fill(0, o, o + DELTA_FIELDS);
  rows[o + DELTA_ROW.userId] = userId;
  rows[o + DELTA_ROW.torrentId] = torrentId;
}

/** Whether the credit row at `o` is the pair's. */
export function isPairRow(rows: Float64Array, o: number, userId: number, torrentId: number): boolean {
  return rows[o + DELTA_ROW.userId] === userId && rows[o + DELTA_ROW.torrentId] === torrentId;
}

/** Notes an announce at `now` in a credit row: its latest time, and its earliest if it has none. */
export function touchCreditRow(rows: Float64Array, o: number, now: number): void {
  rows[o + DELTA_ROW.lastAt] = now;
  if (rows[o + DELTA_ROW.firstAt] === 0) rows[o + DELTA_ROW.firstAt] = now;
}

/** Adds an assessed report to a credit row: credit, reported bytes (gains only), seed time, times. */
export function addCredit(rows: Float64Array, o: number, a: Assessment, now: number): void {
  rows[o + DELTA_ROW.uploaded]! += a.up;
  rows[o + DELTA_ROW.downloaded]! += a.down;
  if (a.claimedUp > 0) rows[o + DELTA_ROW.reportedUp]! += a.claimedUp;
  // Reported download, or what `left` implies when that is more (hit-and-run reads it).
  const reportedDown = Math.max(a.claimedDown, a.impliedDown);
  if (reportedDown > 0) rows[o + DELTA_ROW.reportedDown]! += reportedDown;
  rows[o + DELTA_ROW.seedSeconds]! += a.seedSeconds;
  touchCreditRow(rows, o, now);
}

/** Adds upload paid to a claim by byte conservation (after factors) to a credit row. */
export function addUpload(rows: Float64Array, o: number, bytes: number): void {
  rows[o + DELTA_ROW.uploaded]! += bytes;
}

/** Marks a credit row as holding a new completion (a snatch). */
export function markCompleted(rows: Float64Array, o: number): void {
  rows[o + DELTA_ROW.completed] = 1;
}

/** Sets what the member has in the swarm after the row's announces (a PAIR_STATE). */
export function setPairState(rows: Float64Array, o: number, state: number): void {
  rows[o + DELTA_ROW.state] = state;
}

/** Writes a suspicious transfer (SUSPICIOUS_ROW layout) at offset `o`: what was claimed and credited. */
export function writeSuspicious(
  rows: Float64Array,
  o: number,
  userId: number,
  torrentId: number,
  a: Assessment,
  now: number,
): void {
  rows[o + SUSPICIOUS_ROW.userId] = userId;
  rows[o + SUSPICIOUS_ROW.torrentId] = torrentId;
  rows[o + SUSPICIOUS_ROW.claimedUp] = a.claimedUp;
  rows[o + SUSPICIOUS_ROW.claimedDown] = a.claimedDown;
  rows[o + SUSPICIOUS_ROW.creditedUp] = a.up;
  rows[o + SUSPICIOUS_ROW.creditedDown] = a.down;
  rows[o + SUSPICIOUS_ROW.seconds] = a.seconds;
  rows[o + SUSPICIOUS_ROW.reasons] = a.reasons;
  rows[o + SUSPICIOUS_ROW.at] = now;
}
