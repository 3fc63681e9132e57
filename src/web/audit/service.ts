import type { Sql, Tx } from "../../db/client.ts";
import {
  insertStaffAction,
  listStaffActions,
  memberIdByName,
  type StaffActionFilter,
  type StaffActionRow,
  staffActionNames,
} from "../../db/queries/audit.ts";
import type { Actor } from "../access.ts";
import type { WebDeps } from "../deps.ts";
import { type Result, refuse, refuseFields } from "../refusal.ts";

/** Lines per page of the audit log. */
export const AUDIT_PER_PAGE = 50;

/** What a target of a staff action is. */
export type StaffTarget = "member" | "torrent" | "comment" | "report" | "warning" | "invite" | "window";

/** One staff action, as a feature records it. */
export interface StaffAction {
  readonly actorId: number;
  /** What was done, `<area>.<verb>`: "member.disable", "torrent.approve", "report.resolve"... */
  readonly action: string;
  readonly targetType: StaffTarget;
  readonly targetId: number | null;
  /** The state before and after, as plain JSON (null where there was none, e.g. a deletion's after). */
  readonly before: unknown;
  readonly after: unknown;
}

/**
 * Records one staff action in the audit log (sql/022_staff_actions.sql). Call it with the
 * transaction that makes the change, so the change and its record land together or not at all.
 * The time is the database's; the log refuses any later update or delete.
 */
export async function recordStaffAction(sql: Sql | Tx, action: StaffAction): Promise<void> {
  await insertStaffAction(sql as Sql, {
    ...action,
    before: storable(action.before),
    after: storable(action.after),
  });
}

/**
 * A value as jsonb takes it: jsonb refuses a lone surrogate (`\udfff`) and NUL in a string, which a
 * text column takes, so a hostile title must not make its edit fail here. Such characters become
 * U+FFFD, and NUL is dropped.
 */
function storable(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  return JSON.parse(JSON.stringify(value), (_key, v) =>
    typeof v === "string" ? v.toWellFormed().replaceAll("\u0000", "") : v,
  );
}

/** The log's filter as read from a form or a query: every field text, empty meaning "any". */
export interface AuditQuery {
  actor?: string;
  action?: string;
  target_type?: string;
  target_id?: string;
  since?: string;
  until?: string;
  page?: number;
}

/** A date from `YYYY-MM-DD` (midnight UTC) or an ISO time, or null. */
function dateOf(text: string): Date | null {
  if (!/^\d{4}-\d{2}-\d{2}([T ][0-9:.]+Z?)?$/.test(text)) return null;
  const date = new Date(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** One page of the audit log for administrators, newest first, filtered by actor, action, target and dates. */
export async function auditPage(
  deps: WebDeps,
  actor: Actor,
  query: AuditQuery,
): Promise<Result<{ rows: StaffActionRow[]; hasNext: boolean; page: number; actions: string[] }>> {
  if (!actor.can("admin")) return refuse("forbidden", "Only administrators read the staff log.");
  const filter: StaffActionFilter = {};
  const fields: Record<string, string> = {};
  const actorName = query.actor?.trim() ?? "";
  if (actorName) {
    const id = await memberIdByName(deps.sql, actorName.slice(0, 64));
    // A name nobody has matches no line: the page says so by showing none.
    filter.actorId = id ?? -1;
  }
  const action = query.action?.trim() ?? "";
  if (action) {
    if (!/^[a-z][a-z_.]{1,63}$/.test(action)) fields.action = "Choose an action from the list.";
    else filter.action = action;
  }
  const type = query.target_type?.trim() ?? "";
  if (type) {
    if (!/^[a-z][a-z_]{1,31}$/.test(type)) fields.target_type = "Choose a kind of target from the list.";
    else filter.targetType = type;
  }
  const target = query.target_id?.trim() ?? "";
  if (target) {
    if (!/^[1-9][0-9]{0,14}$/.test(target)) fields.target_id = "Enter the target's number.";
    else filter.targetId = Number(target);
  }
  for (const key of ["since", "until"] as const) {
    const text = query[key]?.trim() ?? "";
    if (!text) continue;
    const date = dateOf(text);
    if (!date) fields[key] = "Enter a date as YYYY-MM-DD.";
    else
      filter[key] =
        key === "until" && /^\d{4}-\d{2}-\d{2}$/.test(text) ? new Date(date.getTime() + 86_400_000) : date;
  }
  if (Object.keys(fields).length) return refuseFields(fields);
  const page = Math.max(1, query.page ?? 1);
  const rows = await listStaffActions(deps.sql, filter, AUDIT_PER_PAGE, (page - 1) * AUDIT_PER_PAGE);
  return {
    ok: true,
    rows: rows.slice(0, AUDIT_PER_PAGE),
    hasNext: rows.length > AUDIT_PER_PAGE,
    page,
    actions: await staffActionNames(deps.sql),
  };
}
