import { Elysia, t } from "elysia";
import { type ApiLimiters, apiContext } from "../api/context.ts";
import { accepted } from "../api/errors.ts";
import { errors } from "../api/schemas.ts";
import type { WebDeps } from "../deps.ts";
import { wholeNumber } from "../schemas.ts";
import { AUDIT_PER_PAGE, auditPage } from "./service.ts";

const Line = t.Object(
  {
    id: t.Number(),
    at: t.String({ format: "date-time", description: "When (the database's clock)" }),
    actor: t.Object({ id: t.Number(), name: t.Union([t.String(), t.Null()]) }, { description: "Who" }),
    action: t.String({ description: "What, e.g. member.disable, torrent.reject, report.resolve" }),
    target_type: t.String({ description: "member, torrent, comment, report, warning, invite or window" }),
    target_id: t.Union([t.Number(), t.Null()]),
    before: t.Any({ description: "The state before, as JSON (null: none)" }),
    after: t.Any({ description: "The state after, as JSON (null: none, e.g. deleted)" }),
  },
  { description: "One staff action" },
);

const text = (maxLength: number, description: string) => t.Optional(t.String({ maxLength, description }));

/** The staff log for administrators: GET /api/v1/staff-log. */
export function auditApi(deps: WebDeps, limiters: ApiLimiters) {
  return new Elysia({ name: "api-audit" }).use(apiContext(deps, limiters)).get(
    "/staff-log",
    async ({ caller, query }) => {
      const page = query.page ?? 1;
      const result = accepted(await auditPage(deps, caller, { ...query, page }));
      return {
        items: result.rows.map((r) => ({
          id: r.id,
          at: r.at.toISOString(),
          actor: { id: r.actorId, name: r.actor },
          action: r.action,
          target_type: r.targetType,
          target_id: r.targetId,
          before: r.before,
          after: r.after,
        })),
        page,
        has_next: result.hasNext,
      };
    },
    {
      role: "admin",
      query: t.Object({
        actor: text(64, "Only actions of the member with this name"),
        action: text(64, "Only this action, e.g. member.disable"),
        target_type: text(32, "Only actions on this kind of target"),
        target_id: text(20, "Only actions on the target with this number"),
        since: text(30, "From this day (YYYY-MM-DD, UTC) or time"),
        until: text(30, "Up to and including this day (YYYY-MM-DD, UTC), or before this time"),
        page: t.Optional(wholeNumber("page", 1, 100000, "From 1 (default)")),
      }),
      response: {
        200: t.Object(
          {
            items: t.Array(Line, { description: `Newest first, ${AUDIT_PER_PAGE} a page` }),
            page: t.Number(),
            has_next: t.Boolean(),
          },
          { description: "One page of the staff log" },
        ),
        ...errors(401, 403, 422),
      },
      detail: {
        tags: ["Staff"],
        summary: "The staff log",
        description: "Administrators only. Every staff action with who, what, the target, before and after.",
      },
    },
  );
}
