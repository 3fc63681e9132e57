/** @jsxImportSource @kitajs/html */
import { Elysia, t } from "elysia";
import { ProfilePage } from "../../../views/profiles/profile.tsx";
import { notFound } from "../context.tsx";
import type { WebDeps } from "../deps.ts";
import { pageGate } from "../gate.tsx";
import { renderMarkdown } from "../markdown/service.ts";
import { memberHistory } from "../plots/service.ts";
import { memberProfile } from "./service.ts";

/** A member's name in a profile's address (anything else is not a profile: 404). */
export const ProfileParams = t.Object({
  name: t.String({ pattern: "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$" }),
});

/** Members' public profiles, at /users/<name>. */
export function profilePages(deps: WebDeps) {
  return new Elysia({ name: "profile-pages" }).use(pageGate(deps)).get(
    "/users/:name",
    async ({ page, viewer, params, set }) => {
      const result = await memberProfile(deps, viewer, { name: params.name });
      if (!result.ok) return notFound(page, set, result.message);
      const { profile } = result;
      const plots = profile.transfer
        ? await memberHistory(deps, { id: profile.id, ...profile.transfer })
        : null;
      return (
        <ProfilePage page={page} profile={profile} bioHtml={renderMarkdown(profile.bio)} plots={plots} />
      );
    },
    { member: true, params: ProfileParams },
  );
}
