import { Elysia, t } from "elysia";
import { STAFF } from "../access.ts";
import { type ApiLimiters, apiContext } from "../api/context.ts";
import { accepted } from "../api/errors.ts";
import { errors } from "../api/schemas.ts";
import type { WebDeps } from "../deps.ts";
import { linksFor } from "../links.ts";
import { IdParams } from "../schemas.ts";
import { changeEmail, EMAIL_MAX, issueResetLink, RESET_REQUESTED, requestReset } from "./service.ts";

const ResetLink = t.Object(
  {
    url: t.String({ description: "The one-time link: give it to the member by a way you trust" }),
    expires_at: t.String({ format: "date-time", description: "When the link stops working" }),
  },
  { description: "A password reset link" },
);

/** Account recovery through the API: reset links from staff, by mail, and the member's address. */
export function recoveryApi(deps: WebDeps, limiters: ApiLimiters) {
  return new Elysia({ name: "api-recovery" })
    .use(apiContext(deps, limiters))
    .post(
      "/users/:id/reset-link",
      async ({ caller, params, request, base, set }) => {
        const link = accepted(
          await issueResetLink(deps, caller, params.id, linksFor(deps.config, request, base).site),
        );
        set.status = 201;
        set.headers["cache-control"] = "no-store";
        return { url: link.url, expires_at: link.expiresAt.toISOString() };
      },
      {
        role: STAFF,
        params: IdParams,
        response: { 201: ResetLink, ...errors(401, 403, 404, 409, 422) },
        detail: {
          tags: ["Users"],
          summary: "Issue a password reset link",
          description:
            "Moderators for members, administrators for anyone. The link works once, for `site.resetLinkMinutes`; using it sets a new password, ends the member's sessions and removes their second factors.",
        },
      },
    )
    .post(
      "/password-reset",
      async ({ body, ip, request, base, set }) => {
        accepted(
          await requestReset(deps, {
            who: body.who,
            ip,
            siteRoot: linksFor(deps.config, request, base).site,
          }),
        );
        set.status = 202;
        return { message: RESET_REQUESTED };
      },
      {
        body: t.Object(
          {
            who: t.String({
              maxLength: EMAIL_MAX * 2,
              description: "The member's name or the e-mail address on their account",
            }),
          },
          { examples: [{ who: "alice" }] },
        ),
        response: {
          202: t.Object({ message: t.String({ description: "The same whatever the name" }) }),
          ...errors(409, 422),
        },
        detail: {
          tags: ["Session"],
          summary: "Ask for a password reset link by mail",
          description:
            "Sends a reset link to the account's e-mail address, if the name or address belongs to an account that has one. The answer is the same either way. 409 when the site sends no mail (ask staff); throttled per address.",
          security: [],
        },
      },
    )
    .put(
      "/users/:id/email",
      async ({ caller, params, body, set }) => {
        accepted(await changeEmail(deps, caller, params.id, body.email));
        set.status = 204;
        return null;
      },
      {
        member: true,
        params: IdParams,
        body: t.Object(
          {
            email: t.String({
              maxLength: EMAIL_MAX * 2,
              description: "An e-mail address for reset links, never shown to others; empty removes it",
            }),
          },
          { examples: [{ email: "alice@example.org" }] },
        ),
        response: { 204: t.Null({ description: "Saved" }), ...errors(401, 403, 422) },
        detail: {
          tags: ["Users"],
          summary: "Set your e-mail address",
          description: "Only your own. Used only to send password reset links you ask for.",
        },
      },
    );
}
