/** @jsxImportSource @kitajs/html */
import { Elysia, t } from "elysia";
import { AccountPage } from "../../../views/account/account.tsx";
import { PASSWORD_MAX } from "../../db/queries/users.ts";
import { type PageContext, refusedPage, type Viewer } from "../context.tsx";
import type { WebDeps } from "../deps.ts";
import { pageGate } from "../gate.tsx";
import { linksFor } from "../links.ts";
import { PASSWORD_LIMITS } from "../members/service.ts";
import { BIO_LIMITS, updateProfile } from "../profiles/service.ts";
import { changeEmail, EMAIL_MAX } from "../recovery/service.ts";
import { CsrfField, CsrfOnly, IdParams, optionalTexts } from "../schemas.ts";
import {
  accountOverview,
  changePassword,
  createApiToken,
  holdNewToken,
  newFeedKey,
  newPasskey,
  revokeApiToken,
  TOKEN_LIMITS,
  takeNewToken,
} from "./service.ts";

const DONE: Record<string, string> = {
  passkey: "Your passkey changed: download your .torrent files again.",
  password: "Your password changed. Your other log-ins have ended.",
  token: "The token was revoked: programs using it are refused from now on.",
  rss: "Your feed has a new address: update it in your feed reader.",
  profile: "Your profile was saved.",
  email: "Your e-mail address was saved.",
};

/** The member's own account: statistics, uploads, announce URL, passkey, password, tokens, feed. */
export function accountPages(deps: WebDeps) {
  async function render(
    page: PageContext,
    viewer: Viewer,
    request: Request,
    extra: {
      notice?: string;
      errors?: Record<string, string>;
      createdToken?: { token: string };
      tokenName?: string;
      profile?: { bio: string; hideTransfer: boolean };
      email?: string;
    } = {},
  ) {
    const overview = await accountOverview(deps, viewer.id, linksFor(deps.config, request, page.base));
    return (
      <AccountPage
        page={page}
        {...overview}
        tokenLimits={TOKEN_LIMITS}
        passwordLimits={PASSWORD_LIMITS}
        bioLimits={BIO_LIMITS}
        emailMax={EMAIL_MAX}
        {...extra}
      />
    );
  }

  return new Elysia({ name: "account-pages" })
    .use(pageGate(deps))
    .get(
      "/account",
      async ({ page, viewer, request, query, sessionToken, set }) => {
        const token = sessionToken ? await takeNewToken(deps, sessionToken) : null;
        // The one showing of a new token: nothing may keep a copy of this page.
        if (token) set.headers["cache-control"] = "no-store";
        return render(page, viewer, request, {
          notice: query.done ? DONE[query.done] : undefined,
          createdToken: token ? { token } : undefined,
        });
      },
      { member: true, query: optionalTexts({ done: 20 }) },
    )
    .post(
      "/account/passkey",
      async ({ viewer, base, redirect }) => {
        await newPasskey(deps, viewer.id);
        return redirect(`${base}/account?done=passkey`, 303);
      },
      { member: "/account", body: CsrfOnly },
    )
    .post(
      "/account/tokens",
      async ({ page, viewer, request, body, set, sessionToken, base, redirect }) => {
        const result = await createApiToken(deps, viewer.id, body.name);
        if (!result.ok)
          return refusedPage(page, set, result.refusal, {
            form: {
              render: (errors) => render(page, viewer, request, { errors, tokenName: body.name.trim() }),
            },
          });
        // Only the token's hash is stored: the account page shows it once, after a redirect, so a
        // reload does not post the form again. (A member page always has its session token.)
        await holdNewToken(deps, sessionToken!, result.token.token);
        return redirect(`${base}/account#tokens`, 303);
      },
      { member: "/account", body: t.Object({ name: t.String({ maxLength: 200 }), ...CsrfField }) },
    )
    .post(
      "/account/tokens/:id/revoke",
      async ({ page, viewer, params, set, base, redirect }) => {
        const result = await revokeApiToken(deps, viewer.id, params.id);
        if (!result.ok) return refusedPage(page, set, result.refusal);
        return redirect(`${base}/account?done=token`, 303);
      },
      { member: "/account", params: IdParams, body: CsrfOnly },
    )
    .post(
      "/account/rss",
      async ({ viewer, base, redirect }) => {
        await newFeedKey(deps, viewer.id);
        return redirect(`${base}/account?done=rss`, 303);
      },
      { member: "/account", body: CsrfOnly },
    )
    .post(
      "/account/profile",
      async ({ page, viewer, request, body, set, base, redirect }) => {
        // An unticked checkbox is not sent at all: absent means shown.
        const result = await updateProfile(deps, viewer, viewer.id, {
          bio: body.bio,
          hideTransfer: body.hide_transfer === "1",
        });
        if (result.ok) return redirect(`${base}/account?done=profile#profile`, 303);
        return refusedPage(page, set, result.refusal, {
          form: {
            render: (errors) =>
              render(page, viewer, request, {
                errors,
                profile: { bio: body.bio ?? "", hideTransfer: body.hide_transfer === "1" },
              }),
          },
        });
      },
      {
        member: "/account",
        body: t.Object({
          // Browsers send line breaks as CRLF, two characters where the form counted one.
          bio: t.Optional(t.String({ maxLength: BIO_LIMITS.max * 2 })),
          hide_transfer: t.Optional(t.String({ maxLength: 10 })),
          ...CsrfField,
        }),
      },
    )
    .post(
      "/account/email",
      async ({ page, viewer, request, body, set, base, redirect }) => {
        const result = await changeEmail(deps, viewer, viewer.id, body.email);
        if (result.ok) return redirect(`${base}/account?done=email#email`, 303);
        return refusedPage(page, set, result.refusal, {
          form: { render: (errors) => render(page, viewer, request, { errors, email: body.email.trim() }) },
        });
      },
      {
        member: "/account",
        // Twice the limit: the rule (with its readable message) is the service's.
        body: t.Object({ email: t.String({ maxLength: EMAIL_MAX * 2 }), ...CsrfField }),
      },
    )
    .post(
      "/account/password",
      async ({ page, viewer, request, body, set, ip, sessionToken, base, redirect }) => {
        const result = await changePassword(deps, viewer, {
          userId: viewer.id,
          old: body.old,
          password: body.password,
          confirm: body.confirm,
          ip,
          keepSession: sessionToken ?? undefined,
        });
        if (result.ok) return redirect(`${base}/account?done=password`, 303);
        return refusedPage(page, set, result.refusal, {
          form: { render: (errors) => render(page, viewer, request, { errors }) },
        });
      },
      {
        member: "/account",
        body: t.Object({
          old: t.String({ maxLength: PASSWORD_MAX }),
          password: t.String({ maxLength: PASSWORD_MAX }),
          confirm: t.String({ maxLength: PASSWORD_MAX }),
          username: t.Optional(t.String({ maxLength: 64 })),
          ...CsrfField,
        }),
      },
    );
}
