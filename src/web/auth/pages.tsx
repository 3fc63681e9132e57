/** @jsxImportSource @kitajs/html */
import { type Cookie, Elysia, t } from "elysia";
import { LoginPage } from "../../../views/auth/login.tsx";
import { SecondFactorPage } from "../../../views/auth/second-factor.tsx";
import type { Config } from "../../config.ts";
import { passkeysOf, totpOf } from "../../db/queries/two-factor.ts";
import {
  type PageContext,
  type RefusedSet,
  refusedPage,
  SESSION_COOKIE,
  sessionCookie,
  webContext,
} from "../context.tsx";
import type { WebDeps } from "../deps.ts";
import { REFUSAL_STATUS } from "../refusal.ts";
import { CsrfField } from "../schemas.ts";
import { relyingParty, SECOND_FACTOR_WAIT_SECONDS } from "./second-factor.ts";
import {
  finishLogIn,
  finishPasskeyLogIn,
  logIn,
  logOut,
  nextAfterLogIn,
  passkeyChallenge,
  waitingLogIn,
} from "./service.ts";

/** The cookie of a log-in whose password was right and that waits for its second factor. */
export const WAIT_COOKIE = "fw_wait";

function waitCookie(config: Config, base: string, value: string, seconds = SECOND_FACTOR_WAIT_SECONDS) {
  return { ...sessionCookie(config, base, value), maxAge: seconds };
}

/** The log-in page (both steps) and logging out. */
export function authPages(deps: WebDeps) {
  async function secondStep(
    page: PageContext,
    set: RefusedSet,
    wait: { userId: number; name: string },
    next: string | undefined,
    errors?: Record<string, string>,
  ) {
    const totp = await totpOf(deps.sql, wait.userId);
    const keys = await passkeysOf(deps.sql, wait.userId);
    if (errors) set.headers["cache-control"] = "no-store";
    return (
      <SecondFactorPage
        page={page}
        name={wait.name}
        next={next}
        codes={Boolean(totp?.confirmedAt)}
        passkeys={keys.length > 0}
        errors={errors}
      />
    );
  }
  const startSession = (cookie: Record<string, Cookie<unknown>>, base: string, token: string) => {
    cookie[SESSION_COOKIE]!.set(sessionCookie(deps.config, base, token));
    cookie[WAIT_COOKIE]!.set(waitCookie(deps.config, base, "", 0));
  };
  const waitOf = (cookie: Record<string, Cookie<unknown>>) => {
    const value = cookie[WAIT_COOKIE]?.value;
    return typeof value === "string" && value.length > 0 ? value : null;
  };

  return new Elysia({ name: "auth-pages" })
    .use(webContext(deps))
    .get(
      "/login",
      ({ page, viewer, base, query, redirect }) => {
        const next = nextAfterLogIn(query.next, base);
        if (viewer) return redirect(next, 303);
        const notice = query.done === "reset" ? "Your password was changed: log in with it." : undefined;
        return <LoginPage page={page} next={query.next ? next : undefined} notice={notice} />;
      },
      {
        query: t.Object({
          next: t.Optional(t.String({ maxLength: 2000 })),
          done: t.Optional(t.String({ maxLength: 20 })),
        }),
      },
    )
    .post(
      "/login",
      async ({ page, base, ip, body, cookie, set, redirect }) => {
        // Settled before the session exists: whatever `next` holds, the answer is a clean redirect.
        const next = nextAfterLogIn(body.next, base);
        const result = await logIn(deps, { name: body.name, password: body.password, ip, mayWait: true });
        if (result.ok && "token" in result) {
          startSession(cookie, base, result.token);
          return redirect(next, 303);
        }
        if (result.ok) {
          cookie[WAIT_COOKIE]!.set(waitCookie(deps.config, base, result.wait));
          const query = body.next ? `?next=${encodeURIComponent(next)}` : "";
          return redirect(`${base}/login/second${query}`, 303);
        }
        return refusedPage(page, set, result.refusal, {
          form: {
            field: "form",
            render: (errors) => (
              <LoginPage
                page={page}
                name={body.name.trim()}
                next={body.next ? next : undefined}
                errors={errors}
              />
            ),
          },
        });
      },
      {
        body: t.Object({
          name: t.String({ maxLength: 64 }),
          password: t.String({ maxLength: 1024 }),
          next: t.Optional(t.String({ maxLength: 2000 })),
          ...CsrfField,
        }),
      },
    )
    .get(
      "/login/second",
      async ({ page, set, cookie, query, base, redirect }) => {
        const wait = await waitingLogIn(deps, waitOf(cookie));
        if (!wait) return redirect(`${base}/login`, 303);
        return secondStep(page, set, wait, query.next ? nextAfterLogIn(query.next, base) : undefined);
      },
      { query: t.Object({ next: t.Optional(t.String({ maxLength: 2000 })) }) },
    )
    .post(
      "/login/second",
      async ({ page, set, cookie, query, base, ip, body, redirect }) => {
        const next = nextAfterLogIn(query.next, base);
        const waitToken = waitOf(cookie);
        const result = await finishLogIn(deps, { waitToken, code: body.code, ip });
        if (result.ok) {
          startSession(cookie, base, result.token);
          return redirect(next, 303);
        }
        const wait = await waitingLogIn(deps, waitToken);
        if (!wait) return refusedPage(page, set, result.refusal);
        set.status = REFUSAL_STATUS[result.refusal.code];
        if (result.refusal.retryAfterSeconds)
          set.headers["retry-after"] = String(result.refusal.retryAfterSeconds);
        const errors = result.refusal.fields
          ? { ...result.refusal.fields }
          : { form: result.refusal.message };
        return secondStep(page, set, wait, query.next ? next : undefined, errors);
      },
      {
        query: t.Object({ next: t.Optional(t.String({ maxLength: 2000 })) }),
        body: t.Object({ code: t.String({ maxLength: 64 }), ...CsrfField }),
      },
    )
    .post("/login/second/passkey/options", async ({ cookie, request, set }) => {
      const result = await passkeyChallenge(deps, waitOf(cookie), relyingParty(deps.config, request).id);
      if (!result.ok) {
        set.status = REFUSAL_STATUS[result.refusal.code];
        return { error: { message: result.refusal.message } };
      }
      return result.options;
    })
    .post(
      "/login/second/passkey",
      async ({ cookie, request, set, ip, body, query, base }) => {
        const next = nextAfterLogIn(query.next, base);
        const result = await finishPasskeyLogIn(deps, {
          waitToken: waitOf(cookie),
          response: body,
          ip,
          rp: relyingParty(deps.config, request),
        });
        if (!result.ok) {
          set.status = REFUSAL_STATUS[result.refusal.code];
          return { error: { message: result.refusal.message } };
        }
        startSession(cookie, base, result.token);
        return { location: next };
      },
      {
        query: t.Object({ next: t.Optional(t.String({ maxLength: 2000 })) }),
        body: t.Object({}, { additionalProperties: true }),
      },
    )
    .post("/logout", async ({ base, sessionToken, cookie, redirect }) => {
      if (sessionToken) await logOut(deps, sessionToken);
      cookie[SESSION_COOKIE]!.set(sessionCookie(deps.config, base, "", 0));
      return redirect(`${base}/login`, 303);
    });
}
