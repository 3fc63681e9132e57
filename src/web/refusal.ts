/**
 * Why the web side did not do what was asked: the one shape every service of `src/web/<feature>/`
 * refuses with. Pages answer it through `refusedPage` (context.tsx), the API through
 * `refusalError` (api/errors.ts), so a refusal reads the same on both.
 */

/** What kind of refusal, each with the HTTP status it always comes with. */
export const REFUSAL_STATUS = {
  /** The input breaks a rule (by field). */
  invalid: 422,
  /** Nobody logged in, or the credentials were wrong. */
  unauthenticated: 401,
  /** The actor may not do this. */
  forbidden: 403,
  /** There is no such thing (any more). */
  not_found: 404,
  /** It clashes with what is there (a name taken, a limit reached). */
  conflict: 409,
  /** It was there once and cannot be used any more (an invite used, revoked or expired). */
  gone: 410,
  /** A file over the size limit. */
  too_large: 413,
  /** Too many tries: wait `retryAfterSeconds`. */
  throttled: 429,
  /** Something the answer needs cannot be reached right now. */
  unavailable: 503,
} as const;
export type RefusalCode = keyof typeof REFUSAL_STATUS;

export interface Refusal {
  readonly code: RefusalCode;
  /** What went wrong, for a person to read: the API's message, the error page's text. */
  readonly message: string;
  /**
   * What is wrong with each input, by field: a form shows them beside its fields, and the API
   * lists them with "invalid" and "conflict".
   */
  readonly fields?: Readonly<Record<string, string>>;
  /** Seconds to wait before trying again, for "throttled". */
  readonly retryAfterSeconds?: number;
}

/** A service's answer when it refuses. */
export interface Refused {
  readonly ok: false;
  readonly refusal: Refusal;
}

/** A service's answer: what it did (`ok: true` and its data), or its refusal. */
export type Result<T extends object = object> = ({ readonly ok: true } & T) | Refused;

/** The message of a refusal for several fields at once. */
export const INVALID_FIELDS = "Some fields are not valid.";

/** Refuses with `code` and `message` (and, for a form, problems by field or seconds to wait). */
export function refuse(
  code: RefusalCode,
  message: string,
  extra: { fields?: Record<string, string>; retryAfterSeconds?: number } = {},
): Refused {
  return { ok: false, refusal: { code, message, ...extra } };
}

/** Refuses one input: its problem is both the message and the field's. */
export function refuseField(field: string, message: string, code: RefusalCode = "invalid"): Refused {
  return refuse(code, message, { fields: { [field]: message } });
}

/** Refuses inputs that break the rules, each with its problem. */
export function refuseFields(fields: Record<string, string>): Refused {
  return refuse("invalid", INVALID_FIELDS, { fields });
}

/** Refusals that several features give in the same words. */
export const NO_TORRENT = "There is no torrent with this number.";
export const NO_MEMBER = "There is no member with this number.";
