/** @jsxImportSource @kitajs/html */
import { Elysia, t } from "elysia";
import { TwoFactorPage } from "../../../views/two-factor/two-factor.tsx";
import { leaveSessionNote, takeSessionNote } from "../../db/queries/sessions.ts";
import { PASSWORD_MAX } from "../../db/queries/users.ts";
import { seal, unseal } from "../../shared/secrets.ts";
import { relyingParty } from "../auth/second-factor.ts";
import { type PageContext, type RefusedSet, refusedPage, type Viewer } from "../context.tsx";
import type { WebDeps } from "../deps.ts";
import { pageGate } from "../gate.tsx";
import { REFUSAL_STATUS, type Refused } from "../refusal.ts";
import { CsrfField, CsrfOnly, IdParams, optionalTexts } from "../schemas.ts";
import {
  addPasskeyFor,
  confirmTotp,
  PASSKEY_NAME_MAX,
  passkeyRegistrationOptions,
  pendingTotp,
  removePasskey,
  removeTotp,
  replaceRecoveryCodesWithPassword,
  startTotpEnrolment,
  twoFactorOverview,
} from "./service.ts";

const DONE: Record<string, string> = {
  totp: "Your authenticator app is on: log-ins now ask for its code.",
  "totp-removed": "The authenticator app was removed.",
  passkey: "The passkey was added: log-ins can use it instead of a code.",
  "passkey-removed": "The passkey was removed.",
  required: "",
};

const CODES_NOTE = "new recovery codes";
const CODES_SECONDS = 300;

const Consent = t.Object({
  password: t.Optional(t.String({ maxLength: PASSWORD_MAX })),
  recovery_code: t.Optional(t.String({ maxLength: 64 })),
  ...CsrfField,
});

/** The member's own second factors: authenticator app, passkeys and recovery codes. */
export function twoFactorPages(deps: WebDeps) {
  async function render(
    page: PageContext,
    viewer: Viewer,
    set: RefusedSet,
    extra: {
      notice?: string;
      errors?: Record<string, string>;
      recoveryCodes?: string[] | null;
      pending?: { secret: string; uri: string } | null;
      required?: boolean;
    } = {},
  ) {
    const overview = await twoFactorOverview(deps, viewer.id);
    // Secrets and recovery codes are on this page: nothing may keep a copy of it.
    set.headers["cache-control"] = "no-store";
    return (
      <TwoFactorPage
        page={page}
        {...overview}
        pendingTotp={extra.pending === undefined ? await pendingTotp(deps, viewer) : extra.pending}
        recoveryCodes={extra.recoveryCodes}
        required={extra.required}
        notice={extra.notice}
        errors={extra.errors}
        passkeyNameMax={PASSKEY_NAME_MAX}
      />
    );
  }
  const refused = (page: PageContext, viewer: Viewer, set: RefusedSet, result: Refused) =>
    refusedPage(page, set, result.refusal, {
      form: { field: "form", render: (errors) => render(page, viewer, set, { errors }) },
    });

  return new Elysia({ name: "two-factor-pages" })
    .use(pageGate(deps))
    .get(
      "/account/two-factor",
      async ({ page, viewer, set, query, sessionToken }) => {
        const sealed = sessionToken ? await takeSessionNote(deps.sql, sessionToken) : null;
        const held = sealed && sessionToken ? unseal(sealed, sessionToken, CODES_NOTE) : null;
        return render(page, viewer, set, {
          notice: query.done ? DONE[query.done] || undefined : undefined,
          recoveryCodes: held ? (JSON.parse(held) as string[]) : null,
          required: query.done === "required",
        });
      },
      { member: true, query: optionalTexts({ done: 20 }) },
    )
    .post(
      "/account/two-factor/totp",
      async ({ page, viewer, set }) => {
        const result = await startTotpEnrolment(deps, viewer);
        if (!result.ok) return refused(page, viewer, set, result);
        return render(page, viewer, set, { pending: result });
      },
      { member: "/account/two-factor", body: CsrfOnly },
    )
    .post(
      "/account/two-factor/totp/confirm",
      async ({ page, viewer, set, body }) => {
        const result = await confirmTotp(deps, viewer, body.code);
        if (!result.ok) return refused(page, viewer, set, result);
        return render(page, viewer, set, { notice: DONE.totp, recoveryCodes: result.recoveryCodes });
      },
      {
        member: "/account/two-factor",
        body: t.Object({ code: t.String({ maxLength: 10 }), ...CsrfField }),
      },
    )
    .post(
      "/account/two-factor/totp/remove",
      async ({ page, viewer, set, body, ip, base, redirect }) => {
        const result = await removeTotp(deps, viewer, {
          password: body.password,
          recoveryCode: body.recovery_code,
          ip,
        });
        if (!result.ok) return refused(page, viewer, set, result);
        return redirect(`${base}/account/two-factor?done=totp-removed`, 303);
      },
      { member: "/account/two-factor", body: Consent },
    )
    .post(
      "/account/two-factor/recovery-codes",
      async ({ page, viewer, set, body, ip }) => {
        const result = await replaceRecoveryCodesWithPassword(deps, viewer, { password: body.password, ip });
        if (!result.ok) return refused(page, viewer, set, result);
        return render(page, viewer, set, { recoveryCodes: result.recoveryCodes });
      },
      {
        member: "/account/two-factor",
        body: t.Object({ password: t.Optional(t.String({ maxLength: PASSWORD_MAX })), ...CsrfField }),
      },
    )
    .post(
      "/account/two-factor/passkeys/options",
      async ({ viewer, request, sessionToken }) =>
        passkeyRegistrationOptions(deps, viewer, sessionToken!, relyingParty(deps.config, request)),
      { member: "/account/two-factor", body: CsrfOnly },
    )
    .post(
      "/account/two-factor/passkeys",
      async ({ viewer, request, sessionToken, body, set, base }) => {
        const result = await addPasskeyFor(deps, viewer, {
          sessionToken: sessionToken!,
          name: body.name,
          response: body.response,
          rp: relyingParty(deps.config, request),
        });
        if (!result.ok) {
          set.status = REFUSAL_STATUS[result.refusal.code];
          return { error: { message: result.refusal.message } };
        }
        // First factor: its recovery codes wait, sealed to this session, for the page that shows them.
        if (result.recoveryCodes)
          await leaveSessionNote(
            deps.sql,
            sessionToken!,
            seal(JSON.stringify(result.recoveryCodes), sessionToken!, CODES_NOTE),
            CODES_SECONDS,
          );
        return { location: `${base}/account/two-factor?done=passkey` };
      },
      {
        member: "/account/two-factor",
        body: t.Object({
          name: t.String({ maxLength: 200 }),
          response: t.Object({}, { additionalProperties: true }),
          ...CsrfField,
        }),
      },
    )
    .post(
      "/account/two-factor/passkeys/:id/remove",
      async ({ page, viewer, set, body, ip, params, base, redirect }) => {
        const result = await removePasskey(deps, viewer, params.id, {
          password: body.password,
          recoveryCode: body.recovery_code,
          ip,
        });
        if (!result.ok) return refused(page, viewer, set, result);
        return redirect(`${base}/account/two-factor?done=passkey-removed`, 303);
      },
      { member: "/account/two-factor", params: IdParams, body: Consent },
    );
}
