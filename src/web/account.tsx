/** @jsxImportSource @kitajs/html */
import { Elysia, t } from "elysia";
import { AccountPage } from "../../views/account.tsx";
import { ErrorPage } from "../../views/layout.tsx";
import { FAILURE_WINDOW_MINUTES, loginThrottled, recordLoginFailure } from "../db/queries/logins.ts";
import {
  memberDetail,
  memberUploads,
  passwordHash,
  rotatePasskey,
  setPasswordHash,
} from "../db/queries/members.ts";
import { deleteOtherSessions } from "../db/queries/sessions.ts";
import {
  createToken,
  MAX_TOKENS,
  memberTokens,
  type NewToken,
  revokeToken,
  rotateRssKey,
  rssKey,
  TOKEN_NAME_MAX,
} from "../db/queries/tokens.ts";
import { PASSWORD_MAX, passwordProblem, type Role } from "../db/queries/users.ts";
import { hashPassword, verifyPassword } from "../shared/secrets.ts";
import { type PageContext, publicOrigin, type Viewer, webContext } from "./context.ts";
import type { WebDeps } from "./deps.ts";

/** Who may go on: the viewer, or what to answer instead (a log-in redirect or a 403 page). */
export type Gate =
  | { ok: true; viewer: Viewer }
  | { ok: false; response: Response | string | Promise<string> };

/**
 * The permission check of a member page: logged-out visitors are sent to log in (and back to
 * `next`, a path without the base), members holding none of `anyOf` (when given) get a 403 page.
 */
export function admit(
  ctx: {
    page: PageContext;
    viewer: Viewer | null;
    set: { status?: number | string };
    redirect: (url: string, status: 303) => Response;
  },
  next: string,
  anyOf: readonly Role[] = [],
): Gate {
  const { page, viewer } = ctx;
  if (!viewer) {
    return {
      ok: false,
      response: ctx.redirect(`${page.base}/login?next=${encodeURIComponent(page.base + next)}`, 303),
    };
  }
  if (anyOf.length && !anyOf.some((role) => viewer.can(role))) {
    ctx.set.status = 403;
    const needed = anyOf.length === 1 ? `the ${anyOf[0]} role` : `one of the roles ${anyOf.join(", ")}`;
    return {
      ok: false,
      response: (
        <ErrorPage
          page={page}
          status={403}
          title="Not allowed"
          message={`This page needs ${needed}, which your account does not have.`}
        />
      ),
    };
  }
  return { ok: true, viewer };
}

/** A database id from a path segment, or null when it cannot be one. */
export function parseId(text: string): number | null {
  return /^[1-9][0-9]{0,14}$/.test(text) ? Number(text) : null;
}

/** A 404 page for something that is not (or no longer) there. */
export function notFound(page: PageContext, set: { status?: number | string }, message: string) {
  set.status = 404;
  return <ErrorPage page={page} status={404} title="Not found" message={message} />;
}

const DONE: Record<string, string> = {
  passkey: "Your passkey changed: download your .torrent files again.",
  password: "Your password changed. Your other log-ins have ended.",
  token: "The token was revoked: programs using it are refused from now on.",
  rss: "Your feed has a new address: update it in your feed reader.",
};

/** The member's own account: statistics, uploads, announce URL, new passkey, new password. */
export function accountRoutes(deps: WebDeps) {
  async function render(
    page: PageContext,
    viewer: Viewer,
    request: Request,
    extra: {
      notice?: string;
      errors?: Record<string, string>;
      createdToken?: NewToken;
      tokenName?: string;
    } = {},
  ) {
    const member = await memberDetail(deps.sql, viewer.id);
    if (!member) throw new Error(`member ${viewer.id} of a live session is missing`);
    const uploads = await memberUploads(deps.sql, viewer.id);
    const announceUrl = `${deps.config.trackerUrl}/${member.passkey}/announce`;
    const tokens = await memberTokens(deps.sql, viewer.id);
    const feedUrl = `${publicOrigin(deps.config.siteUrl, request)}${page.base}/rss/${await rssKey(deps.sql, viewer.id)}`;
    return (
      <AccountPage
        page={page}
        member={member}
        uploads={uploads}
        announceUrl={announceUrl}
        tokens={tokens}
        feedUrl={feedUrl}
        {...extra}
      />
    );
  }

  return new Elysia({ name: "account" })
    .use(webContext(deps))
    .get(
      "/account",
      async (ctx) => {
        const gate = admit(ctx, "/account");
        if (!gate.ok) return gate.response;
        return render(ctx.page, gate.viewer, ctx.request, {
          notice: ctx.query.done ? DONE[ctx.query.done] : undefined,
        });
      },
      { query: t.Object({ done: t.Optional(t.String({ maxLength: 20 })) }) },
    )
    .post(
      "/account/passkey",
      async (ctx) => {
        const gate = admit(ctx, "/account");
        if (!gate.ok) return gate.response;
        await rotatePasskey(deps.sql, gate.viewer.id);
        await deps.sync.user(gate.viewer.id);
        return ctx.redirect(`${ctx.base}/account?done=passkey`, 303);
      },
      { body: t.Optional(t.Object({ _csrf: t.Optional(t.String({ maxLength: 200 })) })) },
    )
    .post(
      "/account/tokens",
      async (ctx) => {
        const gate = admit(ctx, "/account");
        if (!gate.ok) return gate.response;
        const name = ctx.body.name.trim();
        const again = (status: number, errors: Record<string, string>) => {
          ctx.set.status = status;
          return render(ctx.page, gate.viewer, ctx.request, { errors, tokenName: name });
        };
        if (!name) return again(422, { token_name: "Name the token, e.g. after the program that uses it." });
        // PostgreSQL text cannot hold U+0000 (nor should a name).
        if (/[\u0000-\u001f\u007f]/.test(name))
          return again(422, { token_name: "Use letters, digits, spaces and punctuation only." });
        if (name.length > TOKEN_NAME_MAX)
          return again(422, { token_name: `Use at most ${TOKEN_NAME_MAX} characters.` });
        const created = await createToken(deps.sql, gate.viewer.id, name);
        if (!created)
          return again(409, { tokens: `You have ${MAX_TOKENS} tokens, the most allowed: revoke one first.` });
        // Only the token's hash is stored: this answer is the one chance to show it.
        ctx.set.status = 201;
        ctx.set.headers["cache-control"] = "no-store";
        return render(ctx.page, gate.viewer, ctx.request, { createdToken: created });
      },
      {
        body: t.Object({
          name: t.String({ maxLength: 200 }),
          _csrf: t.Optional(t.String({ maxLength: 200 })),
        }),
      },
    )
    .post(
      "/account/tokens/:id/revoke",
      async (ctx) => {
        const gate = admit(ctx, "/account");
        if (!gate.ok) return gate.response;
        const id = parseId(ctx.params.id);
        if (id === null || !(await revokeToken(deps.sql, id, gate.viewer.id)))
          return notFound(ctx.page, ctx.set, "You have no API token with this number.");
        return ctx.redirect(`${ctx.base}/account?done=token`, 303);
      },
      { body: t.Optional(t.Object({ _csrf: t.Optional(t.String({ maxLength: 200 })) })) },
    )
    .post(
      "/account/rss",
      async (ctx) => {
        const gate = admit(ctx, "/account");
        if (!gate.ok) return gate.response;
        await rotateRssKey(deps.sql, gate.viewer.id);
        return ctx.redirect(`${ctx.base}/account?done=rss`, 303);
      },
      { body: t.Optional(t.Object({ _csrf: t.Optional(t.String({ maxLength: 200 })) })) },
    )
    .post(
      "/account/password",
      async (ctx) => {
        const gate = admit(ctx, "/account");
        if (!gate.ok) return gate.response;
        const { viewer } = gate;
        const { body, set } = ctx;
        const errors: Record<string, string> = {};
        if (!body.old) errors.old = "Enter your current password.";
        const problem = passwordProblem(body.password);
        if (problem) errors.password = problem;
        else if (body.confirm !== body.password) errors.confirm = "The two new passwords differ.";
        if (Object.keys(errors).length) {
          set.status = 422;
          return render(ctx.page, viewer, ctx.request, { errors });
        }
        // Guesses at the current password count as failed log-ins, so a stolen session cannot be
        // used to find the password faster than the log-in form allows.
        if (await loginThrottled(deps.sql, viewer.name, ctx.ip)) {
          set.status = 429;
          set.headers["retry-after"] = String(FAILURE_WINDOW_MINUTES * 60);
          return render(ctx.page, viewer, ctx.request, {
            errors: {
              old: `Too many wrong passwords. Wait ${FAILURE_WINDOW_MINUTES} minutes and try again.`,
            },
          });
        }
        const stored = await passwordHash(deps.sql, viewer.id);
        if (!stored || !(await verifyPassword(body.old, stored, deps.pepper))) {
          await recordLoginFailure(deps.sql, viewer.name, ctx.ip);
          set.status = 422;
          return render(ctx.page, viewer, ctx.request, {
            errors: { old: "This is not your current password." },
          });
        }
        await setPasswordHash(deps.sql, viewer.id, await hashPassword(body.password, deps.pepper));
        await deleteOtherSessions(deps.sql, viewer.id, ctx.sessionToken ?? undefined);
        return ctx.redirect(`${ctx.base}/account?done=password`, 303);
      },
      {
        body: t.Object({
          old: t.String({ maxLength: PASSWORD_MAX }),
          password: t.String({ maxLength: PASSWORD_MAX }),
          confirm: t.String({ maxLength: PASSWORD_MAX }),
          username: t.Optional(t.String({ maxLength: 64 })),
          _csrf: t.Optional(t.String({ maxLength: 200 })),
        }),
      },
    );
}
