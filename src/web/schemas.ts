import { t } from "elysia";
import { ALL_ROLES } from "../db/queries/users.ts";

/** What a schema's `error` gives a validation error, so the error names the field. */
export interface FieldProblem {
  field: string;
  message: string;
}

/**
 * A whole number in a path or query (or a form field), from `min` to `max`. Elysia checks the range
 * after turning the text into a number and then no longer knows the field's name, so the schema's
 * `error` (a function: it stays out of the OpenAPI document) carries it.
 */
export function wholeNumber(field: string, min: number, max: number, description: string, message?: string) {
  const problem: FieldProblem = { field, message: message ?? `Use a whole number from ${min} to ${max}.` };
  return t.Numeric({ minimum: min, maximum: max, multipleOf: 1, description, error: () => problem as never });
}

/** The `page` and `limit` query fields of a paged list: which page, and how many `items` on it. */
export function pagingFields(spec: {
  maxPage: number;
  pageNote?: string;
  items: string;
  maxLimit: number;
  defaultLimit: number;
}) {
  const { maxPage, maxLimit, defaultLimit } = spec;
  return {
    page: t.Optional(wholeNumber("page", 1, maxPage, `From 1 (default)${spec.pageNote ?? ""}`)),
    limit: t.Optional(
      wholeNumber(
        "limit",
        1,
        maxLimit,
        `${spec.items} per page, at most ${maxLimit} (default ${defaultLimit})`,
      ),
    ),
  };
}

/**
 * A database id in a path: digits only (no sign, space, point or exponent, which a plain number
 * conversion would accept), at most 15 of them, given to the handler as a number. Pages and the
 * API use this one schema; a page answers a malformed one with 404, the API with 422.
 */
export const idOf = (field = "id", description = "A positive whole number") => {
  const problem: FieldProblem = { field, message: "Use a positive whole number." };
  return t
    .Transform(t.String({ pattern: "^[1-9][0-9]{0,14}$", description, error: () => problem as never }))
    .Decode((text) => Number(text))
    .Encode((id: number) => String(id));
};

/** Path parameters of a route about one thing, by its id. */
export const IdParams = t.Object({ id: idOf() });

/** A role's name, for pages and the API alike. */
export const RoleName = t.Union(
  ALL_ROLES.map((role) => t.Literal(role)),
  { description: `One of: ${ALL_ROLES.join(", ")}` },
);

/** The CSRF field every logged-in form carries (checked by the web context, not by the handler). */
export const CsrfField = { _csrf: t.Optional(t.String({ maxLength: 200 })) };

/** The body of a form that sends nothing but its CSRF token. */
export const CsrfOnly = t.Optional(t.Object(CsrfField));

/**
 * A query of optional short texts, each with its longest length: `optionalTexts({ q: 64, page: 10 })`.
 * Pages read such fields themselves (notices after a redirect, search boxes), so none is refused
 * for its content, only for its size.
 */
export function optionalTexts<K extends string>(fields: Record<K, number>) {
  const properties = {} as Record<K, ReturnType<typeof optionalText>>;
  for (const [name, maxLength] of Object.entries(fields) as [K, number][])
    properties[name] = optionalText(maxLength);
  return t.Object(properties);
}

function optionalText(maxLength: number) {
  return t.Optional(t.String({ maxLength }));
}
