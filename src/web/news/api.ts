import { Elysia, t } from "elysia";
import { API_PREFIX, type ApiLimiters, apiContext } from "../api/context.ts";
import { accepted, fail } from "../api/errors.ts";
import { errors, MemberRef } from "../api/schemas.ts";
import type { WebDeps } from "../deps.ts";
import { IdParams, wholeNumber } from "../schemas.ts";
import {
  editNews,
  findNews,
  NEWS_LIMITS,
  NO_NEWS,
  newsPage,
  postNews,
  removeNews,
  type ShownNews,
} from "./service.ts";

const Nullable = <T extends Parameters<typeof t.Union>[0][number]>(schema: T) => t.Union([schema, t.Null()]);

/** A news item as the API shows it. */
export const NewsBody = t.Object(
  {
    id: t.Number(),
    title: t.String(),
    body: t.String({ description: "Markdown, as written" }),
    body_html: t.String({ description: "The body rendered to safe HTML, as the site shows it" }),
    author: Nullable(MemberRef),
    created_at: t.String({ format: "date-time" }),
    updated_at: Nullable(t.String({ format: "date-time", description: "When it was last edited" })),
  },
  { description: "A news item" },
);

/** A news row as the API shows it. */
export function newsBody(row: ShownNews): typeof NewsBody.static {
  return {
    id: row.id,
    title: row.title,
    body: row.body,
    body_html: row.html,
    author: row.authorId !== null ? { id: row.authorId, name: row.author ?? "" } : null,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt?.toISOString() ?? null,
  };
}

const Fields = {
  title: t.String({
    maxLength: NEWS_LIMITS.titleMax * 2,
    description: `At most ${NEWS_LIMITS.titleMax} characters`,
  }),
  body: t.String({
    maxLength: NEWS_LIMITS.bodyMax * 2,
    description: `Markdown, at most ${NEWS_LIMITS.bodyMax} characters`,
  }),
};

/** Site news: members read; administrators post, edit and delete. */
export function newsApi(deps: WebDeps, limiters: ApiLimiters) {
  return new Elysia({ name: "api-news" })
    .use(apiContext(deps, limiters))
    .get(
      "/news",
      async ({ query }) => {
        const page = query.page ?? 1;
        const { rows, hasNext } = await newsPage(deps, { page });
        return { items: rows.map(newsBody), page, has_next: hasNext };
      },
      {
        member: true,
        query: t.Object({ page: t.Optional(wholeNumber("page", 1, 100000, "From 1 (default)")) }),
        response: {
          200: t.Object(
            { items: t.Array(NewsBody), page: t.Number(), has_next: t.Boolean() },
            { description: "One page of news, newest first (20 a page)" },
          ),
          ...errors(401, 422),
        },
        detail: { tags: ["News"], summary: "List news", description: "Newest first, 20 a page." },
      },
    )
    .post(
      "/news",
      async ({ caller, body, set, base }) => {
        const { item } = accepted(await postNews(deps, caller, body));
        set.status = 201;
        set.headers.location = `${base}${API_PREFIX}/news/${item.id}`;
        return newsBody(item);
      },
      {
        role: "admin",
        body: t.Object(Fields, {
          examples: [
            { title: "Maintenance on Sunday", body: "The site is down from **02:00 to 03:00 UTC**." },
          ],
        }),
        response: { 201: NewsBody, ...errors(401, 403, 422) },
        detail: { tags: ["News"], summary: "Post news", description: "Administrators only." },
      },
    )
    .get(
      "/news/:id",
      async ({ params }) => {
        const item = await findNews(deps, params.id);
        if (!item) throw fail.notFound(NO_NEWS);
        return newsBody(item);
      },
      {
        member: true,
        params: IdParams,
        response: { 200: NewsBody, ...errors(401, 404, 422) },
        detail: { tags: ["News"], summary: "A news item" },
      },
    )
    .patch(
      "/news/:id",
      async ({ caller, params, body }) =>
        newsBody(accepted(await editNews(deps, caller, params.id, body)).item),
      {
        role: "admin",
        params: IdParams,
        body: t.Object(
          { title: t.Optional(Fields.title), body: t.Optional(Fields.body) },
          { examples: [{ title: "Maintenance moved to Monday" }] },
        ),
        response: { 200: NewsBody, ...errors(401, 403, 404, 422) },
        detail: {
          tags: ["News"],
          summary: "Edit news",
          description: "Administrators only: the title, the body or both.",
        },
      },
    )
    .delete(
      "/news/:id",
      async ({ caller, params, set }) => {
        accepted(await removeNews(deps, caller, params.id));
        set.status = 204;
        return null;
      },
      {
        role: "admin",
        params: IdParams,
        response: { 204: t.Null({ description: "Deleted" }), ...errors(401, 403, 404, 422) },
        detail: { tags: ["News"], summary: "Delete news", description: "Administrators only." },
      },
    );
}
