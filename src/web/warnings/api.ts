import { Elysia, t } from "elysia";
import { STAFF } from "../access.ts";
import { type ApiLimiters, apiContext } from "../api/context.ts";
import { accepted } from "../api/errors.ts";
import { errors } from "../api/schemas.ts";
import type { WebDeps } from "../deps.ts";
import { IdParams, wholeNumber } from "../schemas.ts";
import { giveWarning, liftMemberWarning, WARNING_LIMITS, warningsOf } from "./service.ts";

const WarningBody = t.Object(
  {
    id: t.Number(),
    given_by: t.Union([t.Object({ id: t.Number(), name: t.String() }), t.Null()], {
      description: "The staff member who gave it",
    }),
    reason: t.String(),
    created_at: t.String({ format: "date-time" }),
    expires_at: t.String({ format: "date-time" }),
    lifted_at: t.Union([t.String({ format: "date-time" }), t.Null()], {
      description: "When staff lifted it early",
    }),
    active: t.Boolean({ description: "Neither expired nor lifted" }),
  },
  { description: "A warning" },
);

/** Warnings: a member's own or (staff) anyone's, given and lifted by staff. */
export function warningsApi(deps: WebDeps, limiters: ApiLimiters) {
  const { reasonMax, daysMin, daysMax, daysDefault } = WARNING_LIMITS;
  return new Elysia({ name: "api-warnings" })
    .use(apiContext(deps, limiters))
    .get(
      "/users/:id/warnings",
      async ({ caller, params }) => {
        const result = accepted(await warningsOf(deps, caller, params.id));
        return {
          active: result.warnings.filter((w) => w.active).length,
          pause_after: result.pauseAfter,
          items: result.warnings.map((w) => ({
            id: w.id,
            given_by: w.givenBy !== null ? { id: w.givenBy, name: w.giver ?? "" } : null,
            reason: w.reason,
            created_at: w.createdAt.toISOString(),
            expires_at: w.expiresAt.toISOString(),
            lifted_at: w.liftedAt ? w.liftedAt.toISOString() : null,
            active: w.active,
          })),
        };
      },
      {
        member: true,
        params: IdParams,
        response: {
          200: t.Object(
            {
              active: t.Number({ description: "Active warnings" }),
              pause_after: t.Number({
                description:
                  "Active warnings that pause new downloads (warnings.pauseDownloadsAfter; 0: never)",
              }),
              items: t.Array(WarningBody, { description: "Latest first" }),
            },
            { description: "The member's warnings" },
          ),
          ...errors(401, 403, 404, 422),
        },
        detail: {
          tags: ["Staff"],
          summary: "A member's warnings",
          description: "Your own, or anyone's for moderators and administrators.",
        },
      },
    )
    .post(
      "/users/:id/warnings",
      async ({ caller, params, body, set }) => {
        const result = accepted(
          await giveWarning(deps, caller, params.id, { reason: body.reason, days: body.days ?? daysDefault }),
        );
        set.status = 201;
        return { id: result.id };
      },
      {
        role: STAFF,
        params: IdParams,
        parse: "application/json",
        body: t.Object(
          {
            reason: t.String({
              maxLength: reasonMax + 100,
              description: `Why, for the member to read: 1 to ${reasonMax} characters`,
            }),
            days: t.Optional(
              wholeNumber(
                "days",
                daysMin,
                daysMax,
                `Days it lasts: ${daysMin} to ${daysMax}, ${daysDefault} by default`,
                `Enter a whole number of days from ${daysMin} to ${daysMax}.`,
              ),
            ),
          },
          { examples: [{ reason: "Repeated hit-and-runs after a reminder", days: 14 }] },
        ),
        response: {
          201: t.Object({ id: t.Number() }, { description: "The warning given" }),
          ...errors(401, 403, 404, 409, 422),
        },
        detail: {
          tags: ["Staff"],
          summary: "Warn a member",
          description:
            "Moderators and administrators (an administrator only by an administrator; nobody themselves). Recorded in the staff log; enough active warnings pause the member's new downloads at once.",
        },
      },
    )
    .post(
      "/warnings/:id/lift",
      async ({ caller, params, set }) => {
        accepted(await liftMemberWarning(deps, caller, params.id));
        set.status = 204;
        return null;
      },
      {
        role: STAFF,
        params: IdParams,
        response: { 204: t.Null({ description: "Lifted" }), ...errors(401, 403, 404, 422) },
        detail: {
          tags: ["Staff"],
          summary: "Lift a warning",
          description: "Moderators and administrators; an active warning only. Recorded in the staff log.",
        },
      },
    );
}
