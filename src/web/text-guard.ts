import { Elysia } from "elysia";

/** Depth to which request bodies are searched (forms are flat; API bodies are shallow). */
const MAX_DEPTH = 6;

/** The name of the first field holding a NUL character, or null. PostgreSQL text cannot hold one. */
export function fieldWithNul(value: unknown, name = "", depth = 0): string | null {
  if (typeof value === "string") return value.includes("\u0000") ? name || "value" : null;
  if (depth >= MAX_DEPTH || value === null || typeof value !== "object" || value instanceof Blob) return null;
  for (const [key, inner] of Object.entries(value)) {
    if (key.includes("\u0000")) return "field name";
    const found = fieldWithNul(inner, name ? `${name}.${key}` : key, depth + 1);
    if (found) return found;
  }
  return null;
}

/**
 * Refuses, before any handler runs, a query or body with a NUL character anywhere in its text: no
 * field of ours can hold one, and the database would fail on it. Pages get a readable 422, the API
 * its error shape.
 */
export function textGuard() {
  return new Elysia({ name: "text-guard" }).onBeforeHandle(
    { as: "global" },
    ({ request, query, body, set }) => {
      const field = fieldWithNul(query) ?? fieldWithNul(body);
      if (!field) return;
      set.status = 422;
      const message = `The field ${field} contains a NUL character, which is not allowed in text.`;
      const pathname = new URL(request.url).pathname;
      // Torznab clients read only its XML errors: 201, incorrect parameter.
      if (pathname.startsWith("/torznab/")) {
        set.status = 400;
        return new Response(
          `<?xml version="1.0" encoding="UTF-8"?>\n<error code="201" description="Incorrect parameter: ${field.replace(/[^A-Za-z0-9_.-]/g, "")} contains a NUL character."/>\n`,
          { status: 400, headers: { "content-type": "application/xml; charset=utf-8" } },
        );
      }
      if (pathname.startsWith("/api/"))
        return Response.json(
          { error: { code: "validation", message, fields: { [field]: "contains a NUL character" } } },
          { status: 422 },
        );
      return new Response(message, { status: 422, headers: { "content-type": "text/plain; charset=utf-8" } });
    },
  );
}
