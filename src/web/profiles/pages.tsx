/** @jsxImportSource @kitajs/html */
import { Elysia, t } from "elysia";
import { ProfilePage } from "../../../views/profiles/profile.tsx";
import { refusedPage } from "../context.tsx";
import type { WebDeps } from "../deps.ts";
import { pageGate } from "../gate.tsx";
import { renderMarkdown } from "../markdown/service.ts";
import { memberProfile, transferPlots } from "./service.ts";

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
      if (!result.ok) return refusedPage(page, set, result.refusal);
      const { profile } = result;
      const plots = await transferPlots(deps, profile);
      return (
        <ProfilePage
          page={page}
          profile={profile}
          bioHtml={renderMarkdown(profile.bio)}
          plots={plots.ok ? plots.plots : null}
        />
      );
    },
    { member: true, params: ProfileParams },
  );
}
