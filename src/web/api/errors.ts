import { t } from "elysia";
import { databaseErrors, isDatabaseUnavailable } from "../../db/client.ts";
import { log } from "../../log.ts";
import type { Refusal, RefusalCode, Refused } from "../refusal.ts";
import { type ValidationLike, validationProblems } from "../validation.ts";

/** Machine-readable error codes of the API, each with the HTTP status it always comes with. */
export const ERROR_STATUS = {
  bad_request: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  gone: 410,
  payload_too_large: 413,
  validation: 422,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
} as const;
export type ErrorCode = keyof typeof ERROR_STATUS;

/** The one error body of every answer under /api: `{"error": {"code", "message", "fields"?}}`. */
export const ErrorBody = t.Object(
  {
    error: t.Object({
      code: t.String({ description: `One of: ${Object.keys(ERROR_STATUS).join(", ")}` }),
      message: t.String({ description: "What went wrong, for a person to read" }),
      fields: t.Optional(
        t.Record(t.String(), t.String(), {
          description: "Per input field (body, query or path parameter): what is wrong with it",
        }),
      ),
    }),
  },
  { description: "An error" },
);
export type ErrorBodyType = typeof ErrorBody.static;

/** An error a route throws to answer with the API's error body. */
export class ApiError extends Error {
  override name = "ApiError";
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly fields?: Record<string, string>,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.status = ERROR_STATUS[code];
  }
}

/** Shorthands for the errors most routes raise. */
export const fail = {
  unauthenticated: () =>
    new ApiError(
      "unauthenticated",
      "Log in, or send a personal API token as 'Authorization: Bearer <token>'.",
    ),
  forbidden: (message: string) => new ApiError("forbidden", message),
  notFound: (message: string) => new ApiError("not_found", message),
  unavailable: (message: string) => new ApiError("unavailable", message),
  validation: (fields: Record<string, string>, message = "Some fields are not valid.") =>
    new ApiError("validation", message, fields),
};

/** The API's code for each kind of refusal. */
const REFUSAL_CODES: Record<RefusalCode, ErrorCode> = {
  invalid: "validation",
  unauthenticated: "unauthenticated",
  forbidden: "forbidden",
  not_found: "not_found",
  conflict: "conflict",
  gone: "gone",
  too_large: "payload_too_large",
  throttled: "rate_limited",
  unavailable: "unavailable",
};

/** The refusals whose answer lists the problems by field: the rest say it in the message alone. */
const LISTS_FIELDS: ReadonlySet<RefusalCode> = new Set(["invalid", "conflict", "too_large"]);

/**
 * The API's one answer to a service's refusal, for the route to throw: its code and message, the
 * problems by field where the kind lists them (`rename` spells a field as the API does), and
 * Retry-After when throttled.
 */
export function refusalError(
  refusal: Refusal,
  options: { rename?: Readonly<Record<string, string>>; headers?: Record<string, string> } = {},
): ApiError {
  const listed = LISTS_FIELDS.has(refusal.code) ? refusal.fields : undefined;
  const fields =
    listed &&
    Object.fromEntries(
      Object.entries(listed).map(([name, problem]) => [options.rename?.[name] ?? name, problem]),
    );
  const headers = { ...options.headers };
  if (refusal.retryAfterSeconds) headers["retry-after"] = String(refusal.retryAfterSeconds);
  return new ApiError(REFUSAL_CODES[refusal.code], refusal.message, fields, headers);
}

/** What a service did, for the route to answer with; its refusal, thrown as the API's error, otherwise. */
export function accepted<T extends { readonly ok: boolean }>(
  result: T,
  options?: Parameters<typeof refusalError>[1],
): Exclude<T, Refused> {
  if (!result.ok) throw refusalError((result as unknown as Refused).refusal, options);
  return result as Exclude<T, Refused>;
}

/** The JSON response for an error body. */
export function errorResponse(
  code: ErrorCode,
  message: string,
  fields?: Record<string, string>,
  headers: Record<string, string> = {},
): Response {
  const body: ErrorBodyType = { error: fields ? { code, message, fields } : { code, message } };
  return new Response(JSON.stringify(body), {
    status: ERROR_STATUS[code],
    headers: { ...headers, "content-type": "application/json; charset=utf-8", "cache-control": "no-store" },
  });
}

/** Whether a path belongs to the API, whose errors are JSON (after the proxy prefix was stripped). */
export function isApiPath(pathname: string): boolean {
  return pathname === "/api" || pathname.startsWith("/api/");
}

/**
 * The API's answer to any error under /api: Elysia's own (no route, validation, unparsable body),
 * an ApiError, or anything unexpected (logged; the client gets no detail and never a stack trace).
 */
export function apiErrorResponse(code: string | number, error: unknown, request: Request): Response {
  // An ApiError thrown while parsing the body comes wrapped in Elysia's ParseError.
  const own = error instanceof ApiError ? error : (error as { cause?: unknown } | null)?.cause;
  if (own instanceof ApiError) return errorResponse(own.code, own.message, own.fields, own.headers);
  if (code === "NOT_FOUND") return errorResponse("not_found", "There is no API endpoint at this address.");
  if (code === "VALIDATION") {
    const validation = error as ValidationLike;
    // A response that does not match its own schema is a bug here, not the client's mistake.
    if (validation.type !== "response")
      return errorResponse("validation", "The request is not valid.", validationProblems(validation));
  }
  if (code === "PARSE")
    return errorResponse(
      "bad_request",
      "The request body could not be parsed: check its syntax and Content-Type (JSON, form or multipart, as documented).",
    );
  if (code === "INVALID_FILE_TYPE")
    return errorResponse("validation", "The file is not of an accepted type.", { file: "Not accepted." });
  if (code === "INVALID_COOKIE_SIGNATURE") return errorResponse("bad_request", "A cookie is malformed.");
  if (isDatabaseUnavailable(error)) {
    databaseErrors.count++;
    log.warn("database unavailable", { error: error as Error, path: new URL(request.url).pathname });
    return errorResponse(
      "unavailable",
      "The site cannot reach its database right now. Try again in a minute.",
      undefined,
      { "retry-after": "30" },
    );
  }
  log.error("api request failed", {
    requestId: request.headers.get("x-request-id"),
    error: (error as Error)?.stack ?? String(error),
    path: new URL(request.url).pathname,
  });
  return errorResponse("internal", "The server could not answer. Try again in a moment.");
}
