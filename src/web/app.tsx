/** @jsxImportSource @kitajs/html */
import { html } from "@elysiajs/html";
import { Elysia } from "elysia";
import { ErrorPage } from "../../views/layout/layout.tsx";
import { databaseErrors, isDatabaseUnavailable } from "../db/client.ts";
import { log } from "../log.ts";
import { clientAddress } from "../shared/forwarded.ts";
import { accountPages } from "./account/pages.tsx";
import { apiErrorResponse, isApiPath } from "./api/errors.ts";
import { apiRoutes } from "./api/index.tsx";
import { authPages } from "./auth/pages.tsx";
import { categoryPages } from "./categories/pages.tsx";
import { commentPages } from "./comments/pages.tsx";
import { BASE_HEADER, IP_HEADER, type PageContext, REQUEST_ID_HEADER } from "./context.tsx";
import type { WebDeps } from "./deps.ts";
import { economyPages } from "./economy/pages.tsx";
import { PageRefusal } from "./gate.tsx";
import { homePages } from "./home/pages.tsx";
import { invitePages } from "./invites/pages.tsx";
import { previewPages } from "./markdown/pages.tsx";
import { memberPages } from "./members/pages.tsx";
import { newsPages } from "./news/pages.tsx";
import { profilePages } from "./profiles/pages.tsx";
import { staticRoutes } from "./static.ts";
import { suspiciousPages } from "./suspicious/pages.tsx";
import { textGuard } from "./text-guard.ts";
import { eventRoutes } from "./torrents/events.ts";
import { torrentPages } from "./torrents/pages.tsx";
import { rssRoutes } from "./torrents/rss.ts";
import { transferPages } from "./transfers/pages.tsx";

export type { WebDeps } from "./deps.ts";

/** The web site and API on the main thread. */
export function createWebApp(deps: WebDeps) {
  // Layout writes the doctype itself: the html plugin's check for one copies every page twice.
  return new Elysia()
    .use(html({ autoDoctype: false, contentType: "text/html; charset=utf-8" }))
    .onError(({ code, error, request, set }) => {
      if (isApiPath(new URL(request.url).pathname)) return apiErrorResponse(code, error, request);
      if (error instanceof PageRefusal) {
        set.status = error.status;
        return error.answer();
      }
      const page: PageContext = {
        base: request.headers.get(BASE_HEADER) ?? "",
        viewer: null,
        siteName: deps.config.siteName,
      };
      // A path segment that cannot be an id (`/torrents/abc`) names nothing.
      if (code === "NOT_FOUND" || (code === "VALIDATION" && (error as { type?: string }).type === "params")) {
        set.status = 404;
        return (
          <ErrorPage page={page} status={404} title="Not found" message="There is nothing at this address." />
        );
      }
      if (code === "VALIDATION" || code === "PARSE") {
        set.status = 422;
        return (
          <ErrorPage
            page={page}
            status={422}
            title="Request not understood"
            message="The form or link was incomplete or malformed. Go back and try again."
          />
        );
      }
      if (isDatabaseUnavailable(error)) {
        databaseErrors.count++;
        set.status = 503;
        set.headers["retry-after"] = "30";
        log.warn("database unavailable", {
          error: error as Error,
          path: new URL(request.url).pathname,
          requestId: request.headers.get(REQUEST_ID_HEADER),
        });
        return (
          <ErrorPage
            page={page}
            status={503}
            title="Temporarily unavailable"
            message="The site cannot reach its database right now. The tracker keeps working; try this page again in a minute."
          />
        );
      }
      set.status = 500;
      log.error("web request failed", {
        requestId: request.headers.get(REQUEST_ID_HEADER),
        error: (error as Error)?.stack ?? String(error),
        path: new URL(request.url).pathname,
      });
      return (
        <ErrorPage
          page={page}
          status={500}
          title="Something went wrong"
          message="The site could not answer. Try again in a moment."
        />
      );
    })
    .get("/health", () => ({ status: "ok" }))
    .get("/readyz", ({ set }) => {
      if (deps.ready()) return { status: "ready" };
      set.status = 503;
      return { status: "starting" };
    })
    .use(textGuard())
    .use(staticRoutes())
    .use(authPages(deps))
    .use(invitePages(deps))
    .use(accountPages(deps))
    .use(memberPages(deps))
    .use(suspiciousPages(deps))
    .use(economyPages(deps))
    .use(transferPages(deps))
    .use(torrentPages(deps))
    .use(commentPages(deps))
    .use(categoryPages(deps))
    .use(previewPages(deps))
    .use(eventRoutes(deps))
    .use(apiRoutes(deps))
    .use(rssRoutes(deps))
    .use(homePages(deps))
    .use(newsPages(deps))
    .use(profilePages(deps));
}

/**
 * The front of the web server: strips the reverse proxy's path prefix (`pathDepth` segments) and
 * passes it on as the base for links, with the client's address, in headers the app trusts (any
 * sent by the client are replaced).
 */
export function webFetch(
  app: { handle(request: Request): Promise<Response> },
  pathDepth: number,
  trustedProxies: readonly string[] = [],
) {
  const trusted = new Set(trustedProxies);
  return async (request: Request, server: { requestIP(r: Request): { address: string } | null }) => {
    // An HTTP/1.0 request without a Host header (HAProxy's default health check) arrives with the
    // bare path as its URL.
    const url = new URL(request.url, "http://localhost");
    let base = "";
    if (pathDepth > 0) {
      const parts = url.pathname.split("/");
      if (parts.length < pathDepth + 2) return new Response("Not found", { status: 404 });
      base = parts.slice(0, pathDepth + 1).join("/");
      url.pathname = `/${parts.slice(pathDepth + 1).join("/")}`;
    }
    const headers = new Headers(request.headers);
    headers.set(BASE_HEADER, base);
    const direct = server.requestIP(request)?.address ?? "unknown";
    headers.set(IP_HEADER, clientAddress(direct, request.headers.get("x-forwarded-for"), trusted));
    const requestId = crypto.randomUUID().slice(0, 8);
    headers.set(REQUEST_ID_HEADER, requestId);
    const hasBody = request.method !== "GET" && request.method !== "HEAD";
    const response = await app.handle(
      new Request(url, {
        method: request.method,
        headers,
        body: hasBody ? request.body : null,
        redirect: "manual",
      }),
    );
    try {
      response.headers.set(REQUEST_ID_HEADER, requestId);
    } catch {
      // Some responses (Response.redirect) have immutable headers; they go out without the id.
    }
    return response;
  };
}
