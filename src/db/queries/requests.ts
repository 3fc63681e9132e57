import type { Int8, Sql, Tx } from "../client.ts";

/** Where a request stands. */
export const REQUEST_STATUSES = ["open", "pending", "filled", "expired"] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];

/** A request as lists show it. */
export interface RequestRow {
  id: number;
  title: string;
  status: RequestStatus;
  requesterId: number | null;
  requester: string | null;
  categoryId: number | null;
  category: string | null;
  tags: string[];
  bountyMillipoints: Int8;
  contributors: number;
  createdAt: Date;
  expiresAt: Date;
  torrentId: number | null;
  torrentTitle: string | null;
  fillerId: number | null;
  filler: string | null;
  filledAt: Date | null;
  settledAt: Date | null;
}

/** A request with its description. */
export interface RequestDetail extends RequestRow {
  description: string;
}

/** One contribution to a bounty. */
export interface BountyRow {
  id: number;
  userId: number;
  name: string | null;
  millipoints: Int8;
  createdAt: Date;
}

/** What a list of requests is narrowed to. */
export interface RequestFilter {
  statuses: readonly RequestStatus[];
  categoryId?: number;
  /** Words that must all appear in the title (any case). */
  words: readonly string[];
  sort: "date" | "bounty";
  limit: number;
  offset: number;
}

/** `text` as a LIKE pattern matching it anywhere, its wildcards taken literally. */
function containing(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** One page of requests (one more than `limit` when there is a next page). */
export async function listRequests(sql: Sql, filter: RequestFilter): Promise<RequestRow[]> {
  const patterns = filter.words.map(containing);
  const order = filter.sort === "bounty" ? sql`r.bounty_millipoints desc, r.id desc` : sql`r.id desc`;
  return sql<RequestRow[]>`
    select r.id, r.title, r.status, r.requester_id, u.name as requester, r.category_id, c.name as category,
      r.tags, r.bounty_millipoints,
      (select count(distinct b.user_id)::int from request_bounties b where b.request_id = r.id) as contributors,
      r.created_at, r.expires_at, r.torrent_id, t.title as torrent_title, r.filler_id, f.name as filler,
      r.filled_at, r.settled_at
    from requests r
    left join users u on u.id = r.requester_id
    left join users f on f.id = r.filler_id
    left join categories c on c.id = r.category_id
    left join torrents t on t.id = r.torrent_id
    where r.status = any(${filter.statuses as string[]}::text[])
      and (${filter.categoryId ?? null}::bigint is null or r.category_id = ${filter.categoryId ?? null})
      and r.title ilike all(${patterns}::text[])
    order by ${order}
    limit ${filter.limit + 1}
    offset ${filter.offset}
  `;
}

/** One request, or null. */
export async function getRequest(sql: Sql, id: number): Promise<RequestDetail | null> {
  const [row] = await sql<RequestDetail[]>`
    select r.id, r.title, r.description, r.status, r.requester_id, u.name as requester, r.category_id,
      c.name as category, r.tags, r.bounty_millipoints,
      (select count(distinct b.user_id)::int from request_bounties b where b.request_id = r.id) as contributors,
      r.created_at, r.expires_at, r.torrent_id, t.title as torrent_title, r.filler_id, f.name as filler,
      r.filled_at, r.settled_at
    from requests r
    left join users u on u.id = r.requester_id
    left join users f on f.id = r.filler_id
    left join categories c on c.id = r.category_id
    left join torrents t on t.id = r.torrent_id
    where r.id = ${id}
  `;
  return row ?? null;
}

/** A request's contributions, oldest first. */
export async function requestBounties(sql: Sql, requestId: number): Promise<BountyRow[]> {
  return sql<BountyRow[]>`
    select b.id, b.user_id, u.name, b.millipoints, b.created_at
    from request_bounties b
    left join users u on u.id = b.user_id
    where b.request_id = ${requestId}
    order by b.id
  `;
}

/** The requests a torrent filled or is waiting to fill, newest first. */
export async function requestsFilledBy(
  sql: Sql,
  torrentId: number,
): Promise<{ id: number; title: string; status: RequestStatus }[]> {
  return sql<{ id: number; title: string; status: RequestStatus }[]>`
    select id, title, status from requests
    where torrent_id = ${torrentId} and status in ('pending', 'filled')
    order by id desc
  `;
}

/** The balance of a member, read inside a transaction that holds the member's row. */
async function balance(tx: Tx, userId: number): Promise<number> {
  const [sum] = await tx<{ total: Int8 }[]>`
    select coalesce(sum(millipoints), 0)::bigint as total from bonus_ledger where user_id = ${userId}
  `;
  return Number(sum!.total);
}

/** A contribution taken, or why not. */
export type ContributionOutcome =
  | { ok: true; requestId: number; bountyId: number; millipoints: number; bountyMillipoints: number }
  | { ok: false; reason: "member" | "balance"; millipoints: number }
  | { ok: false; reason: "request" };

/**
 * Takes `millipoints` from the member's balance into the bounty of a request that is open or
 * waiting for an answer, in one transaction: the request's row is locked first (an accept or an
 * expiry waits, or is waited for), then the member's (so concurrent spendings take turns and the
 * balance never goes below zero); the contribution, its ledger row and the bounty's total are
 * written together.
 */
export async function contribute(
  sql: Sql,
  input: { requestId: number; userId: number; millipoints: number; now: Date },
): Promise<ContributionOutcome> {
  return (await sql.begin(async (tx) => {
    const [request] = await tx<{ id: number }[]>`
      select id from requests where id = ${input.requestId} and status in ('open', 'pending') for update
    `;
    if (!request) return { ok: false, reason: "request" };
    return take(tx, input);
  })) as ContributionOutcome;
}

/** The contribution itself, inside a transaction that holds the request's row. */
async function take(
  tx: Tx,
  input: { requestId: number; userId: number; millipoints: number; now: Date },
): Promise<ContributionOutcome> {
  const [member] = await tx<{ id: number }[]>`
    select id from users where id = ${input.userId} and not disabled for update
  `;
  const have = await balance(tx, input.userId);
  if (!member) return { ok: false, reason: "member", millipoints: have };
  if (have < input.millipoints) return { ok: false, reason: "balance", millipoints: have };
  const [bounty] = await tx<{ id: number }[]>`
    insert into request_bounties (request_id, user_id, millipoints, created_at)
    values (${input.requestId}, ${input.userId}, ${input.millipoints}, ${input.now})
    returning id
  `;
  await tx`
    insert into bonus_ledger (user_id, millipoints, reason, request_id, bounty_id, created_at)
    values (${input.userId}, ${-input.millipoints}, 'request_bounty', ${input.requestId}, ${bounty!.id}, ${input.now})
  `;
  const [total] = await tx<{ bountyMillipoints: Int8 }[]>`
    update requests set bounty_millipoints = bounty_millipoints + ${input.millipoints}
    where id = ${input.requestId}
    returning bounty_millipoints
  `;
  return {
    ok: true,
    requestId: input.requestId,
    bountyId: bounty!.id,
    millipoints: have - input.millipoints,
    bountyMillipoints: Number(total!.bountyMillipoints),
  };
}

/** What a new request says. */
export interface NewRequest {
  requesterId: number;
  title: string;
  description: string;
  categoryId: number | null;
  tags: readonly string[];
  millipoints: number;
  now: Date;
  expireDays: number;
}

/**
 * Makes a request with its requester's first contribution, in one transaction: when the balance
 * does not hold the contribution nothing is made.
 */
export async function insertRequest(sql: Sql, input: NewRequest): Promise<ContributionOutcome> {
  try {
    return (await sql.begin(async (tx) => {
      const [row] = await tx<{ id: number }[]>`
        insert into requests (requester_id, title, description, category_id, tags, created_at, expires_at)
        values (${input.requesterId}, ${input.title}, ${input.description}, ${input.categoryId},
          ${input.tags as string[]}::text[], ${input.now},
          ${input.now}::timestamptz + make_interval(days => ${input.expireDays}))
        returning id
      `;
      const outcome = await take(tx, {
        requestId: row!.id,
        userId: input.requesterId,
        millipoints: input.millipoints,
        now: input.now,
      });
      // Refused: the transaction is undone, so no request without its bounty stays.
      if (!outcome.ok) throw new Refusal(outcome);
      return outcome;
    })) as ContributionOutcome;
  } catch (error) {
    if (error instanceof Refusal) return error.outcome;
    throw error;
  }
}

/** Carries a refused contribution out of a transaction that must be undone. */
class Refusal extends Error {
  constructor(readonly outcome: ContributionOutcome) {
    super("refused");
  }
}

/** Offers `torrentId` as the fill of an open request; false when it is not open (any more). */
export async function fillRequest(
  sql: Sql,
  input: { requestId: number; torrentId: number; fillerId: number; now: Date },
): Promise<boolean> {
  const rows = await sql`
    update requests
    set status = 'pending', torrent_id = ${input.torrentId}, filler_id = ${input.fillerId}, filled_at = ${input.now}
    where id = ${input.requestId} and status = 'open'
    returning id
  `;
  return rows.length === 1;
}

/** Turns down the fill waiting on a request: it is open again. False when none is waiting. */
export async function rejectFill(sql: Sql, requestId: number): Promise<boolean> {
  const rows = await sql`
    update requests
    set status = 'open', torrent_id = null, filler_id = null, filled_at = null
    where id = ${requestId} and status = 'pending'
    returning id
  `;
  return rows.length === 1;
}

/** An accepted fill, or why not. */
export type AcceptOutcome =
  | { ok: true; fillerId: number; millipoints: number; ledgerId: number | null }
  | { ok: false; reason: "state" | "torrent" | "filler" };

/**
 * Accepts the fill waiting on a request and pays its whole bounty to the filler, in one
 * transaction: the request's row is taken from pending to filled first, so of two accepts at once
 * the second finds it filled and pays nothing; the award's unique index (one per request) stands
 * behind that. `interrupt` runs inside the transaction after the award is written (for tests).
 */
export async function acceptFill(
  sql: Sql,
  requestId: number,
  now: Date,
  interrupt?: () => Promise<void>,
): Promise<AcceptOutcome> {
  return (await sql.begin(async (tx) => {
    const [row] = await tx<{ status: string; torrentId: number | null; fillerId: number | null }[]>`
      select status, torrent_id, filler_id from requests where id = ${requestId} for update
    `;
    if (row?.status !== "pending") return { ok: false, reason: "state" };
    if (row.torrentId === null) return { ok: false, reason: "torrent" };
    if (row.fillerId === null) return { ok: false, reason: "filler" };
    const [done] = await tx<{ bountyMillipoints: Int8 }[]>`
      update requests set status = 'filled', settled_at = ${now}
      where id = ${requestId} and status = 'pending'
      returning bounty_millipoints
    `;
    const millipoints = Number(done!.bountyMillipoints);
    let ledgerId: number | null = null;
    if (millipoints > 0) {
      const [award] = await tx<{ id: number }[]>`
        insert into bonus_ledger (user_id, millipoints, reason, request_id, created_at)
        values (${row.fillerId}, ${millipoints}, 'request_award', ${requestId}, ${now})
        returning id
      `;
      ledgerId = award!.id;
    }
    if (interrupt) await interrupt();
    return { ok: true, fillerId: row.fillerId, millipoints, ledgerId };
  })) as AcceptOutcome;
}

/** What one run of the expiry did. */
export interface ExpiryOutcome {
  requests: number;
  refunds: number;
  millipoints: number;
}

/**
 * Expires every request open or waiting past its date at `now` and refunds each contribution to
 * its member, up to `batch` requests in one transaction: the status changes and the refunds are
 * written together, so a run killed midway leaves nothing and the next does it all; a refund's
 * unique index (one per contribution) makes a second writer's rows fail rather than pay twice.
 */
export async function expireRequests(
  sql: Sql,
  now: Date,
  batch = 500,
  interrupt?: () => Promise<void>,
): Promise<ExpiryOutcome> {
  return (await sql.begin(async (tx) => {
    const due = await tx<{ id: number }[]>`
      update requests set status = 'expired', settled_at = ${now}
      where id in (
        select id from requests
        where status in ('open', 'pending') and expires_at <= ${now}
        order by expires_at, id
        limit ${batch}
        for update skip locked
      )
      and status in ('open', 'pending')
      returning id
    `;
    if (due.length === 0) return { requests: 0, refunds: 0, millipoints: 0 };
    const ids = due.map((r) => r.id);
    const [refunded] = await tx<{ refunds: number; millipoints: Int8 | null }[]>`
      with paid as (
        insert into bonus_ledger (user_id, millipoints, reason, request_id, bounty_id, created_at)
        select b.user_id, b.millipoints, 'request_refund', b.request_id, b.id, ${now}::timestamptz
        from request_bounties b
        where b.request_id = any(${ids}::bigint[])
        returning millipoints
      )
      select count(*)::int as refunds, sum(millipoints)::bigint as millipoints from paid
    `;
    if (interrupt) await interrupt();
    return {
      requests: ids.length,
      refunds: refunded?.refunds ?? 0,
      millipoints: Number(refunded?.millipoints ?? 0),
    };
  })) as ExpiryOutcome;
}
