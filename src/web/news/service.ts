import {
  deleteNews,
  insertNews,
  listNews,
  type NewsRow,
  newsItem,
  updateNews,
} from "../../db/queries/news.ts";
import type { Actor } from "../access.ts";
import type { WebDeps } from "../deps.ts";
import { type Result, refuse, refuseFields } from "../refusal.ts";

/** Longest title and body, for the forms, their schemas and the rules. */
export const NEWS_LIMITS = { titleMax: 200, bodyMax: 10000 } as const;
/** News items on one page of the news list, and on the home page. */
export const NEWS_PER_PAGE = 20;
/** What a page or the API says about a news item that is not there. */
export const NO_NEWS = "There is no news item with this number.";
const ADMINS_ONLY = "Only administrators post, edit and delete news.";

/** One page of news, newest first, and whether a next page exists. */
export async function newsPage(
  deps: WebDeps,
  input: { page: number; limit?: number },
): Promise<{ rows: NewsRow[]; hasNext: boolean }> {
  const limit = input.limit ?? NEWS_PER_PAGE;
  const rows = await listNews(deps.sql, { limit, offset: (input.page - 1) * limit });
  return { rows: rows.slice(0, limit), hasNext: rows.length > limit };
}

/** One news item, or null. */
export function findNews(deps: WebDeps, id: number): Promise<NewsRow | null> {
  return newsItem(deps.sql, id);
}

/** What an administrator may do to news (the one rule the pages, the API and the views use). */
export function newsRights(actor: Actor): { canManage: boolean } {
  return { canManage: actor.can("admin") };
}

/** A news change that was made (the item as it is now), or why not (problems by field). */
export type NewsChange = Result<{ item: NewsRow }>;

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
  const id = await insertNews(deps.sql, { ...item, authorId: actor.id });
  return { ok: true, item: (await newsItem(deps.sql, id))! };
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
  if (!(await updateNews(deps.sql, id, item))) return refuse("not_found", NO_NEWS);
  return { ok: true, item: (await newsItem(deps.sql, id)) ?? current };
}

/** Deletes a news item (administrators only). */
export async function removeNews(deps: WebDeps, actor: Actor, id: number): Promise<NewsChange> {
  if (!newsRights(actor).canManage) return refuse("forbidden", ADMINS_ONLY);
  const current = await newsItem(deps.sql, id);
  if (!current || !(await deleteNews(deps.sql, id))) return refuse("not_found", NO_NEWS);
  return { ok: true, item: current };
}
