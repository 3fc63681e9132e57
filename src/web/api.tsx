/** @jsxImportSource @kitajs/html */
import { Elysia } from "elysia";
import { ApiDocsPage, type OpenApiDocument } from "../../views/api/docs.tsx";
import { accountApi } from "./account/api.ts";
import {
  API_PREFIX,
  type ApiLimiters,
  type ApiLimits,
  apiContext,
  apiLimiters,
  DEFAULT_LIMITS,
} from "./api/context.ts";
import { apiErrorResponse } from "./api/errors.ts";
import { buildDocument } from "./api/openapi.ts";
import { auditApi } from "./audit/api.ts";
import { authApi } from "./auth/api.ts";
import { bookmarksApi } from "./bookmarks/api.ts";
import { categoriesApi } from "./categories/api.ts";
import { commentsApi } from "./comments/api.ts";
import type { WebDeps } from "./deps.ts";
import { economyApi } from "./economy/api.ts";
import { homeApi } from "./home/api.ts";
import { invitesApi } from "./invites/api.ts";
import { markdownApi } from "./markdown/api.ts";
import { renderInlineMarkdown, renderMarkdown } from "./markdown/service.ts";
import { membersApi } from "./members/api.ts";
import { messagesApi } from "./messages/api.ts";
import { moderationApi } from "./moderation/api.ts";
import { newsApi } from "./news/api.ts";
import { plotsApi } from "./plots/api.ts";
import { profilesApi } from "./profiles/api.ts";
import { recoveryApi } from "./recovery/api.ts";
import { reportsApi } from "./reports/api.ts";
import { requestsApi } from "./requests/api.ts";
import { suspiciousApi } from "./suspicious/api.ts";
import { torrentsApi } from "./torrents/api.ts";
import { transfersApi } from "./transfers/api.ts";
import { warningsApi } from "./warnings/api.ts";

/** The JSON API under /api/v1, with its OpenAPI document and documentation page. */
export function apiRoutes(deps: WebDeps, options: { limits?: ApiLimits; limiters?: ApiLimiters } = {}) {
  const limiters = options.limiters ?? apiLimiters(options.limits ?? DEFAULT_LIMITS);
  // Built on first request, when every route of the site is registered; they do not change after.
  let doc: OpenApiDocument | null = null;
  const api = new Elysia({ name: "api", prefix: API_PREFIX })
    .onError({ as: "scoped" }, ({ code, error, request }) => apiErrorResponse(code, error, request))
    .use(apiContext(deps, limiters))
    .use(authApi(deps, limiters))
    .use(membersApi(deps, limiters))
    .use(accountApi(deps, limiters))
    .use(recoveryApi(deps, limiters))
    .use(invitesApi(deps, limiters))
    .use(torrentsApi(deps, limiters))
    .use(suspiciousApi(deps, limiters))
    .use(categoriesApi(deps, limiters))
    .use(commentsApi(deps, limiters))
    .use(messagesApi(deps, limiters))
    .use(markdownApi(deps, limiters))
    .use(profilesApi(deps, limiters))
    .use(newsApi(deps, limiters))
    .use(homeApi(deps, limiters))
    .use(plotsApi(deps, limiters))
    .use(transfersApi(deps, limiters))
    .use(economyApi(deps, limiters))
    .use(requestsApi(deps, limiters))
    .use(bookmarksApi(deps, limiters))
    .use(moderationApi(deps, limiters))
    .use(warningsApi(deps, limiters))
    .use(auditApi(deps, limiters))
    .use(reportsApi(deps, limiters));
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
            <ApiDocsPage
              page={page}
              doc={document()}
              specUrl={`${page.base}${API_PREFIX}/openapi.json`}
              markdown={{ block: renderMarkdown, inline: renderInlineMarkdown }}
            />
          ),
          {
            headers: { "content-type": "text/html; charset=utf-8" },
          },
        ),
      { detail: { hide: true } },
    );
}
