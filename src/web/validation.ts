import type { FieldProblem } from "./schemas.ts";

/** One problem a schema found, as Elysia reports it (TypeBox's value error). */
interface SchemaProblem {
  path?: string;
  value?: unknown;
  schema?: Record<string, unknown>;
}

/** What Elysia's validation error carries that the wording needs. */
export interface ValidationLike {
  type?: string;
  all?: SchemaProblem[];
  customError?: unknown;
}

/** The options a schema allows when it is a choice: a union of literals, or a `^(a|b|c)$` pattern. */
function choices(schema: Record<string, unknown>): string[] | null {
  const anyOf = schema.anyOf;
  if (Array.isArray(anyOf) && anyOf.length > 0 && anyOf.every((option) => option && "const" in option))
    return anyOf.map((option) => String((option as { const: unknown }).const));
  const pattern = typeof schema.pattern === "string" ? /^\^\(([\w|.-]+)\)\$$/.exec(schema.pattern) : null;
  return pattern ? pattern[1]!.split("|") : null;
}

function numberRange(schema: Record<string, unknown>): string {
  const whole = schema.type === "integer" || schema.multipleOf === 1;
  const noun = whole ? "whole number" : "number";
  const { minimum: min, maximum: max } = schema as { minimum?: number; maximum?: number };
  if (min !== undefined && max !== undefined) return `Use a ${noun} from ${min} to ${max}.`;
  if (min !== undefined) return `Use a ${noun} of at least ${min}.`;
  if (max !== undefined) return `Use a ${noun} of at most ${max}.`;
  return `Use a ${noun}.`;
}

/**
 * A plain sentence for one schema problem, in the words the pages use ("Use at most 200
 * characters."), never echoing the value sent.
 */
export function plainProblem(problem: SchemaProblem): string {
  const schema = problem.schema ?? {};
  const value = problem.value;
  if (value === undefined) return "This is required.";
  const options = choices(schema);
  if (options) return `Use one of: ${options.join(", ")}.`;
  switch (schema.type) {
    case "string": {
      // Elysia's t.File is a string schema of format binary.
      if (schema.format === "binary") return "Send a file.";
      if (typeof value !== "string") return "Use text.";
      const { maxLength, minLength } = schema as { maxLength?: number; minLength?: number };
      if (maxLength !== undefined && value.length > maxLength)
        return `Use at most ${maxLength} character${maxLength === 1 ? "" : "s"}.`;
      if (minLength !== undefined && value.length < minLength)
        return minLength === 1 ? "Fill this in." : `Use at least ${minLength} characters.`;
      if (schema.format === "date-time") return "Use a date and time such as 2026-01-31T12:00:00Z.";
      return "This is not in the form this field takes.";
    }
    case "number":
    case "integer":
      return numberRange(schema);
    case "boolean":
      return "Use true or false.";
    case "array": {
      const { maxItems, minItems } = schema as { maxItems?: number; minItems?: number };
      if (!Array.isArray(value)) return "Send a list.";
      if (maxItems !== undefined && value.length > maxItems) return `Send at most ${maxItems} items.`;
      if (minItems !== undefined && value.length < minItems) return `Send at least ${minItems} items.`;
      return "One of the items is not valid.";
    }
    case "object":
      return "Send an object of named fields (JSON or a form).";
    case "null":
      return "Send nothing here (null).";
  }
  // Elysia's t.Numeric: text that must read as a number, or a number.
  if (Array.isArray(schema.anyOf)) {
    const number = (schema.anyOf as Record<string, unknown>[]).find(
      (option) => option.type === "number" || option.type === "integer",
    );
    if (number) return numberRange(number);
  }
  return "This is not valid.";
}

/**
 * Field name → what is wrong with it, from an Elysia validation error: the schema's own message
 * where it has one (`wholeNumber`, `idOf`), else a plain sentence for the first problem of each
 * field. The API's `fields` and the pages' error page both come from here.
 */
export function validationProblems(error: ValidationLike): Record<string, string> {
  const custom = error.customError as Partial<FieldProblem> | undefined;
  if (custom && typeof custom.field === "string" && typeof custom.message === "string")
    return { [custom.field]: custom.message };
  const fields: Record<string, string> = {};
  let problems: SchemaProblem[] = [];
  try {
    problems = error.all ?? [];
  } catch {}
  for (const problem of problems) {
    const path = (problem.path ?? "").replace(/^\//, "").replaceAll("/", ".");
    const field = path && path !== "root" ? path : (error.type ?? "body");
    fields[field] ??= plainProblem(problem);
  }
  if (Object.keys(fields).length === 0) fields[error.type ?? "body"] = "This is not valid.";
  return fields;
}
