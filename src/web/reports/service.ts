import type { Sql } from "../../db/client.ts";
import {
  claimReport,
  decideReport,
  insertReport,
  type ReportRow,
  type ReportStatus,
  type ReportTarget,
  reportForUpdate,
  reportsBy,
  reportTargetExists,
  staffReports,
} from "../../db/queries/reports.ts";
import { log } from "../../log.ts";
import { type Actor, isStaff } from "../access.ts";
import { recordStaffAction } from "../audit/service.ts";
import type { WebDeps } from "../deps.ts";
import { sendSystemMessage } from "../messages/service.ts";
import { type Result, refuse, refuseField, refuseFields } from "../refusal.ts";

/** Longest reason and note; reports a member may have waiting; reports per page for staff. */
export const REPORT_LIMITS = { reasonMax: 1000, noteMax: 1000, maxWaiting: 20, perPage: 50 } as const;
export const REPORT_TARGETS: readonly ReportTarget[] = ["torrent", "comment", "member"];
const NO_REPORT = "There is no report with this number.";
const NO_TARGET: Record<ReportTarget, string> = {
  torrent: "There is no torrent with this number.",
  comment: "There is no comment with this number: it may have been deleted.",
  member: "There is no member with this number.",
};

/**
 * The words that tell the reporter where their report stands: the one notice of this feature,
 * shown on their reports page now and carried by a message later.
 */
export function reportNotice(report: { status: ReportStatus; note: string }): string {
  const note = report.note.trim();
  switch (report.status) {
    case "open":
      return "Waiting for the staff.";
    case "claimed":
      return "A staff member is looking into it.";
    case "resolved":
      return `Resolved by the staff${note ? `: ${note}` : "."}`;
    case "dismissed":
      return `Dismissed by the staff${note ? `: ${note}` : "."}`;
  }
}

/** Tells the reporter of a decision: a system message (their reports page shows it too, through reportNotice). */
async function tellReporter(sql: Sql, reporterId: number, notice: string): Promise<void> {
  log.info("report decided", { reporter: reporterId, chars: notice.length });
  await sendSystemMessage(sql, {
    toUserId: reporterId,
    subject: "Your report: the staff's decision",
    body: `${notice}`,
  });
}

/**
 * A member reports a torrent, a comment or a member with a reason: at most `site.reportsPerHour`
 * an hour (429 with the wait), REPORT_LIMITS.maxWaiting waiting at once and one waiting per target
 * (409). Nobody reports themselves.
 */
export async function fileReport(
  deps: WebDeps,
  actor: Actor,
  input: { targetType: string; targetId: number; reason: string },
): Promise<Result<{ id: number }>> {
  const type = input.targetType as ReportTarget;
  const fields: Record<string, string> = {};
  if (!REPORT_TARGETS.includes(type)) fields.type = "Report a torrent, a comment or a member.";
  if (!(Number.isSafeInteger(input.targetId) && input.targetId > 0))
    fields.id = "Name what you report by its number.";
  const reason = input.reason.replace(/\r\n/g, "\n").trim();
  if (!reason) fields.reason = "Say what is wrong: the staff read it.";
  else if (reason.length > REPORT_LIMITS.reasonMax)
    fields.reason = `Use at most ${REPORT_LIMITS.reasonMax} characters.`;
  if (Object.keys(fields).length) return refuseFields(fields);
  if (type === "member" && input.targetId === actor.id)
    return refuseField("id", "You cannot report yourself.");
  if (!(await reportTargetExists(deps.sql, type, input.targetId)))
    return refuse("not_found", NO_TARGET[type]);
  const perHour = deps.config.site.reportsPerHour;
  const result = await insertReport(deps.sql, {
    reporterId: actor.id,
    targetType: type,
    targetId: input.targetId,
    reason,
    perHour,
    maxWaiting: REPORT_LIMITS.maxWaiting,
  });
  if ("throttled" in result)
    return refuse(
      "throttled",
      `You have filed ${perHour} reports in the last hour, the most allowed. Try again in ${Math.ceil(result.throttled / 60)} minutes.`,
      { retryAfterSeconds: result.throttled },
    );
  if ("full" in result)
    return refuse(
      "conflict",
      `You have ${REPORT_LIMITS.maxWaiting} reports waiting for the staff, the most allowed: wait until some are decided.`,
    );
  if ("duplicate" in result)
    return refuse("conflict", "You have reported this already: your report waits for the staff.");
  return { ok: true, id: result.id };
}

/** The member's own reports with where each stands. */
export async function myReports(deps: WebDeps, actor: Actor): Promise<(ReportRow & { notice: string })[]> {
  return (await reportsBy(deps.sql, actor.id)).map((r) => ({ ...r, notice: reportNotice(r) }));
}

/** The staff's queue: waiting reports (oldest first) or decided ones (latest first). */
export async function reportQueue(
  deps: WebDeps,
  actor: Actor,
  input: { decided: boolean; page: number },
): Promise<Result<{ rows: ReportRow[]; hasNext: boolean }>> {
  if (!isStaff(actor)) return refuse("forbidden", "Only moderators and administrators see reports.");
  const per = REPORT_LIMITS.perPage;
  const rows = await staffReports(deps.sql, input.decided, per, (input.page - 1) * per);
  return { ok: true, rows: rows.slice(0, per), hasNext: rows.length > per };
}

/** What staff do with a report. */
export type ReportAction = "claim" | "resolve" | "dismiss";
export const REPORT_ACTIONS: readonly ReportAction[] = ["claim", "resolve", "dismiss"];

/**
 * Staff claim a waiting report (to say they are on it), or resolve or dismiss it with a note the
 * reporter reads; each recorded in the staff log with the change. A decided report stays decided.
 */
export async function actOnReport(
  deps: WebDeps,
  actor: Actor,
  id: number,
  input: { action: string; note?: string },
): Promise<Result<{ status: ReportStatus }>> {
  if (!isStaff(actor)) return refuse("forbidden", "Only moderators and administrators act on reports.");
  const action = input.action as ReportAction;
  if (!REPORT_ACTIONS.includes(action)) return refuseField("action", "Choose claim, resolve or dismiss.");
  const note = (input.note ?? "").replace(/\r\n/g, "\n").trim();
  if (note.length > REPORT_LIMITS.noteMax)
    return refuseField("note", `Use at most ${REPORT_LIMITS.noteMax} characters.`);
  const status: ReportStatus =
    action === "claim" ? "claimed" : action === "resolve" ? "resolved" : "dismissed";
  const outcome = await deps.sql.begin(async (tx) => {
    const sql = tx as unknown as Sql;
    const report = await reportForUpdate(sql, id);
    if (!report) return null;
    if (report.status === "resolved" || report.status === "dismissed")
      return { report, refused: `This report was ${report.status} already.` };
    if (action === "claim" && report.status === "claimed" && report.claimedBy === actor.id)
      return { report, refused: "You have claimed this report already." };
    if (action === "claim") await claimReport(sql, id, actor.id);
    else await decideReport(sql, id, { status: status as "resolved" | "dismissed", note, by: actor.id });
    await recordStaffAction(tx, {
      actorId: actor.id,
      action: `report.${action}`,
      targetType: "report",
      targetId: id,
      before: { status: report.status, claimedBy: report.claimedBy },
      after: action === "claim" ? { status, claimedBy: actor.id } : { status, note },
    });
    return { report, refused: null };
  });
  if (!outcome) return refuse("not_found", NO_REPORT);
  if (outcome.refused) return refuse("conflict", outcome.refused);
  if (action !== "claim")
    await tellReporter(deps.sql, outcome.report.reporterId, reportNotice({ status, note }));
  return { ok: true, status };
}
