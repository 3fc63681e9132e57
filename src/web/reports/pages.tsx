/** @jsxImportSource @kitajs/html */
import { Elysia, t } from "elysia";
import { MyReportsPage, ReportFormPage, ReportQueuePage } from "../../../views/reports/reports.tsx";
import { STAFF } from "../access.ts";
import { refusedPage } from "../context.tsx";
import type { WebDeps } from "../deps.ts";
import { pageGate } from "../gate.tsx";
import { CsrfField, IdParams, optionalTexts } from "../schemas.ts";
import { actOnReport, fileReport, myReports, REPORT_LIMITS, reportQueue } from "./service.ts";

const DONE: Record<string, string> = {
  claim: "Claimed: the report is yours.",
  resolve: "Resolved: the reporter sees your note.",
  dismiss: "Dismissed: the reporter sees your note.",
};

/** Reports: the form, the member's own list (/reports), and the staff's queue (/staff/reports). */
export function reportPages(deps: WebDeps) {
  return new Elysia({ name: "report-pages" })
    .use(pageGate(deps))
    .get(
      "/reports/new",
      ({ page, query }) => (
        <ReportFormPage
          page={page}
          type={query.type ?? ""}
          id={query.id ?? ""}
          reasonMax={REPORT_LIMITS.reasonMax}
        />
      ),
      { member: true, query: optionalTexts({ type: 20, id: 20 }) },
    )
    .post(
      "/reports",
      async ({ page, viewer, body, set, base, redirect }) => {
        const id = /^[1-9][0-9]{0,14}$/.test(body.id.trim()) ? Number(body.id.trim()) : Number.NaN;
        const result = await fileReport(deps, viewer, {
          targetType: body.type,
          targetId: id,
          reason: body.reason,
        });
        if (result.ok) return redirect(`${base}/reports?done=1`, 303);
        return refusedPage(page, set, result.refusal, {
          form: {
            field: "form",
            render: (errors: Record<string, string>) => (
              <ReportFormPage
                page={page}
                type={body.type}
                id={body.id}
                reason={body.reason}
                errors={errors}
                reasonMax={REPORT_LIMITS.reasonMax}
              />
            ),
          },
        });
      },
      {
        member: "/reports",
        body: t.Object({
          type: t.String({ maxLength: 20 }),
          id: t.String({ maxLength: 20 }),
          reason: t.String({ maxLength: REPORT_LIMITS.reasonMax + 100 }),
          ...CsrfField,
        }),
      },
    )
    .get(
      "/reports",
      async ({ page, viewer, query }) => (
        <MyReportsPage page={page} reports={await myReports(deps, viewer)} done={query.done === "1"} />
      ),
      { member: true, query: optionalTexts({ done: 10 }) },
    )
    .get(
      "/staff/reports",
      async ({ page, viewer, query, set }) => {
        const decided = query.decided === "1";
        const pageNo = /^[1-9][0-9]{0,4}$/.test(query.page ?? "") ? Number(query.page) : 1;
        const result = await reportQueue(deps, viewer, { decided, page: pageNo });
        if (!result.ok) return refusedPage(page, set, result.refusal);
        return (
          <ReportQueuePage
            page={page}
            decided={decided}
            rows={result.rows}
            pageNo={pageNo}
            hasNext={result.hasNext}
            noteMax={REPORT_LIMITS.noteMax}
            done={DONE[query.done ?? ""]}
          />
        );
      },
      { role: STAFF, query: optionalTexts({ decided: 10, page: 10, done: 10 }) },
    )
    .post(
      "/staff/reports/:id/act",
      async ({ page, viewer, params, body, set, base, redirect }) => {
        const result = await actOnReport(deps, viewer, params.id, { action: body.action, note: body.note });
        if (!result.ok) return refusedPage(page, set, result.refusal, { notFoundTitle: "No such report" });
        return redirect(`${base}/staff/reports?done=${encodeURIComponent(body.action)}`, 303);
      },
      {
        role: { anyOf: STAFF, back: "/staff/reports" },
        params: IdParams,
        body: t.Object({
          action: t.String({ maxLength: 20 }),
          note: t.Optional(t.String({ maxLength: REPORT_LIMITS.noteMax + 100 })),
          ...CsrfField,
        }),
      },
    );
}
