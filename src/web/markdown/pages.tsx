/** @jsxImportSource @kitajs/html */
import { Elysia, t } from "elysia";
import { PreviewBody, PreviewRefused } from "../../../views/markdown/rendered.tsx";
import type { WebDeps } from "../deps.ts";
import { pageGate } from "../gate.tsx";
import { CsrfField } from "../schemas.ts";
import { countPreview, PREVIEW_MAX, preview } from "./service.ts";

/**
 * The live preview of the Markdown fields: `POST /preview` with the field's text (sent under its
 * own name: `description`, `body`, or `text`) answers with the rendered fragment. Members only,
 * with the session's CSRF token like every form, no longer than the longest description, and at
 * most `webapi.previewsPerMinute` a minute (beyond that a 429 whose fragment says how long to wait).
 */
export function previewPages(deps: WebDeps) {
  const text = t.Optional(t.String({ maxLength: PREVIEW_MAX }));
  return new Elysia({ name: "preview-pages" }).use(pageGate(deps)).post(
    "/preview",
    ({ body, set, viewer }) => {
      set.headers["cache-control"] = "no-store";
      const throttled = countPreview(deps, viewer.id);
      if (throttled) {
        set.status = 429;
        set.headers["retry-after"] = String(throttled.refusal.retryAfterSeconds ?? 60);
        return <PreviewRefused message={throttled.refusal.message} />;
      }
      const result = preview(body.text ?? body.description ?? body.body ?? "");
      return <PreviewBody html={result.html} empty={result.empty} />;
    },
    {
      member: true,
      body: t.Object({ text, description: text, body: text, ...CsrfField }),
    },
  );
}
