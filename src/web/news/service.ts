import {
  deleteNews,
  insertNews,
  listNews,
  type NewsRow,
  newsItem,
  storeNewsHtml,
  updateNews,
} from "../../db/queries/news.ts";
import type { Actor } from "../access.ts";
import type { WebDeps } from "../deps.ts";
import {
  countEdit,
  type RenderedHtml,
  renderBounded,
  renderMarkdown,
  storedHtml,
} from "../markdown/service.ts";
import { type Result, refuse, refuseFields } from "../refusal.ts";

/** Longest title and body, for the forms, their schemas and the rules. */
export const NEWS_LIMITS = { titleMax: 200, bodyMax: 10000 } as const;
/** News items on one page of the news list, and on the home page. */
export const NEWS_PER_PAGE = 20;
/** What a page or the API says about a news item that is not there. */
export const NO_NEWS = "There is no news item with this number.";
const ADMINS_ONLY = "Only administrators post, edit and delete news.";

/** A news item as pages and the API show it: its body rendered. */
export interface ShownNews extends Omit<NewsRow, "bodyHtml"> {
  html: RenderedHtml;
}

/**
 * The item with its stored rendering, or for one written before the site stored them, rendered
 * now and stored for the next reader.
 */
async function shown(deps: WebDeps, row: NewsRow): Promise<ShownNews> {
  const { bodyHtml, ...rest } = row;
  if (bodyHtml !== null) return { ...rest, html: storedHtml(bodyHtml) };
  const html = renderMarkdown(row.body);
  await storeNewsHtml(deps.sql, row.id, row.body, html);
  return { ...rest, html };
}

async function shownOrNull(deps: WebDeps, row: NewsRow | null): Promise<ShownNews | null> {
  return row && shown(deps, row);
}

/** One page of news, newest first, and whether a next page exists. */
export async function newsPage(
  deps: WebDeps,
  input: { page: number; limit?: number },
): Promise<{ rows: ShownNews[]; hasNext: boolean }> {
  const limit = input.limit ?? NEWS_PER_PAGE;
  const rows = await listNews(deps.sql, { limit, offset: (input.page - 1) * limit });
  const out: ShownNews[] = [];
  for (const row of rows.slice(0, limit)) out.push(await shown(deps, row));
  return { rows: out, hasNext: rows.length > limit };
}

/** One news item, or null. */
export async function findNews(deps: WebDeps, id: number): Promise<ShownNews | null> {
  return shownOrNull(deps, await newsItem(deps.sql, id));
}

/** What an administrator may do to news (the one rule the pages, the API and the views use). */
export function newsRights(actor: Actor): { canManage: boolean } {
  return { canManage: actor.can("admin") };
}

/** A news change that was made (the item as it is now), or why not (problems by field). */
export type NewsChange = Result<{ item: ShownNews }>;

/** Text as stored: Unix line ends, trimmed. */
function clean(text: string | undefined): string {
  return (text ?? "").replace(/\r\n?/g, "\n").trim();
}

const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/** What is wrong with a title and body, by field (empty when nothing). */
export function newsProblems(input: { title: string; body: string }): Record<string, string> {
  const fields: Record<string, string> = {};
  if (!input.title) fields.title = "Enter a title.";
  else if (input.title.length > NEWS_LIMITS.titleMax)
    fields.title = `Use at most ${NEWS_LIMITS.titleMax} characters.`;
  else if (/[\u0000-\u001f\u007f]/.test(input.title))
    fields.title = "Use one line without control characters.";
  if (!input.body) fields.body = "Write the news.";
  else if (input.body.length > NEWS_LIMITS.bodyMax)
    fields.body = `Use at most ${NEWS_LIMITS.bodyMax} characters.`;
  else if (CONTROL.test(input.body)) fields.body = "Use text and line breaks only (no control characters).";
  return fields;
}

/** Posts a news item (administrators only). */
export async function postNews(
  deps: WebDeps,
  actor: Actor,
  input: { title?: string; body?: string },
): Promise<NewsChange> {
  if (!newsRights(actor).canManage) return refuse("forbidden", ADMINS_ONLY);
  const item = { title: clean(input.title), body: clean(input.body) };
  const fields = newsProblems(item);
  if (Object.keys(fields).length) return refuseFields(fields);
  const rendering = renderBounded(item.body);
  if (!rendering.ok) return refuseFields({ body: rendering.problem });
  const id = await insertNews(deps.sql, { ...item, bodyHtml: rendering.html, authorId: actor.id });
  return { ok: true, item: (await findNews(deps, id))! };
}

/** Changes a news item's title, body or both (administrators only; what is left out stays). */
export async function editNews(
  deps: WebDeps,
  actor: Actor,
  id: number,
  input: { title?: string; body?: string },
): Promise<NewsChange> {
  if (!newsRights(actor).canManage) return refuse("forbidden", ADMINS_ONLY);
  const current = await newsItem(deps.sql, id);
  if (!current) return refuse("not_found", NO_NEWS);
  if (input.title === undefined && input.body === undefined)
    return refuseFields({ body: "Send a title, a body or both." });
  const item = {
    title: input.title === undefined ? current.title : clean(input.title),
    body: input.body === undefined ? current.body : clean(input.body),
  };
  const fields = newsProblems(item);
  if (Object.keys(fields).length) return refuseFields(fields);
  const rendering = renderBounded(item.body);
  if (!rendering.ok) return refuseFields({ body: rendering.problem });
  const throttled = countEdit(deps, actor.id, "body");
  if (throttled) return throttled;
  if (!(await updateNews(deps.sql, id, { ...item, bodyHtml: rendering.html })))
    return refuse("not_found", NO_NEWS);
  return { ok: true, item: (await findNews(deps, id)) ?? (await shown(deps, current)) };
}

/** Deletes a news item (administrators only). */
export async function removeNews(deps: WebDeps, actor: Actor, id: number): Promise<NewsChange> {
  if (!newsRights(actor).canManage) return refuse("forbidden", ADMINS_ONLY);
  const current = await findNews(deps, id);
  if (!current || !(await deleteNews(deps.sql, id))) return refuse("not_found", NO_NEWS);
  return { ok: true, item: current };
}
