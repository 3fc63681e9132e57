/** @jsxImportSource @kitajs/html */
import { Elysia } from "elysia";
import type { WebDeps } from "../deps.ts";
import { API_PREFIX, type ApiLimits, apiContext, apiLimiters, DEFAULT_LIMITS } from "./context.ts";
import { ApiDocsPage } from "./docs.tsx";
import { apiErrorResponse } from "./errors.ts";
import { invitesApi } from "./invites.ts";
import { buildDocument, type OpenApiDocument } from "./openapi.ts";
import { sessionApi } from "./session.ts";
import { torrentsApi } from "./torrents.ts";
import { usersApi } from "./users.ts";

/** The JSON API under /api/v1, with its OpenAPI document and documentation page. */
export function apiRoutes(deps: WebDeps, options: { limits?: ApiLimits } = {}) {
  const limiters = apiLimiters(options.limits ?? DEFAULT_LIMITS);
  // Built on first request, when every route of the site is registered; they do not change after.
  let doc: OpenApiDocument | null = null;
  const api = new Elysia({ name: "api", prefix: API_PREFIX })
    .onError({ as: "scoped" }, ({ code, error, request }) => apiErrorResponse(code, error, request))
    .use(apiContext(deps, limiters))
    .use(sessionApi(deps, limiters))
    .use(usersApi(deps, limiters))
    .use(invitesApi(deps, limiters))
    .use(torrentsApi(deps, limiters));
  const document = () => {
    doc ??= buildDocument(api, deps.config.siteName);
    return doc;
  };
  return api
    .get("/openapi.json", () => document(), { detail: { hide: true } })
    .get(
      "/docs",
      async ({ page }) =>
        new Response(
          await (
            <ApiDocsPage page={page} doc={document()} specUrl={`${page.base}${API_PREFIX}/openapi.json`} />
          ),
          {
            headers: { "content-type": "text/html; charset=utf-8" },
          },
        ),
      { detail: { hide: true } },
    );
}
