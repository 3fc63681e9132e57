import type { TrackerSync } from "../../bridge/sync.ts";
import type { Config } from "../../config.ts";
import type { Sql } from "../../db/client.ts";
import { memberDetail } from "../../db/queries/members.ts";
import {
  insertWarning,
  liftWarning,
  memberWarnings,
  updateWarningPauses,
  type WarningRow,
} from "../../db/queries/warnings.ts";
import { log } from "../../log.ts";
import { type Actor, isStaff } from "../access.ts";
import { recordStaffAction } from "../audit/service.ts";
import type { WebDeps } from "../deps.ts";
import { sendSystemMessage } from "../messages/service.ts";
import { NO_MEMBER, type Result, refuse, refuseField, refuseFields } from "../refusal.ts";

/** Longest reason, and the days a warning may last (and the default). */
export const WARNING_LIMITS = { reasonMax: 1000, daysMin: 1, daysMax: 365, daysDefault: 14 } as const;

/** The words that tell a member of a warning: the one notice of this feature (pages now, a message later). */
export function warningNotice(warning: { reason: string; expiresAt: Date }): string {
  return `You were warned by the staff: ${warning.reason} (until ${warning.expiresAt.toISOString().slice(0, 10)}).`;
}

/** Tells the member of a new warning: a system message (their pages show it too: banner and account). */
async function tellMember(sql: Sql, userId: number, notice: string): Promise<void> {
  log.info("member warned", { member: userId, chars: notice.length });
  await sendSystemMessage(sql, {
    toUserId: userId,
    subject: "A warning from the staff",
    body: `${notice}`,
  });
}

/** Recomputes one member's (or every member's) warning pause and tells the tracker of each change. */
async function refreshPauses(
  sql: Sql,
  config: Config,
  sync: TrackerSync,
  userId?: number,
): Promise<number[]> {
  const changed = await updateWarningPauses(sql, config.warnings.pauseDownloadsAfter, userId);
  for (const id of changed) await sync.user(id);
  return changed;
}

/** A member's warnings, for themselves or staff. */
export async function warningsOf(
  deps: WebDeps,
  actor: Actor,
  userId: number,
): Promise<Result<{ member: { id: number; name: string }; warnings: WarningRow[]; pauseAfter: number }>> {
  if (actor.id !== userId && !isStaff(actor))
    return refuse("forbidden", "Only moderators and administrators see other members' warnings.");
  const member = await memberDetail(deps.sql, userId);
  if (!member) return refuse("not_found", NO_MEMBER);
  return {
    ok: true,
    member: { id: member.id, name: member.name },
    warnings: await memberWarnings(deps.sql, userId),
    pauseAfter: deps.config.warnings.pauseDownloadsAfter,
  };
}

/**
 * Staff warn a member with a reason, for `days` days: recorded in the staff log with the warning;
 * with `warnings.pauseDownloadsAfter` active warnings the member's downloads pause, and the
 * tracker hears of it before this returns. Nobody warns themselves, and only an administrator
 * warns an administrator.
 */
export async function giveWarning(
  deps: WebDeps,
  actor: Actor,
  userId: number,
  input: { reason: string; days: number },
): Promise<Result<{ id: number }>> {
  if (!isStaff(actor)) return refuse("forbidden", "Only moderators and administrators give warnings.");
  const member = await memberDetail(deps.sql, userId);
  if (!member) return refuse("not_found", NO_MEMBER);
  if (member.id === actor.id) return refuse("conflict", "You cannot warn yourself.");
  if (member.roles.includes("admin") && !actor.can("admin"))
    return refuse("forbidden", "Only an administrator can warn an administrator.");
  const reason = input.reason.replace(/\r\n/g, "\n").trim();
  const fields: Record<string, string> = {};
  if (!reason) fields.reason = "Say why: the member reads it.";
  else if (reason.length > WARNING_LIMITS.reasonMax)
    fields.reason = `Use at most ${WARNING_LIMITS.reasonMax} characters.`;
  const { daysMin, daysMax } = WARNING_LIMITS;
  if (!(Number.isInteger(input.days) && input.days >= daysMin && input.days <= daysMax))
    fields.days = `Enter a whole number of days from ${daysMin} to ${daysMax}.`;
  if (Object.keys(fields).length) return refuseFields(fields);
  const id = await deps.sql.begin(async (tx) => {
    const created = await insertWarning(tx as unknown as Sql, {
      userId,
      givenBy: actor.id,
      reason,
      days: input.days,
    });
    await recordStaffAction(tx, {
      actorId: actor.id,
      action: "member.warn",
      targetType: "member",
      targetId: userId,
      before: null,
      after: { warning: created, reason, days: input.days },
    });
    return created;
  });
  await refreshPauses(deps.sql, deps.config, deps.sync, userId);
  await tellMember(
    deps.sql,
    userId,
    warningNotice({ reason, expiresAt: new Date(Date.now() + input.days * 86_400_000) }),
  );
  return { ok: true, id };
}

/** Staff lift an active warning early (recorded); a pause it held up is lifted before this returns. */
export async function liftMemberWarning(
  deps: WebDeps,
  actor: Actor,
  warningId: number,
): Promise<Result<{ userId: number }>> {
  if (!isStaff(actor)) return refuse("forbidden", "Only moderators and administrators lift warnings.");
  const lifted = await deps.sql.begin(async (tx) => {
    const warning = await liftWarning(tx as unknown as Sql, warningId);
    if (!warning) return null;
    await recordStaffAction(tx, {
      actorId: actor.id,
      action: "warning.lift",
      targetType: "warning",
      targetId: warningId,
      before: { userId: warning.userId, reason: warning.reason, expiresAt: warning.expiresAt.toISOString() },
      after: { lifted: true },
    });
    return warning;
  });
  if (!lifted) return refuseField("warning", "There is no active warning with this number.", "not_found");
  await refreshPauses(deps.sql, deps.config, deps.sync, lifted.userId);
  return { ok: true, userId: lifted.userId };
}

/**
 * Checks every member's warning pause (an expiry lifts it), at start and then every hour; the
 * tracker hears of each change.
 */
export function startWarningJobs(sql: Sql, config: Config, sync: TrackerSync): { stop(): Promise<void> } {
  let running: Promise<unknown> = Promise.resolve();
  const tick = () => {
    running = running
      .then(() => refreshPauses(sql, config, sync))
      .then((changed) => {
        if (changed.length > 0) log.info("warning pauses changed", { members: changed.length });
      })
      .catch((error) => log.warn("warning pauses not checked; retried within the hour", { error }));
  };
  tick();
  const timer = setInterval(tick, 3_600_000);
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}

/** Runs the hourly check once, now (the job's step, for the command line and tests). */
export function checkWarningPauses(sql: Sql, config: Config, sync: TrackerSync): Promise<number[]> {
  return refreshPauses(sql, config, sync);
}
