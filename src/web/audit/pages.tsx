/** @jsxImportSource @kitajs/html */
import { Elysia } from "elysia";
import { AuditLogPage } from "../../../views/audit/log.tsx";
import { refusedPage } from "../context.tsx";
import type { WebDeps } from "../deps.ts";
import { pageGate } from "../gate.tsx";
import { optionalTexts } from "../schemas.ts";
import { auditPage } from "./service.ts";

/** The administrators' staff log: /admin/log, filtered by its query. */
export function auditPages(deps: WebDeps) {
  return new Elysia({ name: "audit-pages" }).use(pageGate(deps)).get(
    "/admin/log",
    async ({ page, viewer, query, set }) => {
      const pageNo = /^[1-9][0-9]{0,4}$/.test(query.page ?? "") ? Number(query.page) : 1;
      const filter = {
        actor: query.actor,
        action: query.action,
        target_type: query.target_type,
        target_id: query.target_id,
        since: query.since,
        until: query.until,
      };
      const result = await auditPage(deps, viewer, { ...filter, page: pageNo });
      if (!result.ok) {
        if (result.refusal.code !== "invalid") return refusedPage(page, set, result.refusal);
        set.status = 422;
        return (
          <AuditLogPage
            page={page}
            rows={[]}
            actions={[]}
            filter={filter}
            pageNo={1}
            hasNext={false}
            errors={result.refusal.fields}
          />
        );
      }
      return (
        <AuditLogPage
          page={page}
          rows={result.rows}
          actions={result.actions}
          filter={filter}
          pageNo={pageNo}
          hasNext={result.hasNext}
        />
      );
    },
    {
      role: "admin",
      query: optionalTexts({
        actor: 64,
        action: 64,
        target_type: 32,
        target_id: 20,
        since: 30,
        until: 30,
        page: 10,
      }),
    },
  );
}
