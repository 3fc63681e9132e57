/** @jsxImportSource @kitajs/html */
import { Elysia, t } from "elysia";
import { NewsEditPage, NewsItemPage, NewsListPage, type NewsView } from "../../../views/news/news.tsx";
import { notFound, refusedPage } from "../context.tsx";
import type { WebDeps } from "../deps.ts";
import { pageGate } from "../gate.tsx";
import { CsrfField, CsrfOnly, IdParams, optionalTexts } from "../schemas.ts";
import {
  editNews,
  findNews,
  NEWS_LIMITS,
  NO_NEWS,
  newsPage,
  newsRights,
  postNews,
  removeNews,
  type ShownNews,
} from "./service.ts";

/** A news row as the views show it: its body rendered from Markdown. */
export function newsView(row: ShownNews): NewsView {
  return row;
}

const DONE: Record<string, string> = {
  posted: "Posted: it is on the home page now.",
  saved: "Saved.",
  deleted: "Deleted.",
};

// Browsers send line breaks as CRLF, two characters where the form counted one.
const NewsBody = t.Object({
  title: t.Optional(t.String({ maxLength: NEWS_LIMITS.titleMax * 2 })),
  body: t.Optional(t.String({ maxLength: NEWS_LIMITS.bodyMax * 2 })),
  ...CsrfField,
});

/** The page for a news change refused as a whole (no such item, not allowed). */

/** Site news: everyone reads, administrators post, edit and delete. */
export function newsPages(deps: WebDeps) {
  return new Elysia({ name: "news-pages" })
    .use(pageGate(deps))
    .get(
      "/news",
      async ({ page, viewer, query }) => {
        const pageNo = query.page && /^[1-9][0-9]{0,5}$/.test(query.page) ? Number(query.page) : 1;
        const { rows, hasNext } = await newsPage(deps, { page: pageNo });
        return (
          <NewsListPage
            page={page}
            items={rows.map(newsView)}
            pageNo={pageNo}
            hasNext={hasNext}
            canManage={newsRights(viewer).canManage}
            limits={NEWS_LIMITS}
            notice={query.done ? DONE[query.done] : undefined}
          />
        );
      },
      { member: true, query: optionalTexts({ page: 10, done: 10 }) },
    )
    .post(
      "/news",
      async ({ page, viewer, body, set, base, redirect }) => {
        const result = await postNews(deps, viewer, body);
        if (result.ok) return redirect(`${base}/news/${result.item.id}?done=posted`, 303);
        return refusedPage(page, set, result.refusal, {
          form: {
            render: async (errors: Record<string, string>) => {
              const { rows, hasNext } = await newsPage(deps, { page: 1 });
              return (
                <NewsListPage
                  page={page}
                  items={rows.map(newsView)}
                  pageNo={1}
                  hasNext={hasNext}
                  canManage
                  limits={NEWS_LIMITS}
                  draft={{ title: body.title ?? "", body: body.body ?? "" }}
                  errors={errors}
                />
              );
            },
          },
        });
      },
      { role: { anyOf: "admin", back: "/news" }, body: NewsBody },
    )
    .get(
      "/news/:id",
      async ({ page, viewer, params, query, set }) => {
        const item = await findNews(deps, params.id);
        if (!item) return notFound(page, set, NO_NEWS);
        return (
          <NewsItemPage
            page={page}
            item={newsView(item)}
            canManage={newsRights(viewer).canManage}
            notice={query.done ? DONE[query.done] : undefined}
          />
        );
      },
      { member: true, params: IdParams, query: optionalTexts({ done: 10 }) },
    )
    .get(
      "/news/:id/edit",
      async ({ page, params, set }) => {
        const item = await findNews(deps, params.id);
        if (!item) return notFound(page, set, NO_NEWS);
        return (
          <NewsEditPage page={page} id={item.id} title={item.title} body={item.body} limits={NEWS_LIMITS} />
        );
      },
      { role: "admin", params: IdParams },
    )
    .post(
      "/news/:id/edit",
      async ({ page, viewer, params, body, set, base, redirect }) => {
        const result = await editNews(deps, viewer, params.id, {
          title: body.title ?? "",
          body: body.body ?? "",
        });
        if (result.ok) return redirect(`${base}/news/${params.id}?done=saved`, 303);
        return refusedPage(page, set, result.refusal, {
          form: {
            render: (errors) => (
              <NewsEditPage
                page={page}
                id={params.id}
                title={body.title ?? ""}
                body={body.body ?? ""}
                limits={NEWS_LIMITS}
                errors={errors}
              />
            ),
          },
        });
      },
      { role: { anyOf: "admin", back: "/news/:id/edit" }, params: IdParams, body: NewsBody },
    )
    .post(
      "/news/:id/delete",
      async ({ page, viewer, params, set, base, redirect }) => {
        const result = await removeNews(deps, viewer, params.id);
        if (result.ok) return redirect(`${base}/news?done=deleted`, 303);
        return refusedPage(page, set, result.refusal);
      },
      { role: { anyOf: "admin", back: "/news/:id" }, params: IdParams, body: CsrfOnly },
    );
}
