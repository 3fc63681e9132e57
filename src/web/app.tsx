/** @jsxImportSource @kitajs/html */
import { html } from "@elysiajs/html";
import { Elysia } from "elysia";
import { ErrorPage } from "../../views/layout/layout.tsx";
import { type Config, stripPrefix } from "../config.ts";
import { databaseErrors, isDatabaseUnavailable } from "../db/client.ts";
import { log } from "../log.ts";
import { clientAddress } from "../shared/forwarded.ts";
import { accountPages } from "./account/pages.tsx";
import { apiLimiters } from "./api/context.ts";
import { apiErrorResponse, errorResponse, isApiPath } from "./api/errors.ts";
import { apiRoutes } from "./api.tsx";
import { authPages } from "./auth/pages.tsx";
import { bookmarkPages } from "./bookmarks/pages.tsx";
import { bookmarkFeed } from "./bookmarks/rss.ts";
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
import { messagePages } from "./messages/pages.tsx";
import { newsPages } from "./news/pages.tsx";
import { profilePages } from "./profiles/pages.tsx";
import { requestPages } from "./requests/pages.tsx";
import { staticRoutes } from "./static.ts";
import { suspiciousPages } from "./suspicious/pages.tsx";
import { textGuard } from "./text-guard.ts";
import { eventRoutes } from "./torrents/events.ts";
import { torrentPages } from "./torrents/pages.tsx";
import { rssRoutes } from "./torrents/rss.ts";
import { torznabRoutes } from "./torrents/torznab.ts";
import { fileTooLarge } from "./torrents/upload.ts";
import { transferPages } from "./transfers/pages.tsx";
import { type ValidationLike, validationProblems } from "./validation.ts";

export type { WebDeps } from "./deps.ts";

// How a refused page names the fields of links and forms whose name says little to a person.
const FIELD_LABELS: Record<string, string> = {
  q: "Search (q)",
  sort: "Sort (sort)",
  order: "Order (order)",
  page: "Page (page)",
  next: "Where to go after logging in (next)",
  _csrf: "Form token (_csrf)",
};

/** The web site and API on the main thread. */
export function createWebApp(deps: WebDeps) {
  // One budget per API token, whether it calls the JSON API or Torznab.
  const limiters = apiLimiters();
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
        const fields = code === "VALIDATION" ? validationProblems(error as ValidationLike) : {};
        const said = Object.entries(fields).map(
          ([field, problem]) => `${FIELD_LABELS[field] ?? field}: ${problem}`,
        );
        return (
          <ErrorPage
            page={page}
            status={422}
            title="Request not understood"
            message={
              said.length
                ? `${said.join(" ")} Go back and try again.`
                : "The form or link was incomplete or malformed. Go back and try again."
            }
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
    .use(bookmarkPages(deps))
    .use(requestPages(deps))
    .use(messagePages(deps))
    .use(categoryPages(deps))
    .use(previewPages(deps))
    .use(eventRoutes(deps))
    .use(apiRoutes(deps, { limiters }))
    .use(rssRoutes(deps))
    .use(bookmarkFeed(deps))
    .use(torznabRoutes(deps, limiters))
    .use(homePages(deps))
    .use(newsPages(deps))
    .use(profilePages(deps));
}

/**
 * Sent with every answer of the web port, pages, API, feeds and files alike. The policy allows
 * scripts, styles, images and connections from this site only, and no inline script or style: a
 * string slipped into a page cannot run. Pages hold passkeys, invite links and tokens, so no
 * other site may frame them or learn their addresses from the Referer; `same-origin` rather than
 * `no-referrer` because under the latter browsers send `Origin: null` with the site's own form
 * posts, which the CSRF rule refuses.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy":
    "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "same-origin",
};

/** The answer with the request id and the security headers set, copied first if its headers are immutable. */
function finish(response: Response, requestId: string): Response {
  let out = response;
  try {
    out.headers.set(REQUEST_ID_HEADER, requestId);
  } catch {
    // Response.redirect and some others have immutable headers: send a copy.
    out = new Response(response.body, response);
    out.headers.set(REQUEST_ID_HEADER, requestId);
  }
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) out.headers.set(name, value);
  return out;
}

/** Room above `webapi.maxTorrentBytes` for a multipart upload's framing and other fields. */
export const BODY_SLACK_BYTES = 1024 * 1024;

/**
 * The one answer to a request body too large to read (over `webapi.maxTorrentBytes` plus
 * `BODY_SLACK_BYTES`), in the words the upload form and the API use for an oversized .torrent:
 * the API's error body under /api, an error page elsewhere (htmx shows its message in the form).
 */
async function bodyTooLarge(
  options: FrontOptions,
  path: string,
  base: string,
  multipart: boolean,
): Promise<Response> {
  const message = fileTooLarge(options.maxTorrentBytes);
  if (isApiPath(path))
    return errorResponse("payload_too_large", message, multipart ? { file: message } : undefined);
  const page: PageContext = { base, viewer: null, siteName: options.siteName };
  const html = await (
    <ErrorPage
      page={page}
      status={413}
      title="Too large"
      message={`${message} Go back and choose a smaller file.`}
    />
  );
  return new Response(html, { status: 413, headers: { "content-type": "text/html; charset=utf-8" } });
}

/** A request body read whole, or null once it passes `limit` bytes (the rest is left unread). */
async function readUpTo(
  body: ReadableStream<Uint8Array>,
  limit: number,
): Promise<Uint8Array<ArrayBuffer> | null> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  const whole = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    whole.set(chunk, at);
    at += chunk.byteLength;
  }
  return whole;
}

/** How the front of the web server is set up (`frontOptions` reads them from the configuration). */
export interface FrontOptions {
  /** Leading path segments a reverse proxy adds (`pathDepth`). */
  readonly pathDepth: number;
  /** Direct peers whose `X-Forwarded-For` is believed (`webapi.trustedProxies`). */
  readonly trustedProxies?: readonly string[];
  /** `siteName`, for the refusal page of an oversized body. */
  readonly siteName: string;
  /** `webapi.maxTorrentBytes`: a body over it and `BODY_SLACK_BYTES` is refused unread. */
  readonly maxTorrentBytes: number;
}

/** The front's options from the configuration. */
export function frontOptions(config: Config): FrontOptions {
  return {
    pathDepth: config.pathDepth,
    trustedProxies: config.webapi.trustedProxies,
    siteName: config.siteName,
    maxTorrentBytes: config.webapi.maxTorrentBytes,
  };
}

/**
 * The front of the web server: strips the reverse proxy's path prefix (`pathDepth` segments) and
 * passes it on as the base for links, with the client's address, in headers the app trusts (any
 * sent by the client are replaced); refuses a body over the size limit with a readable answer
 * before anything reads it; and sets the security headers of every answer.
 */
export function webFetch(app: { handle(request: Request): Promise<Response> }, options: FrontOptions) {
  const { pathDepth } = options;
  const trusted = new Set(options.trustedProxies ?? []);
  const maxBodyBytes = options.maxTorrentBytes + BODY_SLACK_BYTES;
  return async (request: Request, server: { requestIP(r: Request): { address: string } | null }) => {
    const requestId = crypto.randomUUID().slice(0, 8);
    // An HTTP/1.0 request without a Host header (HAProxy's default health check) arrives with the
    // bare path as its URL.
    const url = new URL(request.url, "http://localhost");
    const path = stripPrefix(url.pathname, pathDepth);
    if (path === null) return finish(new Response("Not found", { status: 404 }), requestId);
    const base = url.pathname.slice(0, url.pathname.length - path.length);
    if (pathDepth > 0) url.pathname = path;
    let body: ReadableStream<Uint8Array> | Uint8Array<ArrayBuffer> | null = null;
    if (request.method !== "GET" && request.method !== "HEAD" && request.body) {
      const multipart = (request.headers.get("content-type") ?? "").startsWith("multipart/");
      const declared = request.headers.get("content-length");
      if (declared !== null) {
        // Bun reads no more than a declared length; a larger one is refused unread.
        if (Number(declared) > maxBodyBytes)
          return finish(await bodyTooLarge(options, url.pathname, base, multipart), requestId);
        body = request.body;
      } else {
        // Chunked: read up to the limit here, so nothing behind the front can read more.
        body = await readUpTo(request.body, maxBodyBytes);
        if (body === null)
          return finish(await bodyTooLarge(options, url.pathname, base, multipart), requestId);
      }
    }
    const headers = new Headers(request.headers);
    headers.set(BASE_HEADER, base);
    const direct = server.requestIP(request)?.address ?? "unknown";
    headers.set(IP_HEADER, clientAddress(direct, request.headers.get("x-forwarded-for"), trusted));
    headers.set(REQUEST_ID_HEADER, requestId);
    const response = await app.handle(
      new Request(url, { method: request.method, headers, body, redirect: "manual" }),
    );
    return finish(response, requestId);
  };
}
