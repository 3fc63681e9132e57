import { Elysia, t } from "elysia";
import type { ReportRow } from "../../db/queries/reports.ts";
import { STAFF } from "../access.ts";
import { type ApiLimiters, apiContext } from "../api/context.ts";
import { accepted } from "../api/errors.ts";
import { errors } from "../api/schemas.ts";
import type { WebDeps } from "../deps.ts";
import { IdParams, wholeNumber } from "../schemas.ts";
import {
  actOnReport,
  fileReport,
  myReports,
  REPORT_ACTIONS,
  REPORT_LIMITS,
  REPORT_TARGETS,
  reportNotice,
  reportQueue,
} from "./service.ts";

const Status = t.Union([
  t.Literal("open"),
  t.Literal("claimed"),
  t.Literal("resolved"),
  t.Literal("dismissed"),
]);

const ReportBody = t.Object(
  {
    id: t.Number(),
    target_type: t.String({ description: "torrent, comment or member" }),
    target_id: t.Number(),
    target_label: t.Union([t.String(), t.Null()], { description: "Its title or name (null once gone)" }),
    reason: t.String(),
    status: Status,
    note: t.String({ description: "The staff's note with the decision" }),
    outcome: t.String({ description: "Where it stands, in words" }),
    created_at: t.String({ format: "date-time" }),
    decided_at: t.Union([t.String({ format: "date-time" }), t.Null()]),
    reporter: t.Optional(t.Union([t.String(), t.Null()], { description: "Who reported (staff only)" })),
  },
  { description: "A report" },
);

function reportBody(r: ReportRow, staff: boolean): typeof ReportBody.static {
  return {
    id: r.id,
    target_type: r.targetType,
    target_id: r.targetId,
    target_label: r.targetLabel,
    reason: r.reason,
    status: r.status,
    note: r.note,
    outcome: reportNotice(r),
    created_at: r.createdAt.toISOString(),
    decided_at: r.decidedAt ? r.decidedAt.toISOString() : null,
    ...(staff ? { reporter: r.reporter } : {}),
  };
}

/** Reports: file one, list one's own; staff list, claim, resolve and dismiss. */
export function reportsApi(deps: WebDeps, limiters: ApiLimiters) {
  const { reasonMax, noteMax } = REPORT_LIMITS;
  return new Elysia({ name: "api-reports" })
    .use(apiContext(deps, limiters))
    .post(
      "/reports",
      async ({ caller, body, set }) => {
        const result = accepted(
          await fileReport(deps, caller, {
            targetType: body.target_type,
            targetId: body.target_id,
            reason: body.reason,
          }),
        );
        set.status = 201;
        return { id: result.id };
      },
      {
        member: true,
        parse: "application/json",
        body: t.Object(
          {
            target_type: t.String({
              maxLength: 20,
              description: `What is reported: ${REPORT_TARGETS.join(", ")}`,
            }),
            target_id: wholeNumber("target_id", 1, Number.MAX_SAFE_INTEGER, "Its number (id)"),
            reason: t.String({
              maxLength: reasonMax + 100,
              description: `What is wrong, 1 to ${reasonMax} characters`,
            }),
          },
          {
            examples: [
              { target_type: "torrent", target_id: 12, reason: "The files are not what the title says" },
            ],
          },
        ),
        response: {
          201: t.Object({ id: t.Number() }, { description: "The report filed" }),
          ...errors(401, 404, 409, 422),
        },
        detail: {
          tags: ["Staff"],
          summary: "Report to the staff",
          description: `Any member. At most site.reportsPerHour an hour (429), ${REPORT_LIMITS.maxWaiting} waiting at once and one waiting per target (409).`,
        },
      },
    )
    .get(
      "/reports",
      async ({ caller }) => ({ items: (await myReports(deps, caller)).map((r) => reportBody(r, false)) }),
      {
        member: true,
        response: {
          200: t.Object(
            { items: t.Array(ReportBody, { description: "Latest first" }) },
            { description: "Your reports" },
          ),
          ...errors(401),
        },
        detail: { tags: ["Staff"], summary: "Your reports", description: "With the outcome of each." },
      },
    )
    .get(
      "/staff/reports",
      async ({ caller, query }) => {
        const page = query.page ?? 1;
        const result = accepted(await reportQueue(deps, caller, { decided: query.decided === "true", page }));
        return { items: result.rows.map((r) => reportBody(r, true)), page, has_next: result.hasNext };
      },
      {
        role: STAFF,
        query: t.Object({
          decided: t.Optional(
            t.Union([t.Literal("true"), t.Literal("false")], {
              description: "true: decided reports, latest first; false (default): waiting ones, oldest first",
            }),
          ),
          page: t.Optional(wholeNumber("page", 1, 100000, "From 1 (default)")),
        }),
        response: {
          200: t.Object(
            { items: t.Array(ReportBody), page: t.Number(), has_next: t.Boolean() },
            { description: "One page of reports" },
          ),
          ...errors(401, 403, 422),
        },
        detail: {
          tags: ["Staff"],
          summary: "The report queue",
          description: "Moderators and administrators.",
        },
      },
    )
    .post(
      "/reports/:id/action",
      async ({ caller, params, body }) => {
        const result = accepted(await actOnReport(deps, caller, params.id, body));
        return { id: params.id, status: result.status };
      },
      {
        role: STAFF,
        params: IdParams,
        parse: "application/json",
        body: t.Object(
          {
            action: t.String({
              maxLength: 20,
              description: `One of ${REPORT_ACTIONS.join(", ")}: claim says you are on it; resolve and dismiss decide it`,
            }),
            note: t.Optional(
              t.String({
                maxLength: noteMax + 100,
                description: `A note for the reporter, at most ${noteMax} characters`,
              }),
            ),
          },
          { examples: [{ action: "resolve", note: "The torrent was removed" }] },
        ),
        response: {
          200: t.Object({ id: t.Number(), status: Status }, { description: "The report's state now" }),
          ...errors(401, 403, 404, 409, 422),
        },
        detail: {
          tags: ["Staff"],
          summary: "Act on a report",
          description: "Moderators and administrators. Recorded in the staff log. 409 once decided.",
        },
      },
    );
}
