/** @jsxImportSource @kitajs/html */
import { Elysia, t } from "elysia";
import { CategoriesAdminPage, type CategoryFormState } from "../../../views/categories/admin.tsx";
import { type PageContext, type RefusedSet, refusedPage } from "../context.tsx";
import type { WebDeps } from "../deps.ts";
import { pageGate } from "../gate.tsx";
import { CsrfField, IdParams, optionalTexts } from "../schemas.ts";
import {
  CATEGORY_LIMITS,
  type CategoryChange,
  categoriesWithCounts,
  changeCategory,
  createCategory,
  ICONS,
  removeCategory,
} from "./service.ts";

const DONE: Record<string, string> = {
  added: "The category was added.",
  saved: "The category was saved.",
  deleted: "The category was deleted.",
  moved: "The category was deleted and its torrents moved.",
};

/** A whole number typed in a form, or NaN (the service names the problem). */
function formNumber(text: string): number {
  return /^\s*-?[0-9]{1,6}\s*$/.test(text) ? Number(text) : Number.NaN;
}

/** The category form's fields: name, icon and position as typed. */
const CategoryForm = t.Object({
  name: t.String({ maxLength: CATEGORY_LIMITS.nameMax }),
  icon: t.Optional(t.String({ maxLength: 32 })),
  position: t.String({ maxLength: 12 }),
  ...CsrfField,
});

/** Categories for administrators: list, add, change, delete. */
export function categoryPages(deps: WebDeps) {
  async function render(page: PageContext, extra: { state?: CategoryFormState; notice?: string } = {}) {
    return (
      <CategoriesAdminPage
        page={page}
        categories={await categoriesWithCounts(deps)}
        icons={ICONS}
        limits={CATEGORY_LIMITS}
        {...extra}
      />
    );
  }
  /** After a change: back to the list with a notice, or the page again with the refusal. */
  async function settle(
    ctx: { page: PageContext; set: RefusedSet; base: string },
    form: "new" | number,
    result: CategoryChange,
    done: string,
    values?: { name: string; icon: string; position: string },
  ) {
    if (result.ok)
      return new Response(null, {
        status: 303,
        headers: {
          location: `${ctx.base}/admin/categories?done=${done}${form === "new" || done === "saved" ? `#category-${result.category.id}` : ""}`,
        },
      });
    return refusedPage(ctx.page, ctx.set, result.refusal, {
      form: { render: (errors) => render(ctx.page, { state: { form, values, errors } }) },
    });
  }

  return new Elysia({ name: "category-pages" })
    .use(pageGate(deps))
    .get(
      "/admin/categories",
      ({ page, query }) => render(page, { notice: query.done ? DONE[query.done] : undefined }),
      { role: "admin", query: optionalTexts({ done: 20 }) },
    )
    .post(
      "/admin/categories",
      async (ctx) => {
        const { body, viewer } = ctx;
        const values = { name: body.name, icon: body.icon ?? "", position: body.position };
        const result = await createCategory(deps, viewer, { ...values, position: formNumber(body.position) });
        return settle(ctx, "new", result, "added", values);
      },
      { role: { anyOf: "admin", back: "/admin/categories" }, body: CategoryForm },
    )
    .post(
      "/admin/categories/:id",
      async (ctx) => {
        const { body, viewer, params } = ctx;
        const values = { name: body.name, icon: body.icon ?? "", position: body.position };
        const result = await changeCategory(deps, viewer, params.id, {
          ...values,
          position: formNumber(body.position),
        });
        return settle(ctx, params.id, result, "saved", values);
      },
      { role: { anyOf: "admin", back: "/admin/categories" }, params: IdParams, body: CategoryForm },
    )
    .post(
      "/admin/categories/:id/delete",
      async (ctx) => {
        const { body, viewer, params } = ctx;
        const moveText = body.move_to ?? "";
        const moveTo = /^[1-9][0-9]{0,14}$/.test(moveText) ? Number(moveText) : null;
        const result = await removeCategory(deps, viewer, params.id, moveTo);
        return settle(ctx, params.id, result, result.ok && result.moved ? "moved" : "deleted");
      },
      {
        role: { anyOf: "admin", back: "/admin/categories" },
        params: IdParams,
        body: t.Object({ move_to: t.Optional(t.String({ maxLength: 20 })), ...CsrfField }),
      },
    );
}
