import { Elysia, t } from "elysia";
import {
  clearLoginFailures,
  FAILURE_WINDOW_MINUTES,
  loginThrottled,
  recordLoginFailure,
  userForLogin,
} from "../../db/queries/logins.ts";
import { memberDetail } from "../../db/queries/members.ts";
import { createSession, deleteSession } from "../../db/queries/sessions.ts";
import { hashPassword, verifyPassword } from "../../shared/secrets.ts";
import { sessionCookie } from "../auth.tsx";
import { csrfToken, SESSION_COOKIE } from "../context.ts";
import type { WebDeps } from "../deps.ts";
import { type ApiLimiters, apiContext, requireCaller } from "./context.ts";
import { ApiError, fail } from "./errors.ts";
import { errors, Me, userBody } from "./schemas.ts";

/** The `Me` body of a member: their account, announce URL and how they are calling. */
export async function meBody(
  deps: WebDeps,
  userId: number,
  auth: "session" | "token",
  csrf: string | null,
): Promise<typeof Me.static> {
  const member = await memberDetail(deps.sql, userId);
  if (!member) throw fail.notFound("This account no longer exists.");
  return {
    ...userBody(member),
    announce_url: `${deps.config.trackerUrl}/${member.passkey}/announce`,
    auth,
    csrf,
  };
}

export const Credentials = t.Object({
  name: t.String({ minLength: 1, maxLength: 64 }),
  password: t.String({ minLength: 1, maxLength: 1024 }),
});

/** Log in, log out, who am I. */
export function sessionApi(deps: WebDeps, limiters: ApiLimiters) {
  // As on the log-in page: unknown names cost one argon2 verification too.
  const dummyHash = hashPassword("not a real password", deps.pepper);
  return new Elysia({ name: "api-session" })
    .use(apiContext(deps, limiters))
    .post(
      "/session",
      async ({ body, ip, base, cookie, set }) => {
        const name = body.name.trim();
        if (await loginThrottled(deps.sql, name, ip))
          throw new ApiError(
            "rate_limited",
            `Too many failed log-ins. Wait ${FAILURE_WINDOW_MINUTES} minutes and try again.`,
            undefined,
            { "retry-after": String(FAILURE_WINDOW_MINUTES * 60) },
          );
        const user = await userForLogin(deps.sql, name);
        const ok = await verifyPassword(body.password, user?.password_hash ?? (await dummyHash), deps.pepper);
        if (!user || !ok) {
          await recordLoginFailure(deps.sql, name, ip);
          throw new ApiError("unauthenticated", "Wrong name or password.");
        }
        if (user.disabled) throw fail.forbidden("This account is disabled.");
        await clearLoginFailures(deps.sql, name);
        const token = await createSession(deps.sql, user.id);
        cookie[SESSION_COOKIE]!.set(sessionCookie(deps, base, token));
        set.status = 200;
        return meBody(deps, user.id, "session", csrfToken(token));
      },
      {
        body: Credentials,
        response: { 200: Me, ...errors(401, 403, 422) },
        detail: {
          tags: ["Session"],
          summary: "Log in",
          description:
            "Checks the name and password and starts a session: sets the site's session cookie and returns the member with the CSRF token that changes made with the cookie must send as X-CSRF-Token. Failed log-ins are throttled as on the log-in page.",
          security: [],
        },
      },
    )
    .delete(
      "/session",
      async ({ caller, sessionToken, base, cookie, set }) => {
        const me = requireCaller(caller);
        if (me.via !== "session" || !sessionToken)
          throw new ApiError(
            "bad_request",
            "This call was made with an API token, which is not a session: revoke tokens on the account page.",
          );
        await deleteSession(deps.sql, sessionToken);
        cookie[SESSION_COOKIE]!.set(sessionCookie(deps, base, "", 0));
        set.status = 204;
        return null;
      },
      {
        response: { 204: t.Null({ description: "Logged out" }), ...errors(400, 401, 403) },
        detail: {
          tags: ["Session"],
          summary: "Log out",
          description: "Ends the session of the cookie sent and clears the cookie.",
        },
      },
    )
    .get(
      "/me",
      ({ caller }) => {
        const me = requireCaller(caller);
        return meBody(deps, me.id, me.via, me.csrf);
      },
      {
        response: { 200: Me, ...errors(401) },
        detail: { tags: ["Session"], summary: "Who am I", description: "The calling member." },
      },
    );
}
