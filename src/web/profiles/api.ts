import { Elysia, t } from "elysia";
import { type ApiLimiters, apiContext } from "../api/context.ts";
import { accepted } from "../api/errors.ts";
import { errors, MemberRef } from "../api/schemas.ts";
import type { WebDeps } from "../deps.ts";
import { renderMarkdown } from "../markdown/service.ts";
import { Histories, historyBody } from "../plots/api.ts";
import { IdParams } from "../schemas.ts";
import {
  BIO_LIMITS,
  memberProfile,
  type Profile,
  type ProfileResult,
  transferPlots,
  updateProfile,
} from "./service.ts";

const Nullable = <T extends Parameters<typeof t.Union>[0][number]>(schema: T) => t.Union([schema, t.Null()]);

/** A public profile as the API shows it. */
export const ProfileBody = t.Object(
  {
    id: t.Number(),
    name: t.String(),
    created_at: t.String({ format: "date-time", description: "When the account was made" }),
    roles: t.Array(t.String()),
    invited_by: Nullable(MemberRef),
    bio: t.String({ description: "The member's text, Markdown as written" }),
    bio_html: t.String({ description: "The bio rendered to safe HTML, as the site shows it" }),
    uploads: t.Number({ description: "Torrents this member uploaded" }),
    hide_transfer: t.Boolean({ description: "The member hides their transfer figures from other members" }),
    transfer: Nullable(
      t.Object(
        {
          uploaded: t.Number({ description: "Bytes" }),
          downloaded: t.Number({ description: "Bytes" }),
          ratio: Nullable(t.Number({ description: "uploaded / downloaded; null with nothing downloaded" })),
          snatches: t.Number(),
        },
        { description: "Null when the member hides them and the caller is neither they nor staff" },
      ),
    ),
  },
  { description: "A member's public profile" },
);

/** A profile as the API shows it. */
export function profileBody(profile: Profile): typeof ProfileBody.static {
  const { transfer } = profile;
  return {
    id: profile.id,
    name: profile.name,
    created_at: profile.createdAt.toISOString(),
    roles: profile.roles,
    invited_by: profile.inviter,
    bio: profile.bio,
    bio_html: renderMarkdown(profile.bio),
    uploads: profile.uploads,
    hide_transfer: profile.hideTransfer,
    transfer: transfer && {
      ...transfer,
      ratio: transfer.downloaded > 0 ? transfer.uploaded / transfer.downloaded : null,
    },
  };
}

function found(result: ProfileResult): Profile {
  return accepted(result).profile;
}

/** Profiles: read anyone's, change one's own. */
export function profilesApi(deps: WebDeps, limiters: ApiLimiters) {
  return new Elysia({ name: "api-profiles" })
    .use(apiContext(deps, limiters))
    .get(
      "/users/:id/profile",
      async ({ caller, params }) => profileBody(found(await memberProfile(deps, caller, { id: params.id }))),
      {
        member: true,
        params: IdParams,
        response: { 200: ProfileBody, ...errors(401, 404, 422) },
        detail: {
          tags: ["Users"],
          summary: "A member's profile",
          description:
            "Any member's, as their profile page shows it: transfer figures are null when the member hides them, except to themselves and to moderators and administrators.",
        },
      },
    )
    .patch(
      "/users/:id/profile",
      async ({ caller, params, body }) => {
        accepted(
          await updateProfile(deps, caller, params.id, {
            bio: body.bio,
            hideTransfer: body.hide_transfer,
          }),
        );
        return profileBody(found(await memberProfile(deps, caller, { id: params.id })));
      },
      {
        member: true,
        params: IdParams,
        body: t.Object(
          {
            bio: t.Optional(
              t.String({
                maxLength: BIO_LIMITS.max * 2,
                description: `Markdown, at most ${BIO_LIMITS.max} characters and ${BIO_LIMITS.lines} lines once line ends are normalised; "" removes it`,
              }),
            ),
            hide_transfer: t.Optional(t.Boolean({ description: "Hide transfer figures from other members" })),
          },
          { examples: [{ bio: "I seed *Linux* images.", hide_transfer: false }] },
        ),
        response: { 200: ProfileBody, ...errors(401, 403, 404, 422) },
        detail: {
          tags: ["Users"],
          summary: "Change your profile",
          description: "Only your own: the bio, whether your transfer figures are hidden, or both.",
        },
      },
    )
    .get(
      "/users/:id/plot",
      async ({ caller, params }) => {
        const profile = found(await memberProfile(deps, caller, { id: params.id }));
        return { plots: accepted(await transferPlots(deps, profile)).plots.map(historyBody) };
      },
      {
        member: true,
        params: IdParams,
        response: { 200: Histories, ...errors(401, 403, 404, 422) },
        detail: {
          tags: ["Users"],
          summary: "A member's transfer over time",
          description:
            "Uploaded, downloaded and ratio over the last 30 days (sampled hourly when they change). 403 when the member hides their figures, except for themselves and staff.",
        },
      },
    );
}
