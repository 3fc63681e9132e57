import { Elysia, t } from "elysia";
import { API_PREFIX, type ApiLimiters, apiContext } from "../api/context.ts";
import { accepted, fail } from "../api/errors.ts";
import { CategoryBody, errors } from "../api/schemas.ts";
import type { WebDeps } from "../deps.ts";
import { IdParams, idOf } from "../schemas.ts";
import {
  CATEGORY_LIMITS,
  categories,
  changeCategory,
  createCategory,
  findCategory,
  ICONS,
  NO_CATEGORY,
  removeCategory,
} from "./service.ts";

const Name = t.String({ maxLength: CATEGORY_LIMITS.nameMax, description: "1 to 40 characters, unique" });
const Icon = t.String({ maxLength: 32, description: `One of: ${ICONS.join(", ")}` });
const Position = t.Integer({
  minimum: CATEGORY_LIMITS.positionMin,
  maximum: CATEGORY_LIMITS.positionMax,
  description: "Place in the list: lower first, equal ones by name",
});

/** Categories: list (members), create, change and delete (administrators). */
export function categoriesApi(deps: WebDeps, limiters: ApiLimiters) {
  return new Elysia({ name: "api-categories" })
    .use(apiContext(deps, limiters))
    .get("/categories", async () => ({ categories: await categories(deps) }), {
      member: true,
      response: {
        200: t.Object({ categories: t.Array(CategoryBody) }, { description: "Every category, in order" }),
        ...errors(401),
      },
      detail: {
        tags: ["Categories"],
        summary: "List categories",
        description: "In the site's order. A torrent's `category_id` is one of these.",
      },
    })
    .post(
      "/categories",
      async ({ caller, body, set, base }) => {
        const { category } = accepted(
          await createCategory(deps, caller, {
            name: body.name,
            icon: body.icon,
            position: body.position ?? 0,
          }),
        );
        set.status = 201;
        set.headers.location = `${base}${API_PREFIX}/categories/${category.id}`;
        return category;
      },
      {
        role: "admin",
        body: t.Object(
          { name: Name, icon: Icon, position: t.Optional(Position) },
          { examples: [{ name: "Films", icon: "film", position: 10 }] },
        ),
        response: { 201: CategoryBody, ...errors(401, 403, 409, 422) },
        detail: {
          tags: ["Categories"],
          summary: "Create a category",
          description: "Administrators only. A name taken by another category (ignoring case) is 409.",
        },
      },
    )
    .patch(
      "/categories/:id",
      async ({ caller, params, body }) => {
        const current = await findCategory(deps, params.id);
        if (!current) throw fail.notFound(NO_CATEGORY);
        if (body.name === undefined && body.icon === undefined && body.position === undefined)
          throw fail.validation({ body: "Send a name, an icon, a position or several." });
        return accepted(
          await changeCategory(deps, caller, params.id, {
            name: body.name ?? current.name,
            icon: body.icon ?? current.icon,
            position: body.position ?? current.position,
          }),
        ).category;
      },
      {
        role: "admin",
        params: IdParams,
        body: t.Object(
          { name: t.Optional(Name), icon: t.Optional(Icon), position: t.Optional(Position) },
          { examples: [{ name: "Television", icon: "tv" }] },
        ),
        response: { 200: CategoryBody, ...errors(401, 403, 404, 409, 422) },
        detail: {
          tags: ["Categories"],
          summary: "Change a category",
          description: "Administrators only. What is left out stays.",
        },
      },
    )
    .delete(
      "/categories/:id",
      async ({ caller, params, query, set }) => {
        accepted(await removeCategory(deps, caller, params.id, query.move_to ?? null));
        set.status = 204;
        return null;
      },
      {
        role: "admin",
        params: IdParams,
        query: t.Object({
          move_to: t.Optional(
            idOf("move_to", "The category its torrents move to (needed when it holds any)"),
          ),
        }),
        response: { 204: t.Null({ description: "Deleted" }), ...errors(401, 403, 404, 409, 422) },
        detail: {
          tags: ["Categories"],
          summary: "Delete a category",
          description:
            "Administrators only. A category holding torrents needs `move_to`, the category they move to (409 without it).",
        },
      },
    );
}
