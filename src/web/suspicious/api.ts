import { Elysia, t } from "elysia";
import { type ApiLimiters, apiContext } from "../api/context.ts";
import { accepted } from "../api/errors.ts";
import { errors, snaked } from "../api/schemas.ts";
import type { WebDeps } from "../deps.ts";
import { pagingFields } from "../schemas.ts";
import {
  MAX_PAGE,
  MAX_RECORDS_PER_PAGE,
  MODERATORS,
  RECORDS_PER_PAGE,
  type SuspiciousItem,
  suspiciousPage,
  type TallyItem,
} from "./service.ts";

const Ref = (what: string) => t.Object({ id: t.Number(), name: t.String() }, { description: what });

const Record = t.Object(
  {
    id: t.Number(),
    member: Ref("The member credited"),
    torrent: t.Union([t.Object({ id: t.Number(), title: t.String() }), t.Null()], {
      description: "The torrent; null once deleted",
    }),
    peer_id: t.String({ description: "The client's peer_id, 40 hex digits" }),
    client: t.String({ description: "The peer_id's printable client prefix, e.g. -qB4520-" }),
    user_agent: t.Union([t.String(), t.Null()], { description: "The client's User-Agent header" }),
    claimed_up: t.Number({
      description: "Bytes uploaded since the peer's previous announce, as reported (negative: went back)",
    }),
    claimed_down: t.Number({ description: "The same for downloaded" }),
    credited_up: t.Number({ description: "Bytes of upload credited" }),
    credited_down: t.Number({ description: "Bytes of download credited" }),
    seconds: t.Number({ description: "Seconds since the peer's previous announce" }),
    reasons: t.Array(t.String(), {
      description:
        "rate (faster than tracker.maxRateBytesPerSecond), no_leecher (upload while the swarm had nobody to upload to), backwards (a counter went back), unbacked (upload no other member's download backed: an expired claim, claimed_up its unpaid bytes), over_size (download beyond twice the torrent's size in one period), left_implied (left fell by more than the download reported: charged what left implies)",
    }),
    at: t.String({ format: "date-time", description: "When (the latest of the repeats)" }),
    repeats: t.Number({
      description:
        "Announces of this member, torrent and reasons within one hour that this record stands for; the byte figures and seconds are their sums",
    }),
    first_at: t.String({ format: "date-time", description: "The first of the repeats" }),
  },
  { description: "An announce whose credit was capped or refused, or its repeats" },
);

const Tally = t.Object(
  {
    member: Ref("The member"),
    records: t.Number({ description: "Suspicious transfers recorded" }),
    uncredited_up: t.String({ description: "Bytes of upload claimed and not credited, in decimal" }),
    uncredited_down: t.String({ description: "Bytes of download claimed and not credited, in decimal" }),
    last_at: t.String({ format: "date-time", description: "The latest record" }),
  },
  { description: "One member's suspicious transfers, summed" },
);

const SuspiciousBody = t.Object(
  {
    items: t.Array(Record, { description: "Newest first" }),
    tally: t.Array(Tally, { description: "The members with the most records, most first" }),
    page: t.Number(),
    limit: t.Number(),
    has_next: t.Boolean({ description: "Whether an older page exists" }),
  },
  { description: "One page of suspicious transfers, and the tally" },
);

function recordBody(r: SuspiciousItem): typeof Record.static {
  return {
    ...snaked(r, "id", "member", "torrent", "peerId"),
    client: r.clientPrefix,
    ...snaked(r, "userAgent", "claimedUp", "claimedDown", "creditedUp", "creditedDown", "seconds", "reasons"),
    at: r.at.toISOString(),
    repeats: r.repeats,
    first_at: r.firstAt.toISOString(),
  };
}

function tallyBody(r: TallyItem): typeof Tally.static {
  return {
    ...snaked(r, "member", "records", "uncreditedUp", "uncreditedDown"),
    last_at: r.lastAt.toISOString(),
  };
}

/** Suspicious transfers for moderators: GET /api/v1/suspicious. */
export function suspiciousApi(deps: WebDeps, limiters: ApiLimiters) {
  return new Elysia({ name: "api-suspicious" }).use(apiContext(deps, limiters)).get(
    "/suspicious",
    async ({ query }) => {
      const result = accepted(await suspiciousPage(deps, { page: query.page ?? 1, limit: query.limit }));
      return {
        items: result.items.map(recordBody),
        tally: result.tally.map(tallyBody),
        page: result.page,
        limit: result.limit,
        has_next: result.hasNext,
      };
    },
    {
      role: MODERATORS,
      query: t.Object(
        pagingFields({
          maxPage: MAX_PAGE,
          pageNote: ", newest first",
          items: "Records",
          maxLimit: MAX_RECORDS_PER_PAGE,
          defaultLimit: RECORDS_PER_PAGE,
        }),
      ),
      response: { 200: SuspiciousBody, ...errors(401, 403, 422) },
      detail: {
        tags: ["Users"],
        summary: "Suspicious transfers",
        description:
          "Moderators only. Announces whose credit the tracker capped or refused, newest first, and the members with the most of them.",
      },
    },
  );
}
