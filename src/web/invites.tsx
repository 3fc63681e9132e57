/** @jsxImportSource @kitajs/html */
import { Elysia, t } from "elysia";
import { InvitesPage } from "../../views/invites.tsx";
import { ErrorPage } from "../../views/layout.tsx";
import { InviteClosedPage, RegisterPage } from "../../views/register.tsx";
import {
  createMemberInvite,
  INVITE_DAYS_DEFAULT,
  INVITE_DAYS_MAX,
  INVITE_DAYS_MIN,
  InviteClosedError,
  type InviteState,
  inviteBySecret,
  MAX_PENDING_INVITES,
  memberInvites,
  registerWithInvite,
  revokeInvite,
} from "../db/queries/invites.ts";
import { nameTaken } from "../db/queries/members.ts";
import { createSession } from "../db/queries/sessions.ts";
import { NameTakenError, nameProblem, PASSWORD_MAX, passwordProblem } from "../db/queries/users.ts";
import { hashPassword } from "../shared/secrets.ts";
import { admit, notFound, parseId } from "./account.tsx";
import { sessionCookie } from "./auth.tsx";
import { type PageContext, publicOrigin, SESSION_COOKIE, type Viewer, webContext } from "./context.ts";
import type { WebDeps } from "./deps.ts";
import { FixedWindowLimiter } from "./rate-limit.ts";

/** Registration attempts allowed per address in each window. */
export const REGISTRATIONS_PER_WINDOW = 10;
export const REGISTRATION_WINDOW_MS = 10 * 60_000;

/** Secrets are 43 characters; anything much longer is not worth a database lookup. */
const SECRET_MAX = 100;
const TAKEN = "This name is taken: choose another.";

/** HTTP status of a page saying why an invite link cannot be used. */
function closedStatus(state: Exclude<InviteState, "open">): number {
  return state === "unknown" ? 404 : 410;
}

/** Making and revoking invites (role `invite`), and joining through an invite link. */
export function inviteRoutes(deps: WebDeps) {
  async function invitesPage(
    page: PageContext,
    viewer: Viewer,
    extra: {
      days?: string;
      errors?: Record<string, string>;
      created?: { link: string; expiresAt: Date };
    } = {},
  ) {
    const { pending, used } = await memberInvites(deps.sql, viewer.id);
    return (
      <InvitesPage
        page={page}
        pending={pending}
        used={used}
        days={extra.days ?? String(INVITE_DAYS_DEFAULT)}
        errors={extra.errors}
        created={extra.created}
      />
    );
  }

  const registrations = new FixedWindowLimiter(REGISTRATIONS_PER_WINDOW, REGISTRATION_WINDOW_MS);
  return new Elysia({ name: "invites" })
    .use(webContext(deps))
    .get("/invites", async (ctx) => {
      const gate = admit(ctx, "/invites", ["invite"]);
      if (!gate.ok) return gate.response;
      return invitesPage(ctx.page, gate.viewer);
    })
    .post(
      "/invites",
      async (ctx) => {
        const gate = admit(ctx, "/invites", ["invite"]);
        if (!gate.ok) return gate.response;
        const { body, set, page, request } = ctx;
        const text = body.days.trim();
        const days = /^[0-9]{1,3}$/.test(text) ? Number(text) : Number.NaN;
        if (!(days >= INVITE_DAYS_MIN && days <= INVITE_DAYS_MAX)) {
          set.status = 422;
          return invitesPage(page, gate.viewer, {
            days: text,
            errors: { days: `Enter a whole number of days from ${INVITE_DAYS_MIN} to ${INVITE_DAYS_MAX}.` },
          });
        }
        const invite = await createMemberInvite(deps.sql, { inviterId: gate.viewer.id, days });
        if (!invite) {
          set.status = 409;
          return invitesPage(page, gate.viewer, {
            days: text,
            errors: {
              form: `You have ${MAX_PENDING_INVITES} open invites, the most allowed. Revoke one or wait until one is used or expires.`,
            },
          });
        }
        // Only the secret's hash is stored: this answer is the one chance to show the link, so it
        // is rendered here rather than after a redirect.
        set.status = 201;
        const link = `${publicOrigin(deps.config.siteUrl, request)}${page.base}/register/${invite.secret}`;
        return invitesPage(page, gate.viewer, { created: { link, expiresAt: invite.expiresAt } });
      },
      {
        body: t.Object({
          days: t.String({ maxLength: 10 }),
          _csrf: t.Optional(t.String({ maxLength: 200 })),
        }),
      },
    )
    .post(
      "/invites/:id/revoke",
      async (ctx) => {
        const gate = admit(ctx, "/invites", ["invite"]);
        if (!gate.ok) return gate.response;
        const id = parseId(ctx.params.id);
        if (id === null || !(await revokeInvite(deps.sql, id, gate.viewer.id)))
          return notFound(ctx.page, ctx.set, "You have no open invite with this number.");
        return ctx.redirect(`${ctx.base}/invites`, 303);
      },
      { body: t.Optional(t.Object({ _csrf: t.Optional(t.String({ maxLength: 200 })) })) },
    )
    .get("/register/:secret", async ({ page, params, set }) => {
      // Elysia hands over null for a path that is not valid percent-encoded UTF-8.
      const secret = typeof params.secret === "string" ? params.secret : "";
      const { state, inviter } =
        secret.length > SECRET_MAX
          ? { state: "unknown" as const, inviter: null }
          : await inviteBySecret(deps.sql, secret);
      if (state !== "open") {
        set.status = closedStatus(state);
        return <InviteClosedPage page={page} state={state} />;
      }
      return <RegisterPage page={page} secret={secret} inviter={inviter} />;
    })
    .post(
      "/register/:secret",
      async ({ page, base, ip, params, body, set, cookie, redirect }) => {
        // Registration tries are limited per address, so an invite link cannot be hammered.
        const allowed = registrations.hit(ip);
        if (!allowed.allowed) {
          set.status = 429;
          set.headers["retry-after"] = String(allowed.resetSeconds);
          return (
            <ErrorPage
              page={page}
              status={429}
              title="Too many tries"
              message={`Too many registration attempts from your address. Try again in ${Math.ceil(allowed.resetSeconds / 60)} minutes.`}
            />
          );
        }
        // Elysia hands over null for a path that is not valid percent-encoded UTF-8.
        const secret = typeof params.secret === "string" ? params.secret : "";
        const { state, inviter } =
          secret.length > SECRET_MAX
            ? { state: "unknown" as const, inviter: null }
            : await inviteBySecret(deps.sql, secret);
        if (state !== "open") {
          set.status = closedStatus(state);
          return <InviteClosedPage page={page} state={state} />;
        }
        const name = body.name.trim();
        const errors: Record<string, string> = {};
        const nameError = nameProblem(name);
        if (nameError) errors.name = nameError;
        else if (await nameTaken(deps.sql, name)) errors.name = TAKEN;
        const passwordError = passwordProblem(body.password);
        if (passwordError) errors.password = passwordError;
        else if (body.confirm !== body.password) errors.confirm = "The two passwords differ.";
        const again = (problems: Record<string, string>) => {
          set.status = 422;
          return <RegisterPage page={page} secret={secret} inviter={inviter} name={name} errors={problems} />;
        };
        if (Object.keys(errors).length) return again(errors);
        const passwordHash = await hashPassword(body.password, deps.pepper);
        let id: number;
        try {
          ({ id } = await registerWithInvite(deps.sql, { secret, name, passwordHash }));
        } catch (error) {
          if (error instanceof NameTakenError) return again({ name: TAKEN });
          if (!(error instanceof InviteClosedError)) throw error;
          // Claimed, revoked or expired since the check above: say which.
          const now = await inviteBySecret(deps.sql, secret);
          const closed = now.state === "open" ? "used" : now.state;
          set.status = closedStatus(closed);
          return <InviteClosedPage page={page} state={closed} />;
        }
        await deps.sync.user(id);
        cookie[SESSION_COOKIE]!.set(sessionCookie(deps, base, await createSession(deps.sql, id)));
        return redirect(`${base}/torrents`, 303);
      },
      {
        body: t.Object({
          name: t.String({ maxLength: 64 }),
          password: t.String({ maxLength: PASSWORD_MAX }),
          confirm: t.String({ maxLength: PASSWORD_MAX }),
          _csrf: t.Optional(t.String({ maxLength: 200 })),
        }),
      },
    );
}
