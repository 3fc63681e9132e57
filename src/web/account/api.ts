import { Elysia, t } from "elysia";
import { PASSWORD_MAX } from "../../db/queries/users.ts";
import { type ApiLimiters, apiContext } from "../api/context.ts";
import { accepted } from "../api/errors.ts";
import { errors } from "../api/schemas.ts";
import type { WebDeps } from "../deps.ts";
import { IdParams } from "../schemas.ts";
import { changePassword } from "./service.ts";

/** The member's own account through the API: changing one's password. */
export function accountApi(deps: WebDeps, limiters: ApiLimiters) {
  return new Elysia({ name: "api-account" }).use(apiContext(deps, limiters)).put(
    "/users/:id/password",
    async ({ caller, params, body, ip, sessionToken, set }) => {
      accepted(
        await changePassword(deps, caller, {
          userId: params.id,
          old: body.old,
          password: body.password,
          ip,
          keepSession: caller.via === "session" ? (sessionToken ?? undefined) : undefined,
        }),
      );
      set.status = 204;
      return null;
    },
    {
      member: true,
      params: IdParams,
      body: t.Object(
        {
          old: t.String({ maxLength: PASSWORD_MAX, description: "The current password" }),
          password: t.String({
            maxLength: PASSWORD_MAX,
            description: "The new password, at least 8 characters",
          }),
        },
        { examples: [{ old: "correct horse battery", password: "a new, longer passphrase" }] },
      ),
      response: { 204: t.Null({ description: "Changed" }), ...errors(401, 403, 422) },
      detail: {
        tags: ["Users"],
        summary: "Change your password",
        description:
          "Only your own, with the current one. Ends every other session (with the cookie, the calling one stays); API tokens stay valid.",
      },
    },
  );
}
