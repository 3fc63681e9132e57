import { Elysia } from "elysia";
import { looksLikeToken, tokenUser } from "../../db/queries/tokens.ts";
import type { Role } from "../../db/queries/users.ts";
import { constantTimeEqual } from "../../shared/secrets.ts";
import { admission } from "../access.ts";
import { isCrossSite, webContext } from "../context.tsx";
import type { WebDeps } from "../deps.ts";
import { FixedWindowLimiter } from "../rate-limit.ts";
import { ApiError, fail, refusalError } from "./errors.ts";

/** Where the API lives. */
export const API_PREFIX = "/api/v1";

/** The member calling the API, and how they proved it. */
export interface ApiCaller {
  readonly id: number;
  readonly name: string;
  readonly passkey: string;
  readonly roles: readonly Role[];
  /** "session": the site's cookie (with its CSRF token); "token": a personal API token. */
  readonly via: "session" | "token";
  /** The API token's id, when called with one. */
  readonly tokenId: number | null;
  /** The session's CSRF token, when called with the cookie. */
  readonly csrf: string | null;
  can(role: Role): boolean;
}

/** Requests per window: per credential (token or session) once authenticated, else per address. */
export interface ApiLimits {
  readonly perCredential: number;
  readonly perAddress: number;
  readonly windowMs: number;
}

export const DEFAULT_LIMITS: ApiLimits = { perCredential: 120, perAddress: 60, windowMs: 60_000 };

/** The rate limiters of one running API (shared by every route of it). */
export interface ApiLimiters {
  readonly credential: FixedWindowLimiter;
  readonly address: FixedWindowLimiter;
}

export function apiLimiters(limits: ApiLimits = DEFAULT_LIMITS): ApiLimiters {
  return {
    credential: new FixedWindowLimiter(limits.perCredential, limits.windowMs),
    address: new FixedWindowLimiter(limits.perAddress, limits.windowMs),
  };
}

const BEARER = /^bearer[ \t]+(\S+)[ \t]*$/i;

/**
 * Who calls, for every API route: an `Authorization: Bearer` token (only it, when sent: an invalid
 * one is refused even if a session cookie came along), or else the session cookie. A cookie-
 * authenticated change must come from this site and carry the session's token in X-CSRF-Token,
 * like every form of the site. Then the rate limit: per token or session, or per address for
 * calls without valid credentials, counted before anything else happens.
 *
 * Routes ask for a caller with the same gate options as pages: `member: true` or `role: "invite"` /
 * `role: ["moderate", "admin"]`; anonymous calls get 401 and callers without the role 403, and the
 * handler gets `caller` as present.
 */
export function apiContext(deps: WebDeps, limiters: ApiLimiters) {
  function limit(key: string, limiter: FixedWindowLimiter, headers: Record<string, string | number>) {
    const decision = limiter.hit(key);
    headers["ratelimit-limit"] = String(decision.limit);
    headers["ratelimit-remaining"] = String(decision.remaining);
    headers["ratelimit-reset"] = String(decision.resetSeconds);
    if (!decision.allowed)
      throw new ApiError(
        "rate_limited",
        `Too many requests: at most ${decision.limit} a minute. Try again in ${decision.resetSeconds} s.`,
        undefined,
        { "retry-after": String(decision.resetSeconds) },
      );
  }

  return new Elysia({ name: "api-context" })
    .use(webContext(deps))
    .onParse({ as: "scoped" }, apiBody)
    .derive({ as: "scoped" }, async ({ request, viewer, ip, set, body, query }) => {
      const headers = set.headers as Record<string, string | number>;
      // PostgreSQL text cannot hold U+0000: refused here, for every field of every route.
      const nul = { ...nulFields(query, "query"), ...nulFields(body, "body") };
      const authorization = request.headers.get("authorization");
      if (authorization !== null) {
        const token = BEARER.exec(authorization)?.[1];
        const user = token && looksLikeToken(token) ? await tokenUser(deps.sql, token) : null;
        if (!user) {
          limit(`ip:${ip}`, limiters.address, headers);
          throw new ApiError(
            "unauthenticated",
            token
              ? "This API token is not valid: it was revoked, or its account is disabled."
              : "Send a personal API token as 'Authorization: Bearer <token>'.",
          );
        }
        limit(`token:${user.tokenId}`, limiters.credential, headers);
        if (Object.keys(nul).length) throw fail.validation(nul);
        const roles = new Set(user.roles);
        const caller: ApiCaller = {
          id: user.id,
          name: user.name,
          passkey: user.passkey,
          roles: user.roles,
          via: "token",
          tokenId: user.tokenId,
          csrf: null,
          can: (role) => roles.has(role),
        };
        return { caller };
      }
      if (viewer) limit(`user:${viewer.id}`, limiters.credential, headers);
      else limit(`ip:${ip}`, limiters.address, headers);
      if (Object.keys(nul).length) throw fail.validation(nul);
      // The site-wide rule (see webContext), answered here in the API's error shape.
      if (request.method !== "GET" && request.method !== "HEAD") {
        if (isCrossSite(request))
          throw new ApiError("forbidden", "This request came from another site and was refused.");
        if (viewer && !constantTimeEqual(request.headers.get("x-csrf-token") ?? "", viewer.csrf))
          throw new ApiError(
            "forbidden",
            "A change made with the session cookie needs the session's CSRF token in the X-CSRF-Token header (GET /api/v1/me returns it).",
          );
      }
      if (!viewer) return { caller: null as ApiCaller | null };
      const caller: ApiCaller = {
        id: viewer.id,
        name: viewer.name,
        passkey: viewer.passkey,
        roles: viewer.roles,
        via: "session",
        tokenId: null,
        csrf: viewer.csrf,
        can: viewer.can,
      };
      return { caller };
    })
    .macro({
      member: (_: true) => ({ resolve: ({ caller }) => ({ caller: admitted(caller ?? null, []) }) }),
      role: (anyOf: Role | readonly Role[]) => ({
        resolve: ({ caller }) => ({
          caller: admitted(caller ?? null, typeof anyOf === "string" ? [anyOf] : anyOf),
        }),
      }),
    });
}

/**
 * The API's one rule for request bodies, ahead of Elysia's parsers: JSON is parsed strictly (a
 * malformed one is a 400, even where the body is optional and Elysia's own parser would quietly
 * drop it), forms and multipart go on to Elysia's parsers, and any other non-empty body (text,
 * bytes, no Content-Type) is a 400 that says what to send.
 */
async function apiBody({ request }: { request: Request }, contentType: string): Promise<unknown> {
  if (!request.body) return undefined;
  const type = contentType.trim().toLowerCase();
  if (type === "application/x-www-form-urlencoded" || type === "multipart/form-data") return undefined;
  const text = await request.text();
  // Nothing sent: the route's schema decides whether a body was needed.
  if (text === "") return undefined;
  if (type !== "application/json" && !type.endsWith("+json"))
    throw new ApiError(
      "bad_request",
      `A body sent as ${type || "no Content-Type"} cannot be read: send JSON with 'Content-Type: application/json' (or a form, where the documentation says so).`,
    );
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError("bad_request", "The request body is not valid JSON: check its syntax.");
  }
}

/** The caller when the gate lets them through; the API's 401 or 403 otherwise. */
function admitted(caller: ApiCaller | null, anyOf: readonly Role[]): ApiCaller {
  const decision = admission(caller, anyOf);
  if (!decision.ok || !caller)
    throw decision.ok || decision.refusal.code === "unauthenticated"
      ? fail.unauthenticated()
      : refusalError(decision.refusal);
  return caller;
}

/** Fields (top level of a body or query) holding a NUL character anywhere inside, by name. */
export function nulFields(input: unknown, whole: string): Record<string, string> {
  const message = "Contains a NUL character (U+0000), which is not allowed.";
  const has = (value: unknown, depth: number): boolean => {
    if (typeof value === "string") return value.includes("\u0000");
    if (depth > 8 || value === null || typeof value !== "object" || value instanceof Blob) return false;
    return Object.entries(value).some(([key, inner]) => key.includes("\u0000") || has(inner, depth + 1));
  };
  if (typeof input === "string") return has(input, 0) ? { [whole]: message } : {};
  if (input === null || typeof input !== "object") return {};
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(input))
    if (key.includes("\u0000") || has(value, 0)) out[key.includes("\u0000") ? whole : key] = message;
  return out;
}
