/** @jsxImportSource @kitajs/html */
import { DateTime } from "../layout/date-time.tsx";
import { Csrf, FieldError, Layout } from "../layout/layout.tsx";
import { MemberLink } from "../layout/member-link.tsx";
import type { PageContext } from "../layout/page.ts";
import { Rendered, type RenderedHtml } from "../markdown/rendered.tsx";

/** A news item as pages show it, its body already rendered from Markdown. */
export interface NewsView {
  id: number;
  title: string;
  author: string | null;
  createdAt: Date;
  updatedAt: Date | null;
  /** The body rendered to HTML by the site's Markdown renderer. */
  html: RenderedHtml;
}

/** Longest title and body of a news item. */
export interface NewsLimits {
  titleMax: number;
  bodyMax: number;
}

/** One news item: title, who and when, the text, and for administrators edit and delete. */
export function NewsArticle(props: {
  page: PageContext;
  item: NewsView;
  canManage: boolean;
  heading?: 2 | 3;
}) {
  const { base } = props.page;
  const { item } = props;
  const link = (
    <a href={`${base}/news/${item.id}`} safe>
      {item.title}
    </a>
  );
  return (
    <article class="card news" id={`news-${item.id}`}>
      {props.heading === 2 ? <h2 class="news-title">{link}</h2> : <h3 class="news-title">{link}</h3>}
      <p class="meta muted">
        <DateTime date={item.createdAt} day /> · <MemberLink base={base} name={item.author} />
        {item.updatedAt ? (
          <>
            {" "}
            · edited <DateTime date={item.updatedAt} day />
          </>
        ) : (
          ""
        )}
      </p>
      <Rendered html={item.html} />
      {props.canManage ? (
        <div class="row actions">
          <a class="button secondary" href={`${base}/news/${item.id}/edit`}>
            Edit
          </a>
          <form method="post" action={`${base}/news/${item.id}/delete`} class="inline">
            <Csrf page={props.page} />
            <button class="danger" type="submit">
              Delete
            </button>
          </form>
        </div>
      ) : (
        ""
      )}
    </article>
  );
}

/** The fields of a news item, for posting and editing. */
function NewsFields(props: {
  title: string;
  body: string;
  limits: NewsLimits;
  errors?: Record<string, string>;
}) {
  return (
    <>
      <label>
        Title
        <input
          type="text"
          name="title"
          value={props.title}
          required
          maxlength={String(props.limits.titleMax)}
        />
        <FieldError errors={props.errors} name="title" />
      </label>
      <label>
        Text
        <textarea name="body" required rows="6" maxlength={String(props.limits.bodyMax)} safe>
          {props.body}
        </textarea>
        <span class="help">Markdown, at most {props.limits.bodyMax} characters.</span>
        <FieldError errors={props.errors} name="body" />
      </label>
    </>
  );
}

function newsUrl(base: string, pageNo: number): string {
  return `${base}/news${pageNo > 1 ? `?page=${pageNo}` : ""}`;
}

/** All news, newest first, with the form to post for administrators. */
export function NewsListPage(props: {
  page: PageContext;
  items: NewsView[];
  pageNo: number;
  hasNext: boolean;
  canManage: boolean;
  limits: NewsLimits;
  draft?: { title: string; body: string };
  errors?: Record<string, string>;
  notice?: string;
}) {
  const { base } = props.page;
  return (
    <Layout page={props.page} title="News">
      <h1>News</h1>
      {props.notice ? (
        <div class="notice good" role="status" safe>
          {props.notice}
        </div>
      ) : (
        ""
      )}
      {props.canManage ? (
        <details class="card post-news" open={props.errors ? true : undefined}>
          <summary>Post news</summary>
          <form class="stack" method="post" action={`${base}/news`}>
            <Csrf page={props.page} />
            <NewsFields
              title={props.draft?.title ?? ""}
              body={props.draft?.body ?? ""}
              limits={props.limits}
              errors={props.errors}
            />
            <button type="submit">Post</button>
          </form>
        </details>
      ) : (
        ""
      )}
      {props.items.length === 0 ? <p class="muted">No news yet.</p> : ""}
      {props.items.map((item) => (
        <NewsArticle page={props.page} item={item} canManage={props.canManage} heading={2} />
      ))}
      <nav class="pager">
        {props.pageNo > 1 ? <a href={newsUrl(base, props.pageNo - 1)}>← Newer</a> : <span />}
        <span class="muted">Page {props.pageNo}</span>
        {props.hasNext ? <a href={newsUrl(base, props.pageNo + 1)}>Older →</a> : <span />}
      </nav>
    </Layout>
  );
}

/** One news item on its own page. */
export function NewsItemPage(props: {
  page: PageContext;
  item: NewsView;
  canManage: boolean;
  notice?: string;
}) {
  const { base } = props.page;
  return (
    <Layout page={props.page} title={props.item.title}>
      <p>
        <a href={`${base}/news`}>← All news</a>
      </p>
      {props.notice ? (
        <div class="notice good" role="status" safe>
          {props.notice}
        </div>
      ) : (
        ""
      )}
      <NewsArticle page={props.page} item={props.item} canManage={props.canManage} heading={2} />
    </Layout>
  );
}

/** Editing a news item. */
export function NewsEditPage(props: {
  page: PageContext;
  id: number;
  title: string;
  body: string;
  limits: NewsLimits;
  errors?: Record<string, string>;
}) {
  const { base } = props.page;
  return (
    <Layout page={props.page} title="Edit news">
      <h1>Edit news</h1>
      <form class="stack card" method="post" action={`${base}/news/${props.id}/edit`}>
        <Csrf page={props.page} />
        <NewsFields title={props.title} body={props.body} limits={props.limits} errors={props.errors} />
        <div class="row">
          <button type="submit">Save</button>
          <a href={`${base}/news/${props.id}`}>Cancel</a>
        </div>
      </form>
    </Layout>
  );
}
