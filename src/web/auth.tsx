/** @jsxImportSource @kitajs/html */
import { Elysia, t } from "elysia";
import { LoginPage } from "../../views/login.tsx";
import {
  clearLoginFailures,
  FAILURE_WINDOW_MINUTES,
  loginThrottled,
  recordLoginFailure,
  userForLogin,
} from "../db/queries/logins.ts";
import { createSession, deleteSession, SESSION_DAYS } from "../db/queries/sessions.ts";
import { hashPassword, verifyPassword } from "../shared/secrets.ts";
import { SESSION_COOKIE, webContext } from "./context.ts";
import type { WebDeps } from "./deps.ts";

/** Where to go after logging in: only a path on this site, never another host. */
export function safeNext(next: string | undefined, base: string): string {
  if (next?.startsWith("/") && !next.startsWith("//") && !next.includes("\\")) return next;
  return `${base}/torrents`;
}

/** Sets the session cookie: HttpOnly, SameSite=Lax, Secure behind HTTPS. */
export function sessionCookie(deps: WebDeps, base: string, value: string, days = SESSION_DAYS) {
  return {
    value,
    httpOnly: true,
    sameSite: "lax" as const,
    secure: deps.config.webapi.secure,
    path: base || "/",
    maxAge: days * 86400,
  };
}

/** Log in and log out. */
export function authRoutes(deps: WebDeps) {
  // Unknown names still cost one argon2 verification, so timing does not reveal which names exist.
  const dummyHash = hashPassword("not a real password", deps.pepper);
  return new Elysia({ name: "auth" })
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
        const name = body.name.trim();
        const errors: Record<string, string> = {};
        if (!name) errors.name = "Enter your name.";
        if (!body.password) errors.password = "Enter your password.";
        if (Object.keys(errors).length) {
          set.status = 422;
          return <LoginPage page={page} name={name} next={body.next} errors={errors} />;
        }
        if (await loginThrottled(deps.sql, name, ip)) {
          set.status = 429;
          set.headers["retry-after"] = String(FAILURE_WINDOW_MINUTES * 60);
          return (
            <LoginPage
              page={page}
              name={name}
              next={body.next}
              errors={{
                form: `Too many failed log-ins. Wait ${FAILURE_WINDOW_MINUTES} minutes and try again.`,
              }}
            />
          );
        }
        const user = await userForLogin(deps.sql, name);
        const ok = await verifyPassword(body.password, user?.password_hash ?? (await dummyHash), deps.pepper);
        if (!user || !ok) {
          await recordLoginFailure(deps.sql, name, ip);
          set.status = 401;
          return (
            <LoginPage
              page={page}
              name={name}
              next={body.next}
              errors={{ form: "Wrong name or password." }}
            />
          );
        }
        if (user.disabled) {
          set.status = 403;
          return (
            <LoginPage
              page={page}
              name={name}
              next={body.next}
              errors={{ form: "This account is disabled." }}
            />
          );
        }
        await clearLoginFailures(deps.sql, name);
        cookie[SESSION_COOKIE]!.set(sessionCookie(deps, base, await createSession(deps.sql, user.id)));
        return redirect(safeNext(body.next, base), 303);
      },
      {
        body: t.Object({
          name: t.String({ maxLength: 64 }),
          password: t.String({ maxLength: 1024 }),
          next: t.Optional(t.String({ maxLength: 2000 })),
          _csrf: t.Optional(t.String({ maxLength: 200 })),
        }),
      },
    )
    .post("/logout", async ({ base, sessionToken, cookie, redirect }) => {
      if (sessionToken) await deleteSession(deps.sql, sessionToken);
      cookie[SESSION_COOKIE]!.set(sessionCookie(deps, base, "", 0));
      return redirect(`${base}/login`, 303);
    });
}
