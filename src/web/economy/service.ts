import type { TrackerSync } from "../../bridge/sync.ts";
import type { Config } from "../../config.ts";
import type { Int8, Sql } from "../../db/client.ts";
import {
  type EarnOutcome,
  earnHour,
  type HitAndRunRule,
  hitAndRunMembers,
  type LedgerReason,
  memberLedger,
  memberSnatchCounts,
  memberSnatches,
  type SettledBy,
  type SnatchStatus,
  spendPoints,
  updateDownloadPauses,
} from "../../db/queries/economy.ts";
import { INVITE_DAYS_DEFAULT } from "../../db/queries/invites.ts";
import { log } from "../../log.ts";
import { peerTimeoutSeconds } from "../../tracker/timeouts.ts";
import { STAFF } from "../access.ts";
import type { WebDeps } from "../deps.ts";
import { NO_MEMBER, type Refused, refuse, refuseField, refuseFields } from "../refusal.ts";
import { runRequestExpiry } from "../requests/service.ts";

export type { SnatchStatus } from "../../db/queries/economy.ts";

/** Who may see other members' hit-and-runs and bonus points. */
export const ECONOMY_STAFF = STAFF;
/** Rows per page of snatches or offenders, and the last page anyone may ask for. */
export const ROWS_PER_PAGE = 50;
export const MAX_PAGE = 10_000;
/** Ledger rows shown with a balance. */
export const LEDGER_ROWS = 50;
/** Most GiB of upload credit bought at once. */
export const MAX_GIB_PER_PURCHASE = 1024;
const HOUR_MS = 3_600_000;
const GIB = 1n << 30n;

/** The hit-and-run rule of this configuration. */
export function hitAndRunRule(config: Config): HitAndRunRule {
  return {
    seedSeconds: config.hitAndRun.seedHours * 3600,
    windowSeconds: config.hitAndRun.windowDays * 86400,
    ratioPercent: config.hitAndRun.ratioPercent,
    minDownloadPercent: config.hitAndRun.minDownloadPercent,
    activeSeconds: peerTimeoutSeconds(config.tracker),
  };
}

/** One snatch as both faces show it. */
export interface SnatchItem {
  torrent: { id: number; title: string; size: Int8 };
  uploaded: Int8;
  downloaded: Int8;
  seedSeconds: number;
  completedAt: Date;
  lastAnnounceAt: Date | null;
  status: SnatchStatus;
  settledBy: SettledBy;
  deadline: Date;
  /** Seconds until the deadline (0 once past), and seed seconds still owed (0 when satisfied). */
  secondsLeft: number;
  seedSecondsOwed: number;
}

/** A member's snatches and counts, or why not. */
export type SnatchesResult =
  | {
      ok: true;
      member: { id: number; name: string };
      /** New downloads refused for too many hit-and-runs (see checkDownloadPauses). */
      downloadsPaused: boolean;
      items: SnatchItem[];
      counts: Record<SnatchStatus, number>;
      rule: { seedHours: number; windowDays: number; ratioPercent: number; minDownloadPercent: number };
      page: number;
      hasNext: boolean;
    }
  | Refused;

function pageProblem(page: number) {
  return !Number.isSafeInteger(page) || page < 1 || page > MAX_PAGE;
}

/** A member's completed torrents with their hit-and-run status at `now`: for themselves or staff. */
export async function memberHitAndRuns(
  deps: WebDeps,
  viewer: { id: number; can(role: "moderate" | "admin"): boolean },
  input: { userId: number; page: number; now: Date },
): Promise<SnatchesResult> {
  if (input.userId !== viewer.id && !ECONOMY_STAFF.some((r) => viewer.can(r as "moderate" | "admin")))
    return refuse("forbidden", "Members see only their own hit-and-runs.");
  if (pageProblem(input.page)) return refuseFields({ page: `Use a whole number from 1 to ${MAX_PAGE}.` });
  const [member] = await deps.sql<{ id: number; name: string; downloadsPaused: boolean }[]>`
    select id, name, downloads_paused from users where id = ${input.userId}
  `;
  if (!member) return refuse("not_found", NO_MEMBER);
  const rule = hitAndRunRule(deps.config);
  const rows = await memberSnatches(deps.sql, rule, member.id, input.now, {
    limit: ROWS_PER_PAGE,
    offset: (input.page - 1) * ROWS_PER_PAGE,
  });
  const counts = await memberSnatchCounts(deps.sql, rule, member.id, input.now);
  return {
    ok: true,
    member: { id: member.id, name: member.name },
    downloadsPaused: member.downloadsPaused,
    items: rows.slice(0, ROWS_PER_PAGE).map(({ torrentId, title, size, ...r }) => {
      const seedSeconds = Number(r.seedSeconds);
      return {
        ...r,
        torrent: { id: torrentId, title, size },
        seedSeconds,
        secondsLeft: Math.max(0, Math.floor((r.deadline.getTime() - input.now.getTime()) / 1000)),
        seedSecondsOwed: r.status === "satisfied" ? 0 : Math.max(0, rule.seedSeconds - seedSeconds),
      };
    }),
    counts,
    rule: { ...deps.config.hitAndRun },
    page: input.page,
    hasNext: rows.length > ROWS_PER_PAGE,
  };
}

/** Members with hit-and-runs at `now`, most first, for staff. */
export type OffendersResult =
  | {
      ok: true;
      items: { member: { id: number; name: string }; hitAndRuns: number; latestDeadline: Date }[];
      page: number;
      hasNext: boolean;
    }
  | Refused;

/** One page of the members with hit-and-runs. */
export async function hitAndRunOffenders(
  deps: WebDeps,
  input: { page: number; now: Date },
): Promise<OffendersResult> {
  if (pageProblem(input.page)) return refuseFields({ page: `Use a whole number from 1 to ${MAX_PAGE}.` });
  const rows = await hitAndRunMembers(deps.sql, hitAndRunRule(deps.config), input.now, {
    limit: ROWS_PER_PAGE,
    offset: (input.page - 1) * ROWS_PER_PAGE,
  });
  return {
    ok: true,
    items: rows.slice(0, ROWS_PER_PAGE).map((r) => ({
      member: { id: r.userId, name: r.name },
      hitAndRuns: r.hitAndRuns,
      latestDeadline: r.latestDeadline,
    })),
    page: input.page,
    hasNext: rows.length > ROWS_PER_PAGE,
  };
}

/** Points as shown: thousandths kept to three decimals. */
export function points(millipoints: number): number {
  return millipoints / 1000;
}

/** What the shop sells, in points (0: not for sale). */
export interface Prices {
  pointsPerGiB: number;
  invitePoints: number;
  maxGiB: number;
}

/** A member's bonus balance and latest ledger rows, or why not. */
export type BonusResult =
  | {
      ok: true;
      member: { id: number; name: string };
      millipoints: number;
      prices: Prices;
      ledger: {
        id: number;
        hour: Date | null;
        millipoints: number;
        reason: LedgerReason;
        requestId: number | null;
        bytes: number | null;
        inviteId: number | null;
        seedingTorrents: number | null;
        at: Date;
      }[];
    }
  | Refused;

/** The shop's prices under this configuration. */
export function prices(config: Config): Prices {
  return {
    pointsPerGiB: config.bonus.pointsPerGiB,
    invitePoints: config.bonus.invitePoints,
    maxGiB: MAX_GIB_PER_PURCHASE,
  };
}

/** A member's balance and ledger: for themselves or staff. */
export async function memberBonus(
  deps: WebDeps,
  viewer: { id: number; can(role: "moderate" | "admin"): boolean },
  userId: number,
): Promise<BonusResult> {
  if (userId !== viewer.id && !ECONOMY_STAFF.some((r) => viewer.can(r as "moderate" | "admin")))
    return refuse("forbidden", "Members see only their own bonus points.");
  const [member] = await deps.sql<{ id: number; name: string }[]>`
    select id, name from users where id = ${userId}
  `;
  if (!member) return refuse("not_found", NO_MEMBER);
  const ledger = await memberLedger(deps.sql, userId, LEDGER_ROWS);
  return {
    ok: true,
    member,
    millipoints: ledger.millipoints,
    prices: prices(deps.config),
    ledger: ledger.rows.map(({ createdAt, ...r }) => ({
      ...r,
      millipoints: Number(r.millipoints),
      bytes: r.bytes === null ? null : Number(r.bytes),
      at: createdAt,
    })),
  };
}

/** What a member asks to buy. */
export type SpendInput = { item: "upload_credit"; gib: number } | { item: "invite" };

/** A purchase made, or why not. */
export type SpendResult =
  | {
      ok: true;
      ledgerId: number;
      spentMillipoints: number;
      millipoints: number;
      bytes?: number;
      invite?: { id: number; secret: string; expiresAt: Date };
    }
  | Refused;

/** Spends the member's points on upload credit (whole GiB) or an invite, atomically. */
export async function spendBonus(
  deps: WebDeps,
  userId: number,
  input: SpendInput,
  now: Date,
): Promise<SpendResult> {
  const price = prices(deps.config);
  let cost: number;
  let outcome: Awaited<ReturnType<typeof spendPoints>>;
  if (input.item === "upload_credit") {
    if (price.pointsPerGiB === 0) return refuseFields({ item: "Upload credit is not for sale here." });
    if (!Number.isSafeInteger(input.gib) || input.gib < 1 || input.gib > MAX_GIB_PER_PURCHASE)
      return refuseFields({ gib: `Use a whole number of GiB from 1 to ${MAX_GIB_PER_PURCHASE}.` });
    cost = input.gib * price.pointsPerGiB * 1000;
    outcome = await spendPoints(
      deps.sql,
      userId,
      cost,
      {
        kind: "upload_credit",
        bytes: BigInt(input.gib) * GIB,
      },
      now,
    );
  } else {
    if (price.invitePoints === 0) return refuseFields({ item: "Invites are not for sale here." });
    cost = price.invitePoints * 1000;
    outcome = await spendPoints(deps.sql, userId, cost, { kind: "invite", days: INVITE_DAYS_DEFAULT }, now);
  }
  if (!outcome.ok) {
    const message =
      outcome.reason === "balance"
        ? `This costs ${points(cost)} points; you have ${points(outcome.millipoints)}.`
        : outcome.reason === "ceiling"
          ? "Your upload total cannot grow by that much."
          : "A disabled account cannot spend points.";
    return refuseField(outcome.reason === "ceiling" ? "gib" : "points", message, "conflict");
  }
  return {
    ok: true,
    ledgerId: outcome.ledgerId,
    spentMillipoints: cost,
    millipoints: outcome.millipoints,
    bytes: input.item === "upload_credit" ? input.gib * 2 ** 30 : undefined,
    invite: outcome.invite,
  };
}

/** The start of the hour before the one `now` is in: the latest whole hour that has ended. */
export function lastWholeHour(now: Date): Date {
  return new Date(Math.floor(now.getTime() / HOUR_MS) * HOUR_MS - HOUR_MS);
}

/**
 * The hourly earning job, once: credits the hour that ended last before `now`, unless it is done
 * already (by this process before a restart, or by another web process). Earning off: nothing.
 */
export async function runBonusHour(
  sql: Sql,
  config: Config,
  now: Date,
  interrupt?: () => Promise<void>,
): Promise<EarnOutcome | null> {
  if (config.bonus.pointsPerHour === 0) return null;
  return earnHour(
    sql,
    { pointsPerHour: config.bonus.pointsPerHour, activeSeconds: peerTimeoutSeconds(config.tracker) },
    lastWholeHour(now),
    interrupt,
  );
}

/**
 * Pauses the new downloads of members with `hitAndRun.pauseDownloadsAfter` hit-and-runs or more at
 * `now`, and lifts the pause of those below it; the tracker hears of each change before this
 * returns (or after its 1 s wait for an answer). Returns the members whose pause changed.
 */
export async function checkDownloadPauses(
  sql: Sql,
  config: Config,
  sync: TrackerSync,
  now: Date,
): Promise<number[]> {
  // With the rule off (no seed time owed) nobody has a hit-and-run: every pause is lifted.
  const limit = config.hitAndRun.seedHours > 0 ? config.hitAndRun.pauseDownloadsAfter : 0;
  const changed = await updateDownloadPauses(sql, hitAndRunRule(config), limit, now);
  for (let i = 0; i < changed.length; i += 50)
    await Promise.all(changed.slice(i, i + 50).map((id) => sync.user(id)));
  return changed;
}

/**
 * Runs the earning job at start and then every minute (it does nothing until a new hour has ended),
 * the expiry of requests (with their refunds) at start and every minute, and the download-pause
 * check at start and then every hour.
 */
export function startEconomyJobs(sql: Sql, config: Config, sync: TrackerSync): { stop(): Promise<void> } {
  let running: Promise<unknown> = Promise.resolve();
  let lastPauseCheck = 0;
  const tick = () => {
    running = running
      .then(() => runBonusHour(sql, config, new Date()))
      .then((outcome) => {
        if (outcome?.done === "earned") log.info("seeding bonus credited", outcome);
      })
      .catch((error) => log.warn("seeding bonus not credited; retried in a minute", { error }));
    running = running
      .then(() => runRequestExpiry(sql, config, new Date()))
      .then((outcome) => {
        if (outcome.requests > 0) log.info("requests expired and refunded", { ...outcome });
      })
      .catch((error) => log.warn("requests not expired; retried in a minute", { error }));
    if (Date.now() - lastPauseCheck < HOUR_MS) return;
    running = running
      .then(() => checkDownloadPauses(sql, config, sync, new Date()))
      .then((changed) => {
        lastPauseCheck = Date.now();
        if (changed.length > 0) log.info("download pauses changed", { members: changed.length });
      })
      .catch((error) => log.warn("download pauses not checked; retried in a minute", { error }));
  };
  tick();
  const timer = setInterval(tick, 60_000);
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}

/** What the account page shows of the rules: hit-and-runs now and at risk, and the bonus balance. */
export async function accountEconomy(
  deps: WebDeps,
  userId: number,
): Promise<{ hitAndRuns: number; atRisk: number; millipoints: number }> {
  const counts = await memberSnatchCounts(
    deps.sql,
    hitAndRunRule(deps.config),
    userId,
    deps.clock?.() ?? new Date(),
  );
  const ledger = await memberLedger(deps.sql, userId, 0);
  return { hitAndRuns: counts.hit_and_run, atRisk: counts.at_risk, millipoints: ledger.millipoints };
}
