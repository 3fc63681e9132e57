import { Elysia, t } from "elysia";
import type { ApiLimiters } from "../api/context.ts";
import { apiContext } from "../api/context.ts";
import { refusalError } from "../api/errors.ts";
import { errors } from "../api/schemas.ts";
import type { WebDeps } from "../deps.ts";
import { countPreview, MARKDOWN_LIMITS, PREVIEW_MAX, preview } from "./service.ts";

/** Markdown preview: the HTML the site would show for a description or comment. */
export function markdownApi(deps: WebDeps, limiters: ApiLimiters) {
  return new Elysia({ name: "api-markdown" }).use(apiContext(deps, limiters)).post(
    "/preview",
    ({ body, caller }) => {
      const throttled = countPreview(deps, caller.id);
      if (throttled) throw refusalError(throttled.refusal);
      return { html: preview(body.text).html as string };
    },
    {
      member: true,
      body: t.Object(
        { text: t.String({ maxLength: PREVIEW_MAX, description: "Markdown" }) },
        { examples: [{ text: "**Bold**, a [link](https://example.org) and a list:\n\n- one\n- two" }] },
      ),
      response: {
        200: t.Object({ html: t.String({ description: "The HTML the site shows for it" }) }),
        ...errors(401, 422),
      },
      detail: {
        tags: ["Torrents"],
        summary: "Preview Markdown",
        description: `Renders a description or comment as the site would: raw HTML escaped, links only to http, https, mailto or this site (with rel="nofollow noopener"), images shown as links; tables of at most ${MARKDOWN_LIMITS.tableCells} cells, nesting at most ${MARKDOWN_LIMITS.nesting} deep, at most ${MARKDOWN_LIMITS.outputChars} characters of HTML (past them the answer says why the text cannot be shown). At most \`webapi.previewsPerMinute\` a minute per member (429 with Retry-After beyond that).`,
      },
    },
  );
}
