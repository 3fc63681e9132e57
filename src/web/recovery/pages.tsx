/** @jsxImportSource @kitajs/html */
import { Elysia, t } from "elysia";
import { ForgotPage, ResetPage } from "../../../views/recovery/recovery.tsx";
import { PASSWORD_MAX, PASSWORD_MIN } from "../../db/queries/users.ts";
import { refusedPage } from "../context.tsx";
import type { WebDeps } from "../deps.ts";
import { pageGate } from "../gate.tsx";
import { linksFor } from "../links.ts";
import { CsrfField } from "../schemas.ts";
import { mailConfigured } from "./mail.ts";
import {
  EMAIL_MAX,
  RESET_GONE,
  RESET_REQUESTED,
  requestReset,
  resetLinkHolder,
  resetPassword,
} from "./service.ts";

const PASSWORD_LIMITS = { min: PASSWORD_MIN, max: PASSWORD_MAX } as const;
// A reset token is 43 base64url characters; anything much longer names no link.
const TokenParams = t.Object({ token: t.String({ maxLength: 200 }) });

/** "Forgot password", the page of a reset link, and the member's e-mail address. */
export function recoveryPages(deps: WebDeps) {
  return new Elysia({ name: "recovery-pages" })
    .use(pageGate(deps))
    .get("/forgot", ({ page, set }) => {
      set.headers["cache-control"] = "no-store";
      return <ForgotPage page={page} mail={mailConfigured(deps.config)} />;
    })
    .post(
      "/forgot",
      async ({ page, set, body, ip, request, base }) => {
        const mail = mailConfigured(deps.config);
        const result = await requestReset(deps, {
          who: body.who,
          ip,
          siteRoot: linksFor(deps.config, request, base).site,
        });
        if (result.ok) return <ForgotPage page={page} mail={mail} sent={RESET_REQUESTED} />;
        return refusedPage(page, set, result.refusal, {
          form: {
            field: "form",
            render: (errors) => <ForgotPage page={page} mail={mail} who={body.who.trim()} errors={errors} />,
          },
        });
      },
      { body: t.Object({ who: t.String({ maxLength: EMAIL_MAX * 2 }), ...CsrfField }) },
    )
    .get(
      "/reset/:token",
      async ({ page, set, params, base }) => {
        // The link is a secret: nothing may keep a copy of its page.
        set.headers["cache-control"] = "no-store";
        const holder = await resetLinkHolder(deps, params.token);
        if (!holder) return refusedPage(page, set, { code: "gone", message: RESET_GONE });
        return (
          <ResetPage
            page={page}
            name={holder.name}
            action={`${base}/reset/${encodeURIComponent(params.token)}`}
            passwordLimits={PASSWORD_LIMITS}
          />
        );
      },
      { params: TokenParams },
    )
    .post(
      "/reset/:token",
      async ({ page, set, params, body, base, redirect }) => {
        set.headers["cache-control"] = "no-store";
        const result = await resetPassword(deps, {
          token: params.token,
          password: body.password,
          confirm: body.confirm,
        });
        if (result.ok) return redirect(`${base}/login?done=reset`, 303);
        const holder = await resetLinkHolder(deps, params.token);
        if (!holder) return refusedPage(page, set, result.refusal);
        return refusedPage(page, set, result.refusal, {
          form: {
            field: "form",
            render: (errors) => (
              <ResetPage
                page={page}
                name={holder.name}
                action={`${base}/reset/${encodeURIComponent(params.token)}`}
                passwordLimits={PASSWORD_LIMITS}
                errors={errors}
              />
            ),
          },
        });
      },
      {
        params: TokenParams,
        body: t.Object({
          password: t.String({ maxLength: PASSWORD_MAX }),
          confirm: t.String({ maxLength: PASSWORD_MAX }),
          username: t.Optional(t.String({ maxLength: 64 })),
          ...CsrfField,
        }),
      },
    );
}
