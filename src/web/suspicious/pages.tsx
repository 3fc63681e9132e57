/** @jsxImportSource @kitajs/html */
import { Elysia, t } from "elysia";
import { SuspiciousPage } from "../../../views/suspicious/suspicious.tsx";
import type { WebDeps } from "../deps.ts";
import { pageGate } from "../gate.tsx";
import { MAX_PAGE, MODERATORS, suspiciousPage } from "./service.ts";

/** The moderators' page of suspicious transfers: /admin/suspicious?page=N. */
export function suspiciousPages(deps: WebDeps) {
  return new Elysia({ name: "suspicious-pages" }).use(pageGate(deps)).get(
    "/admin/suspicious",
    async ({ page, query }) => {
      const text = query.page ?? "1";
      // A page number that is not one shows the first page, as the member list does.
      const pageNo = /^[1-9][0-9]{0,4}$/.test(text) && Number(text) <= MAX_PAGE ? Number(text) : 1;
      const result = await suspiciousPage(deps, { page: pageNo });
      if (!result.ok) throw new Error(result.refusal.message);
      return (
        <SuspiciousPage
          page={page}
          pageNo={pageNo}
          items={result.items}
          tally={result.tally}
          hasNext={result.hasNext}
        />
      );
    },
    { role: MODERATORS, query: t.Object({ page: t.Optional(t.String({ maxLength: 10 })) }) },
  );
}
