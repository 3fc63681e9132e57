/** @jsxImportSource @kitajs/html */
import { Elysia, t } from "elysia";
import { LoginPage } from "../../../views/auth/login.tsx";
import { SESSION_COOKIE, sessionCookie, webContext } from "../context.tsx";
import type { WebDeps } from "../deps.ts";
import { CsrfField } from "../schemas.ts";
import { logIn, logOut } from "./service.ts";

/** Where to go after logging in: only a path on this site, never another host. */
export function safeNext(next: string | undefined, base: string): string {
  if (next?.startsWith("/") && !next.startsWith("//") && !next.includes("\\")) return next;
  return `${base}/`;
}

/** The log-in page and logging out. */
export function authPages(deps: WebDeps) {
  return new Elysia({ name: "auth-pages" })
    .use(webContext(deps))
    .get(
      "/login",
      ({ page, viewer, base, query, redirect }) => {
        if (viewer) return redirect(safeNext(query.next, base), 303);
        return <LoginPage page={page} next={query.next} />;
      },
      { query: t.Object({ next: t.Optional(t.String({ maxLength: 2000 })) }) },
    )
    .post(
      "/login",
      async ({ page, base, ip, body, cookie, set, redirect }) => {
        const result = await logIn(deps, { name: body.name, password: body.password, ip });
        if (result.ok) {
          cookie[SESSION_COOKIE]!.set(sessionCookie(deps.config, base, result.token));
          return redirect(safeNext(body.next, base), 303);
        }
        const again = (status: number, errors: Record<string, string>) => {
          set.status = status;
          return <LoginPage page={page} name={body.name.trim()} next={body.next} errors={errors} />;
        };
        switch (result.problem) {
          case "invalid":
            return again(422, result.fields);
          case "throttled":
            set.headers["retry-after"] = String(result.retryAfterSeconds);
            return again(429, { form: result.message });
          case "wrong":
            return again(401, { form: result.message });
          case "disabled":
            return again(403, { form: result.message });
        }
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
