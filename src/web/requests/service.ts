import type { Config } from "../../config.ts";
import type { Sql } from "../../db/client.ts";
import {
  acceptFill,
  type BountyRow,
  type ContributionOutcome,
  contribute,
  type ExpiryOutcome,
  expireRequests,
  fillRequest,
  getRequest,
  insertRequest,
  listRequests,
  REQUEST_STATUSES,
  type RequestDetail,
  type RequestRow,
  type RequestStatus,
  rejectFill,
  requestBounties,
} from "../../db/queries/requests.ts";
import { getTorrent } from "../../db/queries/torrents.ts";
import { type Actor, isStaff } from "../access.ts";
import { chooseCategory } from "../categories/service.ts";
import type { WebDeps } from "../deps.ts";
import { type RenderedHtml, renderMarkdown } from "../markdown/service.ts";
import { NO_TORRENT, type Refused, type Result, refuse, refuseField, refuseFields } from "../refusal.ts";
import { parseTags } from "../torrents/tags.ts";

export type { BountyRow, RequestDetail, RequestRow, RequestStatus } from "../../db/queries/requests.ts";
export { REQUEST_STATUSES } from "../../db/queries/requests.ts";

/** Longest title, description and search a request takes (a description is bounded as a torrent's). */
export const REQUEST_LIMITS = {
  titleMax: 200,
  descriptionMax: 20000,
  qMax: 200,
  maxPoints: 1_000_000_000,
} as const;
/** Requests on one page of the list, and the last page anyone may ask for. */
export const REQUESTS_PER_PAGE = 50;
export const MAX_REQUEST_PAGE = 10_000;
/** What the list's status filter may say: one status, those still waiting (default), or all. */
export const STATUS_FILTERS = ["active", ...REQUEST_STATUSES, "all"] as const;
export type StatusFilter = (typeof STATUS_FILTERS)[number];
export const NO_REQUEST = "There is no request with this number.";

/** The time the site takes as now (a test's clock when it has one). */
export function nowOf(deps: WebDeps): Date {
  return deps.clock?.() ?? new Date();
}

/** The statuses a filter lists. */
function statusesOf(filter: StatusFilter): readonly RequestStatus[] {
  if (filter === "active") return ["open", "pending"];
  if (filter === "all") return REQUEST_STATUSES;
  return [filter];
}

/** What the list is asked for. */
export interface RequestQuery {
  q: string;
  status: StatusFilter;
  categoryId?: number;
  sort: "date" | "bounty";
  page: number;
}

/** One page of requests, or why not. */
export type RequestList = Result<{ items: RequestRow[]; page: number; hasNext: boolean }>;

/** One page of requests: by status, category and words of the title, newest or richest first. */
export async function requestPage(deps: WebDeps, query: RequestQuery): Promise<RequestList> {
  if (!Number.isSafeInteger(query.page) || query.page < 1 || query.page > MAX_REQUEST_PAGE)
    return refuseFields({ page: `Use a whole number from 1 to ${MAX_REQUEST_PAGE}.` });
  const words = query.q
    .trim()
    .split(/\s+/)
    .filter((w) => w !== "")
    .slice(0, 10);
  const rows = await listRequests(deps.sql, {
    statuses: statusesOf(query.status),
    categoryId: query.categoryId,
    words,
    sort: query.sort,
    limit: REQUESTS_PER_PAGE,
    offset: (query.page - 1) * REQUESTS_PER_PAGE,
  });
  return {
    ok: true,
    items: rows.slice(0, REQUESTS_PER_PAGE),
    page: query.page,
    hasNext: rows.length > REQUESTS_PER_PAGE,
  };
}

/** What the actor may do to a request. */
export interface RequestRights {
  /** Add to the bounty: any member, while it is open or waiting. */
  canContribute: boolean;
  /** Offer a torrent as its fill: any member but the requester, while it is open. */
  canFill: boolean;
  /** Accept or reject the fill waiting: the requester, or staff. */
  canAnswer: boolean;
}

/** What `actor` may do to `request`. */
export function requestRights(actor: Actor, request: RequestRow): RequestRights {
  const waiting = request.status === "open" || request.status === "pending";
  const own = request.requesterId !== null && request.requesterId === actor.id;
  return {
    canContribute: waiting,
    canFill: request.status === "open" && !own,
    canAnswer: request.status === "pending" && (own || isStaff(actor)),
  };
}

/** A request as its page shows it. */
export interface ShownRequest {
  request: RequestDetail;
  html: RenderedHtml;
  bounties: BountyRow[];
  rights: RequestRights;
}

/** One request with its contributions and what the actor may do. */
export async function showRequest(deps: WebDeps, actor: Actor, id: number): Promise<Result<ShownRequest>> {
  const request = await getRequest(deps.sql, id);
  if (!request) return refuse("not_found", NO_REQUEST);
  return {
    ok: true,
    request,
    html: renderMarkdown(request.description),
    bounties: await requestBounties(deps.sql, id),
    rights: requestRights(actor, request),
  };
}

/** Points as typed into a form or sent to the API: a whole number from `min`, or null. */
export function pointsField(text: string | number | undefined): number | null {
  const trimmed = String(text ?? "").trim();
  if (!/^[1-9][0-9]{0,9}$/.test(trimmed)) return null;
  const n = Number(trimmed);
  return n <= REQUEST_LIMITS.maxPoints ? n : null;
}

/** The text of a title or description as stored: Unix line ends, trimmed. */
export function cleanText(text: string | undefined): string {
  return (text ?? "").replace(/\r\n/g, "\n").trim();
}

/** What a member asks for. */
export interface RequestInput {
  title: string | undefined;
  description: string | undefined;
  categoryId: number | null;
  tags: string | readonly string[] | undefined;
  points: number | null;
}

/** Why a balance does not hold a contribution, as a refusal. */
function contributionRefused(outcome: ContributionOutcome & { ok: false }, points: number): Refused {
  if (outcome.reason === "request")
    return refuse("conflict", "This request takes no more bounty: it was filled or has expired.");
  if (outcome.reason === "member") return refuse("forbidden", "A disabled account cannot spend points.");
  const have = outcome.millipoints / 1000;
  return refuseField(
    "points",
    `You have ${have} bonus point${have === 1 ? "" : "s"}: not enough for ${points}.`,
    "conflict",
  );
}

/**
 * Makes a request with its first bounty, at least `requests.minBountyPoints`, taken from the
 * requester's balance at once. It expires after `requests.expireDays` unless a fill is accepted.
 */
export async function createRequest(
  deps: WebDeps,
  actor: Actor,
  input: RequestInput,
  now: Date,
): Promise<Result<{ id: number; bountyMillipoints: number; millipoints: number }>> {
  const title = cleanText(input.title);
  const description = cleanText(input.description);
  const min = deps.config.requests.minBountyPoints;
  const fields: Record<string, string> = {};
  if (!title) fields.title = "Say what you are asking for.";
  else if (title.length > REQUEST_LIMITS.titleMax)
    fields.title = `Use at most ${REQUEST_LIMITS.titleMax} characters.`;
  if (description.length > REQUEST_LIMITS.descriptionMax)
    fields.description = `Use at most ${REQUEST_LIMITS.descriptionMax} characters.`;
  if (input.points === null || input.points < min)
    fields.points = `Put at least ${min} bonus points on a new request (a whole number).`;
  const tags = parseTags(input.tags);
  if (!tags.ok) fields.tags = tags.message;
  if (Object.keys(fields).length) return refuseFields(fields);
  const category = await chooseCategory(deps, input.categoryId);
  if (!category.ok) return category;
  const outcome = await insertRequest(deps.sql, {
    requesterId: actor.id,
    title,
    description,
    categoryId: category.categoryId,
    tags: tags.ok ? tags.tags : [],
    millipoints: input.points! * 1000,
    now,
    expireDays: deps.config.requests.expireDays,
  });
  if (!outcome.ok) return contributionRefused(outcome, input.points!);
  return {
    ok: true,
    id: outcome.requestId,
    bountyMillipoints: outcome.bountyMillipoints,
    millipoints: outcome.millipoints,
  };
}

/** Adds `points` of the actor's balance to a request's bounty, at once. */
export async function addBounty(
  deps: WebDeps,
  actor: Actor,
  requestId: number,
  points: number | null,
  now: Date,
): Promise<Result<{ bountyMillipoints: number; millipoints: number }>> {
  if (points === null)
    return refuseField("points", `Use a whole number of points from 1 to ${REQUEST_LIMITS.maxPoints}.`);
  const outcome = await contribute(deps.sql, {
    requestId,
    userId: actor.id,
    millipoints: points * 1000,
    now,
  });
  if (!outcome.ok) {
    if (outcome.reason === "request" && !(await getRequest(deps.sql, requestId)))
      return refuse("not_found", NO_REQUEST);
    return contributionRefused(outcome, points);
  }
  return { ok: true, bountyMillipoints: outcome.bountyMillipoints, millipoints: outcome.millipoints };
}

/** A torrent's id from what a member typed: its number or a link to its page. */
export function torrentRef(text: string | undefined): number | null {
  const trimmed = (text ?? "").trim();
  if (/^[1-9][0-9]{0,14}$/.test(trimmed)) return Number(trimmed);
  const link = /\/torrents\/([1-9][0-9]{0,14})(?:[/?#]|$)/.exec(trimmed);
  return link ? Number(link[1]) : null;
}

/**
 * Offers a torrent on the site as the fill of an open request: any member but its requester (who
 * would otherwise get their own bounty back). The requester or staff then accept or reject it.
 */
export async function offerFill(
  deps: WebDeps,
  actor: Actor,
  requestId: number,
  torrentText: string | undefined,
  now: Date,
): Promise<Result<{ torrentId: number }>> {
  const request = await getRequest(deps.sql, requestId);
  if (!request) return refuse("not_found", NO_REQUEST);
  if (request.requesterId === actor.id)
    return refuse("forbidden", "You cannot fill your own request: another member has to.");
  if (request.status !== "open")
    return refuse("conflict", "This request is not open: it has a fill waiting, was filled or has expired.");
  const torrentId = torrentRef(torrentText);
  if (torrentId === null)
    return refuseField("torrent", "Give the torrent's number or a link to its page on this site.");
  if (!(await getTorrent(deps.sql, torrentId))) return refuseField("torrent", NO_TORRENT, "not_found");
  if (!(await fillRequest(deps.sql, { requestId, torrentId, fillerId: actor.id, now })))
    return refuse("conflict", "Another member filled this request first.");
  return { ok: true, torrentId };
}

/** The request if the actor may answer its fill (requester or staff), or why not. */
async function answerable(
  deps: WebDeps,
  actor: Actor,
  requestId: number,
): Promise<Result<{ request: RequestDetail }>> {
  const request = await getRequest(deps.sql, requestId);
  if (!request) return refuse("not_found", NO_REQUEST);
  if (request.requesterId !== actor.id && !isStaff(actor))
    return refuse("forbidden", "Only the member who made the request, or staff, may answer its fill.");
  if (request.status !== "pending")
    return refuse("conflict", "This request has no fill waiting for an answer.");
  return { ok: true, request };
}

/** Accepts the fill waiting on a request: the filler receives the whole bounty, once. */
export async function acceptRequestFill(
  deps: WebDeps,
  actor: Actor,
  requestId: number,
  now: Date,
): Promise<Result<{ fillerId: number; millipoints: number }>> {
  const found = await answerable(deps, actor, requestId);
  if (!found.ok) return found;
  const outcome = await acceptFill(deps.sql, requestId, now);
  if (!outcome.ok) {
    if (outcome.reason === "torrent")
      return refuse("conflict", "The torrent of this fill was deleted: reject the fill instead.");
    if (outcome.reason === "filler")
      return refuse("conflict", "The member who filled this request is gone: reject the fill instead.");
    return refuse("conflict", "This request has no fill waiting for an answer.");
  }
  return { ok: true, fillerId: outcome.fillerId, millipoints: outcome.millipoints };
}

/** Rejects the fill waiting on a request: it is open again, its bounty untouched. */
export async function rejectRequestFill(deps: WebDeps, actor: Actor, requestId: number): Promise<Result> {
  const found = await answerable(deps, actor, requestId);
  if (!found.ok) return found;
  if (!(await rejectFill(deps.sql, requestId)))
    return refuse("conflict", "This request has no fill waiting for an answer.");
  return { ok: true };
}

/**
 * Expires the requests past their date at `now` and refunds every contribution, exactly once
 * whatever reruns or crashes (see expireRequests). Runs in batches until none is left.
 */
export async function runRequestExpiry(
  sql: Sql,
  _config: Config,
  now: Date,
  interrupt?: () => Promise<void>,
): Promise<ExpiryOutcome> {
  const total: ExpiryOutcome = { requests: 0, refunds: 0, millipoints: 0 };
  for (;;) {
    const outcome = await expireRequests(sql, now, 500, interrupt);
    total.requests += outcome.requests;
    total.refunds += outcome.refunds;
    total.millipoints += outcome.millipoints;
    if (outcome.requests < 500) return total;
  }
}
