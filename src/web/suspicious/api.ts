import { Elysia, t } from "elysia";
import { type ApiLimiters, apiContext } from "../api/context.ts";
import { fail } from "../api/errors.ts";
import { errors } from "../api/schemas.ts";
import type { WebDeps } from "../deps.ts";
import { wholeNumber } from "../schemas.ts";
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
    at: t.String({ format: "date-time", description: "When" }),
  },
  { description: "An announce whose credit was capped or refused" },
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
    id: r.id,
    member: r.member,
    torrent: r.torrent,
    peer_id: r.peerId,
    client: r.clientPrefix,
    user_agent: r.userAgent,
    claimed_up: r.claimedUp,
    claimed_down: r.claimedDown,
    credited_up: r.creditedUp,
    credited_down: r.creditedDown,
    seconds: r.seconds,
    reasons: r.reasons,
    at: r.at.toISOString(),
  };
}

function tallyBody(r: TallyItem): typeof Tally.static {
  return {
    member: r.member,
    records: r.records,
    uncredited_up: r.uncreditedUp,
    uncredited_down: r.uncreditedDown,
    last_at: r.lastAt.toISOString(),
  };
}

/** Suspicious transfers for moderators: GET /api/v1/suspicious. */
export function suspiciousApi(deps: WebDeps, limiters: ApiLimiters) {
  return new Elysia({ name: "api-suspicious" }).use(apiContext(deps, limiters)).get(
    "/suspicious",
    async ({ query }) => {
      const result = await suspiciousPage(deps, { page: query.page ?? 1, limit: query.limit });
      if (!result.ok) throw fail.validation({ [result.field]: result.message });
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
      query: t.Object({
        page: t.Optional(wholeNumber("page", 1, MAX_PAGE, "From 1 (default), newest first")),
        limit: t.Optional(
          wholeNumber(
            "limit",
            1,
            MAX_RECORDS_PER_PAGE,
            `Records per page, at most ${MAX_RECORDS_PER_PAGE} (default ${RECORDS_PER_PAGE})`,
          ),
        ),
      }),
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
