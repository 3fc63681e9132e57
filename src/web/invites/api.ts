import { Elysia, t } from "elysia";
import { PASSWORD_MAX } from "../../db/queries/users.ts";
import { STAFF } from "../access.ts";
import { API_PREFIX, type ApiLimiters, apiContext } from "../api/context.ts";
import { accepted, refusalError } from "../api/errors.ts";
import { errors, Me, MemberRef } from "../api/schemas.ts";
import { sessionStarted } from "../auth/api.ts";
import type { WebDeps } from "../deps.ts";
import { linksFor } from "../links.ts";
import { IdParams, idOf, wholeNumber } from "../schemas.ts";
import {
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
  type TreeNode,
} from "./service.ts";

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
    state: t.Union(
      [
        t.Literal("open"),
        t.Literal("used"),
        t.Literal("revoked"),
        t.Literal("expired"),
        t.Literal("withdrawn"),
        t.Literal("first_done"),
      ],
      {
        description:
          "open: can be used to register; used, revoked, expired, withdrawn (the inviter is disabled or lost the invite role) or first_done (a first-account link once a member exists): cannot",
      },
    ),
    inviter: t.Union([t.String(), t.Null()], { description: "Who made it (while open)" }),
  },
  { description: "The invite's state" },
);

/** The tree as a list, parents before their invitees (depth first, oldest first). */
function flatten(
  nodes: readonly TreeNode[],
  out: (typeof TreeMember.static)[] = [],
): (typeof TreeMember.static)[] {
  for (const node of nodes) {
    out.push({
      id: node.id,
      name: node.name,
      disabled: node.disabled,
      joined_at: node.createdAt.toISOString(),
      invited_by: node.invitedBy,
      open_invites: node.canInvite && !node.disabled ? node.openInvites : 0,
    });
    flatten(node.invitees, out);
  }
  return out;
}

const TreeMember = t.Object(
  {
    id: t.Number(),
    name: t.String(),
    disabled: t.Boolean(),
    joined_at: t.String({ format: "date-time" }),
    invited_by: t.Union([t.Number(), t.Null()], { description: "The inviter's id (null: nobody)" }),
    open_invites: t.Number({ description: "Open invites that can still be used" }),
  },
  { description: "A member and who invited them" },
);

/** Invites: make, list and revoke one's own (role `invite`), look one up, and register through one. */
export function invitesApi(deps: WebDeps, limiters: ApiLimiters) {
  const { daysMin, daysMax, daysDefault, maxPending } = INVITE_LIMITS;
  return new Elysia({ name: "api-invites" })
    .use(apiContext(deps, limiters))
    .post(
      "/invites",
      async ({ caller, body, set, request, base }) => {
        const { invite } = accepted(await makeInvite(deps, caller.id, body?.days ?? daysDefault));
        set.status = 201;
        return {
          id: invite.id,
          secret: invite.secret,
          link: inviteLink(linksFor(deps.config, request, base).site, invite.secret),
          expires_at: invite.expiresAt.toISOString(),
        };
      },
      {
        role: "invite",
        body: t.Optional(
          t.Object(
            {
              days: t.Optional(
                wholeNumber(
                  "days",
                  daysMin,
                  daysMax,
                  `Days it stays open: ${daysMin} to ${daysMax}, ${daysDefault} by default`,
                  `Enter a whole number of days from ${daysMin} to ${daysMax}.`,
                ),
              ),
            },
            { examples: [{ days: daysDefault }] },
          ),
        ),
        response: { 201: NewInvite, ...errors(400, 401, 403, 409, 422) },
        detail: {
          tags: ["Invites"],
          summary: "Make an invite",
          description: `Needs the invite role. At most ${maxPending} open invites at a time (409). The secret is shown only in this answer.`,
        },
      },
    )
    .get(
      "/invites",
      async ({ caller }) => {
        const { pending, used } = await invitesOf(deps, caller.id);
        return {
          pending: pending.map((i) => ({
            id: i.id,
            created_at: i.createdAt.toISOString(),
            expires_at: i.expiresAt.toISOString(),
          })),
          used: used.map((i) => ({
            id: i.id,
            created_at: i.createdAt.toISOString(),
            claimed_at: i.claimedAt!.toISOString(),
            invitee: i.inviteeId !== null ? { id: i.inviteeId, name: i.invitee ?? "" } : null,
          })),
        };
      },
      {
        role: "invite",
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
        const { state, inviter } = await inviteStatus(deps, params.invite);
        if (state === "unknown") throw refusalError(inviteClosed(state).refusal);
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
    .get(
      "/invite-tree",
      async ({ caller }) => {
        const result = accepted(await invitationTree(deps, caller));
        return { members: flatten(result.roots) };
      },
      {
        role: STAFF,
        response: {
          200: t.Object(
            {
              members: t.Array(TreeMember, {
                description: "Every member, depth first: each right after their inviter, oldest first",
              }),
            },
            { description: "Who invited whom" },
          ),
          ...errors(401, 403),
        },
        detail: {
          tags: ["Staff"],
          summary: "The invite tree",
          description: "Moderators and administrators. Who invited whom, from the members nobody invited.",
        },
      },
    )
    .post(
      "/users/:id/invites/revoke",
      async ({ caller, params }) => {
        const result = accepted(await revokeAllInvites(deps, caller, params.id));
        return { revoked: result.revoked };
      },
      {
        role: STAFF,
        params: IdParams,
        response: {
          200: t.Object({ revoked: t.Number({ description: "Invites revoked" }) }, { description: "Done" }),
          ...errors(401, 403, 404, 422),
        },
        detail: {
          tags: ["Staff"],
          summary: "Revoke a member's open invites",
          description: "Moderators and administrators. Recorded in the staff log. 404 when there is none.",
        },
      },
    )
    .post(
      "/invites/:invite/claim",
      async ({ params, body, base, cookie, set, request }) => {
        const result = accepted(
          await register(deps, {
            secret: params.invite,
            name: body.name,
            password: body.password,
          }),
        );
        set.status = 201;
        set.headers.location = `${base}${API_PREFIX}/users/${result.userId}`;
        return sessionStarted(
          deps,
          { cookie, base, request },
          { userId: result.userId, token: result.sessionToken },
        );
      },
      {
        params: SecretParams,
        body: t.Object(
          {
            name: t.String({ maxLength: 64, description: "3 to 32 letters, digits, '_', '-' or '.'" }),
            password: t.String({ maxLength: PASSWORD_MAX, description: "At least 8 characters" }),
          },
          { examples: [{ name: "carol", password: "a long passphrase" }] },
        ),
        response: { 201: Me, ...errors(400, 404, 409, 410, 422) },
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
        accepted(await revokeMemberInvite(deps, caller.id, params.invite));
        set.status = 204;
        return null;
      },
      {
        role: "invite",
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
