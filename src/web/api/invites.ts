import { Elysia, t } from "elysia";
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
} from "../../db/queries/invites.ts";
import { nameTaken } from "../../db/queries/members.ts";
import { createSession } from "../../db/queries/sessions.ts";
import { NameTakenError, nameProblem, PASSWORD_MAX, passwordProblem } from "../../db/queries/users.ts";
import { hashPassword } from "../../shared/secrets.ts";
import { sessionCookie } from "../auth.tsx";
import { csrfToken, publicOrigin, SESSION_COOKIE } from "../context.ts";
import type { WebDeps } from "../deps.ts";
import { API_PREFIX, type ApiLimiters, apiContext, requireRole } from "./context.ts";
import { ApiError, fail } from "./errors.ts";
import { errors, idOf, Me, MemberRef, wholeNumber } from "./schemas.ts";
import { meBody } from "./session.ts";

/** Secrets are 43 characters; anything much longer is not worth a database lookup. */
const SECRET_MAX = 100;
const TAKEN = "This name is taken: choose another.";

const CLOSED: Record<Exclude<InviteState, "open" | "unknown">, string> = {
  used: "This invite was used already.",
  revoked: "This invite was revoked by the member who made it.",
  expired: "This invite has expired.",
};

// One parameter name at this place in the path for every method, as OpenAPI requires: the secret
// (from the invite link) to look an invite up or claim it, the invite's number to revoke it.
const SecretParams = t.Object({
  invite: t.String({ maxLength: 200, description: "The invite's secret, from the invite link" }),
});
const NumberParams = t.Object({ invite: idOf("invite", "The invite's number (id)") });

const NewInvite = t.Object(
  {
    id: t.Number(),
    secret: t.String({ description: "Shown only in this answer: only its hash is stored" }),
    link: t.String({ description: "The registration page for the invitee" }),
    expires_at: t.String({ format: "date-time" }),
  },
  { description: "The new invite" },
);

const InviteList = t.Object(
  {
    pending: t.Array(
      t.Object({
        id: t.Number(),
        created_at: t.String({ format: "date-time" }),
        expires_at: t.String({ format: "date-time" }),
      }),
    ),
    used: t.Array(
      t.Object({
        id: t.Number(),
        created_at: t.String({ format: "date-time" }),
        claimed_at: t.String({ format: "date-time" }),
        invitee: t.Union([MemberRef, t.Null()]),
      }),
    ),
  },
  { description: "Your invites" },
);

const InviteStatus = t.Object(
  {
    state: t.Union([t.Literal("open"), t.Literal("used"), t.Literal("revoked"), t.Literal("expired")], {
      description: "open: can be used to register; used, revoked or expired: cannot",
    }),
    inviter: t.Union([t.String(), t.Null()], { description: "Who made it (while open)" }),
  },
  { description: "The invite's state" },
);

/** Invites: make, list and revoke one's own (role `invite`), look one up, and register through one. */
export function invitesApi(deps: WebDeps, limiters: ApiLimiters) {
  const lookUp = (secret: string) =>
    secret.length > SECRET_MAX
      ? Promise.resolve({ state: "unknown" as const, inviter: null })
      : inviteBySecret(deps.sql, secret);
  /** The status of an invite as an error, when it cannot be used. */
  const closed = (state: Exclude<InviteState, "open">) =>
    state === "unknown"
      ? fail.notFound("There is no invite with this secret.")
      : new ApiError("gone", CLOSED[state]);

  return new Elysia({ name: "api-invites" })
    .use(apiContext(deps, limiters))
    .post(
      "/invites",
      async ({ caller, body, set, request, base }) => {
        const me = requireRole(caller, ["invite"]);
        const days = body?.days ?? INVITE_DAYS_DEFAULT;
        const invite = await createMemberInvite(deps.sql, { inviterId: me.id, days });
        if (!invite)
          throw new ApiError(
            "conflict",
            `You have ${MAX_PENDING_INVITES} open invites, the most allowed. Revoke one or wait until one is used or expires.`,
          );
        set.status = 201;
        return {
          id: invite.id,
          secret: invite.secret,
          link: `${publicOrigin(deps.config.siteUrl, request)}${base}/register/${invite.secret}`,
          expires_at: invite.expiresAt.toISOString(),
        };
      },
      {
        body: t.Optional(
          t.Object({
            days: t.Optional(
              wholeNumber(
                "days",
                INVITE_DAYS_MIN,
                INVITE_DAYS_MAX,
                `Days it stays open: ${INVITE_DAYS_MIN} to ${INVITE_DAYS_MAX}, ${INVITE_DAYS_DEFAULT} by default`,
                `Enter a whole number of days from ${INVITE_DAYS_MIN} to ${INVITE_DAYS_MAX}.`,
              ),
            ),
          }),
        ),
        response: { 201: NewInvite, ...errors(401, 403, 409, 422) },
        detail: {
          tags: ["Invites"],
          summary: "Make an invite",
          description: `Needs the invite role. At most ${MAX_PENDING_INVITES} open invites at a time (409). The secret is shown only in this answer.`,
        },
      },
    )
    .get(
      "/invites",
      async ({ caller }) => {
        const me = requireRole(caller, ["invite"]);
        const { pending, used } = await memberInvites(deps.sql, me.id);
        return {
          pending: pending.map((i) => ({
            id: i.id,
            created_at: i.created_at.toISOString(),
            expires_at: i.expires_at.toISOString(),
          })),
          used: used.map((i) => ({
            id: i.id,
            created_at: i.created_at.toISOString(),
            claimed_at: i.claimed_at!.toISOString(),
            invitee: i.invitee_id !== null ? { id: i.invitee_id, name: i.invitee ?? "" } : null,
          })),
        };
      },
      {
        response: { 200: InviteList, ...errors(401, 403) },
        detail: {
          tags: ["Invites"],
          summary: "Your invites",
          description: "Open ones (oldest first) and used ones (latest first). Needs the invite role.",
        },
      },
    )
    .get(
      "/invites/:invite",
      async ({ params }) => {
        const { state, inviter } = await lookUp(params.invite);
        if (state === "unknown") throw closed(state);
        return { state, inviter: state === "open" ? inviter : null };
      },
      {
        params: SecretParams,
        response: { 200: InviteStatus, ...errors(404) },
        detail: {
          tags: ["Invites"],
          summary: "An invite's status",
          description: "Whether the invite with this secret can still be used. No log-in needed.",
          security: [],
        },
      },
    )
    .post(
      "/invites/:invite/claim",
      async ({ params, body, base, cookie, set }) => {
        const secret = params.invite;
        const { state } = await lookUp(secret);
        if (state !== "open") throw closed(state);
        const name = body.name.trim();
        const fields: Record<string, string> = {};
        const nameError = nameProblem(name);
        if (nameError) fields.name = nameError;
        const passwordError = passwordProblem(body.password);
        if (passwordError) fields.password = passwordError;
        if (Object.keys(fields).length) throw fail.validation(fields);
        if (await nameTaken(deps.sql, name)) throw new ApiError("conflict", TAKEN, { name: TAKEN });
        let id: number;
        try {
          ({ id } = await registerWithInvite(deps.sql, {
            secret,
            name,
            passwordHash: await hashPassword(body.password, deps.pepper),
          }));
        } catch (error) {
          if (error instanceof NameTakenError) throw new ApiError("conflict", TAKEN, { name: TAKEN });
          if (!(error instanceof InviteClosedError)) throw error;
          // Claimed, revoked or expired since the check above: say which.
          const now = await lookUp(secret);
          throw closed(now.state === "open" ? "used" : now.state);
        }
        await deps.sync.user(id);
        const token = await createSession(deps.sql, id);
        cookie[SESSION_COOKIE]!.set(sessionCookie(deps, base, token));
        set.status = 201;
        set.headers.location = `${base}${API_PREFIX}/users/${id}`;
        return meBody(deps, id, "session", csrfToken(token));
      },
      {
        params: SecretParams,
        body: t.Object({
          name: t.String({ maxLength: 64, description: "3 to 32 letters, digits, '_', '-' or '.'" }),
          password: t.String({ maxLength: PASSWORD_MAX, description: "At least 8 characters" }),
        }),
        response: { 201: Me, ...errors(404, 409, 410, 422) },
        detail: {
          tags: ["Invites"],
          summary: "Register through an invite",
          description:
            "Creates the member (with the upload role), uses up the invite and logs in: sets the session cookie and returns the new member with the CSRF token. 410 when the invite was used, revoked or expired.",
          security: [],
        },
      },
    )
    .delete(
      "/invites/:invite",
      async ({ caller, params, set }) => {
        const me = requireRole(caller, ["invite"]);
        if (!(await revokeInvite(deps.sql, params.invite, me.id)))
          throw fail.notFound("You have no open invite with this number.");
        set.status = 204;
        return null;
      },
      {
        params: NumberParams,
        response: { 204: t.Null({ description: "Revoked" }), ...errors(401, 403, 404, 422) },
        detail: {
          tags: ["Invites"],
          summary: "Revoke an invite",
          description: "One of your open invites. Needs the invite role.",
        },
      },
    );
}
