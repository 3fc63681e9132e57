/** @jsxImportSource @kitajs/html */
import { createHmac } from "node:crypto";
import { Elysia } from "elysia";
import { ErrorPage } from "../../views/layout/layout.tsx";
import type { PageContext, PageViewer } from "../../views/layout/page.ts";
import type { Config } from "../config.ts";
import type { Sql } from "../db/client.ts";
import { SESSION_DAYS, type SessionUser, sessionUser } from "../db/queries/sessions.ts";
import type { Role } from "../db/queries/users.ts";
import { constantTimeEqual } from "../shared/secrets.ts";
import { REFUSAL_STATUS, type Refusal } from "./refusal.ts";

export type { PageContext } from "../../views/layout/page.ts";

/** Name of the session cookie. */
export const SESSION_COOKIE = "fw_session";
/** Headers set by the front of the web server (`webFetch`); any sent by a client are replaced. */
export const BASE_HEADER = "x-fairywren-base";
export const IP_HEADER = "x-fairywren-ip";
/** A short random id given to every request, echoed to the client and written with its log lines. */
export const REQUEST_ID_HEADER = "x-request-id";

/** The member viewing a page: their session's account, CSRF token and roles. */
export interface Viewer extends Readonly<SessionUser>, PageViewer {
  can(role: Role): boolean;
}

/** A CSRF token derived from the session token: nothing to store, and it dies with the session. */
export function csrfToken(sessionToken: string): string {
  return createHmac("sha256", sessionToken).update("csrf").digest("base64url");
}

/**
 * The session, base path and client address of every request, and the CSRF rule: every request
 * that changes state must come from this site (Origin / Sec-Fetch-Site) and, when logged in, carry
 * the session's token in the `_csrf` field or the X-CSRF-Token header.
 */
export function webContext(deps: { sql: Sql; config: Config }) {
  return new Elysia({ name: "web-context" })
    .derive({ as: "global" }, async ({ request, cookie }) => {
      const base = request.headers.get(BASE_HEADER) ?? "";
      const ip = request.headers.get(IP_HEADER) ?? "unknown";
      // A request that authenticates with an API token carries no session, whatever its cookies.
      const token = hasBearer(request) ? undefined : cookie[SESSION_COOKIE]?.value;
      let viewer: Viewer | null = null;
      if (typeof token === "string" && token.length > 0 && token.length < 100) {
        const user = await sessionUser(deps.sql, token);
        if (user) {
          const roles = new Set(user.roles);
          viewer = { ...user, csrf: csrfToken(token), can: (role) => roles.has(role) };
        }
      }
      const page: PageContext = { base, viewer, siteName: deps.config.siteName };
      return { page, viewer, base, ip, sessionToken: typeof token === "string" ? token : null };
    })
    .onBeforeHandle({ as: "global" }, ({ request, viewer, body, set }) => {
      if (request.method === "GET" || request.method === "HEAD") return;
      // A browser never adds an Authorization header to a cross-site request by itself, and such a
      // request is not logged in by its cookie (see the derive above): there is no session to forge.
      if (hasBearer(request)) return;
      if (isCrossSite(request)) {
        set.status = 403;
        return "This request came from another site and was refused.";
      }
      if (viewer && !csrfValid(viewer, request, body)) {
        set.status = 403;
        return "This form has expired: go back, reload the page and try again.";
      }
    });
}

/** Whether a request authenticates with `Authorization: Bearer <token>` (an API token). */
export function hasBearer(request: Request): boolean {
  return /^bearer\s/i.test(request.headers.get("authorization") ?? "");
}

/**
 * Whether a request says (Sec-Fetch-Site, Origin) that it comes from another site. `Origin: null`
 * counts as another site: browsers send it from sandboxed frames, `data:` and `file:` pages and
 * after cross-site redirects, never for this site's own forms (its Referrer-Policy, same-origin,
 * keeps their origin; `no-referrer` would have made every form post say null).
 */
export function isCrossSite(request: Request): boolean {
  const site = request.headers.get("sec-fetch-site");
  const origin = request.headers.get("origin");
  // Without a Host header (HTTP/1.0) the address the request was made to stands in for it.
  const host = request.headers.get("host") ?? new URL(request.url, "http://localhost").host;
  return (
    (site !== null && site !== "same-origin" && site !== "none") ||
    (origin !== null && (!URL.canParse(origin) || new URL(origin).host !== host))
  );
}

/** Checks the CSRF token a logged-in form or htmx request carries. */
export function csrfValid(viewer: Viewer, request: Request, body: unknown): boolean {
  const sent =
    request.headers.get("x-csrf-token") ??
    (body && typeof body === "object" && "_csrf" in body ? String((body as { _csrf: unknown })._csrf) : "");
  return constantTimeEqual(sent, viewer.csrf);
}

/** The session cookie's settings: HttpOnly, SameSite=Lax, Secure behind HTTPS, scoped to the base path. */
export function sessionCookie(config: Config, base: string, value: string, days = SESSION_DAYS) {
  return {
    value,
    httpOnly: true,
    sameSite: "lax" as const,
    secure: config.webapi.secure,
    path: base || "/",
    maxAge: days * 86400,
  };
}

/** A page saying what went wrong, with its status set. */
export function problem(
  page: PageContext,
  set: { status?: number | string },
  status: number,
  title: string,
  message: string,
) {
  set.status = status;
  return <ErrorPage page={page} status={status} title={title} message={message} />;
}

/** A 404 page for something that is not (or no longer) there. */
export function notFound(page: PageContext, set: { status?: number | string }, message: string) {
  return problem(page, set, 404, "Not found", message);
}

/** The part of a route's context a refusal sets. */
export type RefusedSet = { status?: number | string; headers: Record<string, string | number> };

/** How a page shows a refusal when it has a form to show again. */
export interface RefusedForm {
  /** The form again, with the problems by field (and the refusal's message). */
  render(errors: Record<string, string>, message: string): JSX.Element | Promise<JSX.Element>;
  /** Where on the form a refusal that names no field shows; without it such a refusal is an error page. */
  field?: string;
}

/**
 * The pages' one answer to a service's refusal: its status (and Retry-After when throttled), then
 * the form again with the problems by field when there is a form for them, else an error page
 * ("Not found", or `notFoundTitle`, for what is not there; "Not allowed" for the rest).
 */
export function refusedPage(
  page: PageContext,
  set: RefusedSet,
  refusal: Refusal,
  options?: { notFoundTitle?: string },
): JSX.Element;
export function refusedPage(
  page: PageContext,
  set: RefusedSet,
  refusal: Refusal,
  options: { form: RefusedForm; notFoundTitle?: string },
): JSX.Element | Promise<JSX.Element>;
export function refusedPage(
  page: PageContext,
  set: RefusedSet,
  refusal: Refusal,
  options: { form?: RefusedForm; notFoundTitle?: string } = {},
): JSX.Element | Promise<JSX.Element> {
  set.status = REFUSAL_STATUS[refusal.code];
  if (refusal.retryAfterSeconds) set.headers["retry-after"] = String(refusal.retryAfterSeconds);
  const { form } = options;
  const errors = refusal.fields ?? (form?.field ? { [form.field]: refusal.message } : null);
  if (form && errors) return form.render({ ...errors }, refusal.message);
  const title = refusal.code === "not_found" ? (options.notFoundTitle ?? "Not found") : "Not allowed";
  return problem(page, set, REFUSAL_STATUS[refusal.code], title, refusal.message);
}
