/** @jsxImportSource @kitajs/html */
import { Elysia, t } from "elysia";
import { InvitesPage } from "../../../views/invites/invites.tsx";
import { InviteClosedPage, RegisterPage } from "../../../views/invites/register.tsx";
import { InviteTreePage } from "../../../views/invites/tree.tsx";
import { PASSWORD_MAX } from "../../db/queries/users.ts";
import { STAFF } from "../access.ts";
import {
  type PageContext,
  problem,
  refusedPage,
  SESSION_COOKIE,
  sessionCookie,
  type Viewer,
} from "../context.tsx";
import type { WebDeps } from "../deps.ts";
import { pageGate } from "../gate.tsx";
import { linksFor } from "../links.ts";
import { PASSWORD_LIMITS } from "../members/service.ts";
import { FixedWindowLimiter } from "../rate-limit.ts";
import { REFUSAL_STATUS } from "../refusal.ts";
import { CsrfField, CsrfOnly, IdParams, optionalTexts } from "../schemas.ts";
import {
  type ClosedState,
  INVITE_LIMITS,
  invitationTree,
  inviteClosed,
  inviteLink,
  inviteStatus,
  invitesOf,
  makeInvite,
  register,
  revokeAllInvites,
  revokeMemberInvite,
  TREE_MAX,
} from "./service.ts";

/** Registration attempts allowed per address in each window. */
export const REGISTRATIONS_PER_WINDOW = 10;
export const REGISTRATION_WINDOW_MS = 10 * 60_000;

/** HTTP status of a page saying why an invite link cannot be used. */
function closedStatus(state: ClosedState): number {
  return REFUSAL_STATUS[inviteClosed(state).refusal.code];
}

/** Making and revoking invites (role `invite`), and joining through an invite link. */
export function invitePages(deps: WebDeps) {
  async function invitesPage(
    page: PageContext,
    viewer: Viewer,
    extra: {
      days?: string;
      errors?: Record<string, string>;
      created?: { link: string; expiresAt: Date };
    } = {},
  ) {
    const { pending, used } = await invitesOf(deps, viewer.id);
    return (
      <InvitesPage
        page={page}
        pending={pending}
        used={used}
        limits={INVITE_LIMITS}
        days={extra.days ?? String(INVITE_LIMITS.daysDefault)}
        errors={extra.errors}
        created={extra.created}
      />
    );
  }
  /** Elysia hands over null for a path that is not valid percent-encoded UTF-8. */
  const secretOf = (params: { secret: unknown }) => (typeof params.secret === "string" ? params.secret : "");

  const registrations = new FixedWindowLimiter(REGISTRATIONS_PER_WINDOW, REGISTRATION_WINDOW_MS);
  return new Elysia({ name: "invite-pages" })
    .use(pageGate(deps))
    .get("/invites", ({ page, viewer }) => invitesPage(page, viewer), { role: "invite" })
    .post(
      "/invites",
      async ({ page, viewer, body, set, request }) => {
        const text = body.days.trim();
        const result = await makeInvite(
          deps,
          viewer.id,
          /^[0-9]{1,3}$/.test(text) ? Number(text) : Number.NaN,
        );
        if (!result.ok)
          return refusedPage(page, set, result.refusal, {
            form: {
              field: "form",
              render: (errors: Record<string, string>) => invitesPage(page, viewer, { days: text, errors }),
            },
          });
        // Only the secret's hash is stored: this answer is the one chance to show the link, so it
        // is rendered here rather than after a redirect.
        set.status = 201;
        const link = inviteLink(linksFor(deps.config, request, page.base).site, result.invite.secret);
        return invitesPage(page, viewer, { created: { link, expiresAt: result.invite.expiresAt } });
      },
      { role: "invite", body: t.Object({ days: t.String({ maxLength: 10 }), ...CsrfField }) },
    )
    .post(
      "/invites/:id/revoke",
      async ({ page, viewer, params, set, base, redirect }) => {
        const result = await revokeMemberInvite(deps, viewer.id, params.id);
        if (!result.ok) return refusedPage(page, set, result.refusal);
        return redirect(`${base}/invites`, 303);
      },
      { role: { anyOf: "invite", back: "/invites" }, params: IdParams, body: CsrfOnly },
    )
    .get(
      "/staff/invites",
      async ({ page, viewer, query, set }) => {
        const result = await invitationTree(deps, viewer);
        if (!result.ok) return refusedPage(page, set, result.refusal);
        return (
          <InviteTreePage
            page={page}
            roots={result.roots}
            members={result.members}
            max={TREE_MAX}
            done={query.done === "revoked" ? "Open invites revoked." : undefined}
          />
        );
      },
      { role: STAFF, query: optionalTexts({ done: 10 }) },
    )
    .post(
      "/staff/invites/:id/revoke",
      async ({ page, viewer, params, set, base, redirect }) => {
        const result = await revokeAllInvites(deps, viewer, params.id);
        if (!result.ok) return refusedPage(page, set, result.refusal);
        return redirect(`${base}/staff/invites?done=revoked`, 303);
      },
      { role: { anyOf: STAFF, back: "/staff/invites" }, params: IdParams, body: CsrfOnly },
    )
    .get("/register/:secret", async ({ page, params, set }) => {
      const secret = secretOf(params);
      const { state, inviter } = await inviteStatus(deps, secret);
      if (state !== "open") {
        set.status = closedStatus(state);
        return <InviteClosedPage page={page} state={state} />;
      }
      return <RegisterPage page={page} secret={secret} inviter={inviter} passwordLimits={PASSWORD_LIMITS} />;
    })
    .post(
      "/register/:secret",
      async ({ page, base, ip, params, body, set, cookie, redirect }) => {
        // Registration tries are limited per address, so an invite link cannot be hammered.
        const allowed = registrations.hit(ip);
        if (!allowed.allowed) {
          set.headers["retry-after"] = String(allowed.resetSeconds);
          return problem(
            page,
            set,
            429,
            "Too many tries",
            `Too many registration attempts from your address. Try again in ${Math.ceil(allowed.resetSeconds / 60)} minutes.`,
          );
        }
        const secret = secretOf(params);
        const result = await register(deps, {
          secret,
          name: body.name,
          password: body.password,
          confirm: body.confirm,
        });
        if (result.ok) {
          cookie[SESSION_COOKIE]!.set(sessionCookie(deps.config, base, result.sessionToken));
          return redirect(`${base}/`, 303);
        }
        if ("state" in result) {
          set.status = closedStatus(result.state);
          return <InviteClosedPage page={page} state={result.state} />;
        }
        return refusedPage(page, set, result.refusal, {
          form: {
            render: async (errors: Record<string, string>) => {
              // The page answers a taken name as any other problem with the form (the API: 409).
              set.status = 422;
              const { inviter } = await inviteStatus(deps, secret);
              return (
                <RegisterPage
                  page={page}
                  secret={secret}
                  inviter={inviter}
                  passwordLimits={PASSWORD_LIMITS}
                  name={body.name.trim()}
                  errors={errors}
                />
              );
            },
          },
        });
      },
      {
        body: t.Object({
          name: t.String({ maxLength: 64 }),
          password: t.String({ maxLength: PASSWORD_MAX }),
          confirm: t.String({ maxLength: PASSWORD_MAX }),
          ...CsrfField,
        }),
      },
    );
}
