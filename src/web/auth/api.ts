import { type Cookie, Elysia, t } from "elysia";
import { type ApiLimiters, apiContext } from "../api/context.ts";
import { ApiError, accepted, fail } from "../api/errors.ts";
import { errors, Me, meBody } from "../api/schemas.ts";
import { csrfToken, SESSION_COOKIE, sessionCookie } from "../context.tsx";
import type { WebDeps } from "../deps.ts";
import { type Links, linksFor } from "../links.ts";
import { findMember } from "../members/service.ts";
import { logIn, logOut } from "./service.ts";

/** The `Me` answer for a member: their account, announce URL and how they are calling. */
export async function meAnswer(
  deps: WebDeps,
  userId: number,
  auth: "session" | "token",
  csrf: string | null,
  links: Links,
): Promise<typeof Me.static> {
  const member = await findMember(deps, userId);
  if (!member) throw fail.notFound("This account no longer exists.");
  return meBody(member, links.announce(member.passkey), auth, csrf);
}

/** A new session's answer, for logging in and registering alike: its cookie set, its member as `Me`. */
export function sessionStarted(
  deps: WebDeps,
  ctx: { cookie: Record<string, Cookie<unknown>>; base: string; request: Request },
  session: { userId: number; token: string },
): Promise<typeof Me.static> {
  ctx.cookie[SESSION_COOKIE]!.set(sessionCookie(deps.config, ctx.base, session.token));
  const links = linksFor(deps.config, ctx.request, ctx.base);
  return meAnswer(deps, session.userId, "session", csrfToken(session.token), links);
}

export const Credentials = t.Object(
  {
    name: t.String({ minLength: 1, maxLength: 64, description: "The member's name" }),
    password: t.String({ minLength: 1, maxLength: 1024, description: "The member's password" }),
  },
  { examples: [{ name: "alice", password: "correct horse battery" }] },
);

/** Log in, log out, who am I. */
export function authApi(deps: WebDeps, limiters: ApiLimiters) {
  return new Elysia({ name: "api-session" })
    .use(apiContext(deps, limiters))
    .post(
      "/session",
      async ({ body, ip, base, cookie, set, request }) => {
        const session = accepted(await logIn(deps, { name: body.name, password: body.password, ip }));
        set.status = 200;
        return sessionStarted(deps, { cookie, base, request }, session);
      },
      {
        body: Credentials,
        response: { 200: Me, ...errors(400, 401, 403, 422) },
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
        if (caller.via !== "session" || !sessionToken)
          throw new ApiError(
            "bad_request",
            "This call was made with an API token, which is not a session: revoke tokens on the account page.",
          );
        await logOut(deps, sessionToken);
        cookie[SESSION_COOKIE]!.set(sessionCookie(deps.config, base, "", 0));
        set.status = 204;
        return null;
      },
      {
        member: true,
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
      ({ caller, request, base }) =>
        meAnswer(deps, caller.id, caller.via, caller.csrf, linksFor(deps.config, request, base)),
      {
        member: true,
        response: { 200: Me, ...errors(401) },
        detail: { tags: ["Session"], summary: "Who am I", description: "The calling member." },
      },
    );
}
