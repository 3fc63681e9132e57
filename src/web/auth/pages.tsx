/** @jsxImportSource @kitajs/html */
import { Elysia, t } from "elysia";
import { LoginPage } from "../../../views/auth/login.tsx";
import { refusedPage, SESSION_COOKIE, sessionCookie, webContext } from "../context.tsx";
import type { WebDeps } from "../deps.ts";
import { CsrfField } from "../schemas.ts";
import { logIn, logOut, nextAfterLogIn } from "./service.ts";

/** The log-in page and logging out. */
export function authPages(deps: WebDeps) {
  return new Elysia({ name: "auth-pages" })
    .use(webContext(deps))
    .get(
      "/login",
      ({ page, viewer, base, query, redirect }) => {
        const next = nextAfterLogIn(query.next, base);
        if (viewer) return redirect(next, 303);
        return <LoginPage page={page} next={query.next ? next : undefined} />;
      },
      { query: t.Object({ next: t.Optional(t.String({ maxLength: 2000 })) }) },
    )
    .post(
      "/login",
      async ({ page, base, ip, body, cookie, set, redirect }) => {
        // Settled before the session exists: whatever `next` holds, the answer is a clean redirect.
        const next = nextAfterLogIn(body.next, base);
        const result = await logIn(deps, { name: body.name, password: body.password, ip });
        if (result.ok) {
          cookie[SESSION_COOKIE]!.set(sessionCookie(deps.config, base, result.token));
          return redirect(next, 303);
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
    .post("/logout", async ({ base, sessionToken, cookie, redirect }) => {
      if (sessionToken) await logOut(deps, sessionToken);
      cookie[SESSION_COOKIE]!.set(sessionCookie(deps.config, base, "", 0));
      return redirect(`${base}/login`, 303);
    });
}
