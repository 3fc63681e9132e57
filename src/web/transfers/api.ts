import { Elysia, t } from "elysia";
import type { WindowRow } from "../../db/queries/freeleech.ts";
import type { HistoryRow } from "../../db/queries/history.ts";
import { type ApiLimiters, apiContext } from "../api/context.ts";
import { accepted } from "../api/errors.ts";
import { errors, exactInteger, MemberRef, snaked } from "../api/schemas.ts";
import type { WebDeps } from "../deps.ts";
import { IdParams, pagingFields } from "../schemas.ts";
import {
  addWindow,
  connectableOf,
  type FactorState,
  freeleechState,
  HISTORY_SORTS,
  historyPage,
  MAX_PAGE,
  MAX_ROWS_PER_PAGE,
  type PeerItem,
  peerList,
  ROWS_PER_PAGE,
  removeWindow,
  setFreeleech,
  snatchPage,
  windows,
} from "./service.ts";

const Time = (description: string) => t.String({ format: "date-time", description });
const MaybeTime = (description: string) => t.Union([Time(description), t.Null()]);
const Bytes = (description: string) =>
  t.Unsafe<number>(t.Any({ type: "integer", format: "int64", minimum: 0, description }));

const Connectable = (description: string) =>
  t.Union([t.Literal("yes"), t.Literal("no"), t.Literal("unknown")], {
    description: `${description}: yes, no, or unknown (not probed yet)`,
  });

const HistoryItem = t.Object(
  {
    member: MemberRef,
    torrent: t.Object({ id: t.Number(), title: t.String(), size: Bytes("Bytes") }),
    uploaded: Bytes("Upload credited (after caps and factors)"),
    downloaded: Bytes("Download credited"),
    reported_uploaded: Bytes("Upload the client reported, before caps and factors"),
    reported_downloaded: Bytes("Download the client reported"),
    seed_seconds: t.Number({ description: "Seconds seeded, each announce step capped by the interval" }),
    first_announce_at: MaybeTime("The first announce"),
    last_announce_at: MaybeTime("The latest announce"),
    completed_at: MaybeTime("When the member completed it"),
    seeding: t.Boolean({ description: "Has a seeder in the swarm now" }),
    leeching: t.Boolean({ description: "Has a leecher in the swarm now" }),
    connectable: Connectable(
      "Whether a peer of the member in the swarm now accepted a BitTorrent handshake at its last probe (yes when one did)",
    ),
  },
  { description: "One member's record on one torrent" },
);

function historyBody(r: HistoryRow): typeof HistoryItem.static {
  const iso = (d: Date | null) => (d ? d.toISOString() : null);
  return {
    member: { id: r.userId, name: r.userName },
    torrent: { id: r.torrentId, title: r.title, size: exactInteger(r.size) as number },
    uploaded: exactInteger(r.uploaded) as number,
    downloaded: exactInteger(r.downloaded) as number,
    reported_uploaded: exactInteger(r.reportedUploaded) as number,
    reported_downloaded: exactInteger(r.reportedDownloaded) as number,
    seed_seconds: Number(r.seedSeconds),
    first_announce_at: iso(r.firstAnnounceAt),
    last_announce_at: iso(r.lastAnnounceAt),
    completed_at: iso(r.completedAt),
    seeding: r.seeding,
    leeching: r.leeching,
    connectable: connectableOf(r.connectable),
  };
}

const HistoryBody = t.Object({
  items: t.Array(HistoryItem),
  page: t.Number(),
  limit: t.Number(),
  has_next: t.Boolean({ description: "Whether a next page exists" }),
});

const Peer = t.Object(
  {
    member: t.Union([MemberRef, t.Null()], {
      description: "Null when the member chose to be anonymous (staff and the member see it)",
    }),
    anonymous: t.Boolean(),
    client: t.String({ description: "Decoded from the peer_id, e.g. qBittorrent 4.6.5; or unknown" }),
    seeder: t.Boolean(),
    uploaded: t.Number({ description: "Bytes this session, as reported" }),
    downloaded: t.Number({ description: "Bytes this session, as reported" }),
    progress: t.Number({ description: "Share of the torrent the peer has, 0 to 1" }),
    announced_at: Time("Its latest announce"),
    idle_seconds: t.Number({ description: "Seconds since its latest announce" }),
    connectable: Connectable("Whether the peer accepted a BitTorrent handshake at its last probe"),
  },
  { description: "A peer in the swarm; no address is ever shown" },
);

function peerBody(p: PeerItem): typeof Peer.static {
  return {
    ...snaked(p, "member", "anonymous", "client", "seeder", "uploaded", "downloaded", "progress"),
    announced_at: p.announcedAt.toISOString(),
    idle_seconds: p.idleSeconds,
    connectable: p.connectable,
  };
}

const Freeleech = t.Object(
  {
    download_factor: t.Number({ description: "In force now: credited download = downloaded × this" }),
    upload_factor: t.Number({ description: "In force now: credited upload = uploaded × this" }),
    badge: t.Union([t.String(), t.Null()], {
      description: "freeleech, neutral, double upload, …; null when normal",
    }),
    until: MaybeTime("When the site-wide window behind this state ends; null for the torrent's own"),
    own: t.Object(
      { download_factor: t.Number(), upload_factor: t.Number() },
      { description: "The torrent's own factors" },
    ),
    requested: t.Boolean({ description: "Whether the uploader asked for freeleech" }),
  },
  { description: "A torrent's freeleech state" },
);

function freeleechBody(s: FactorState): typeof Freeleech.static {
  return {
    ...snaked(s, "downloadFactor", "uploadFactor", "badge"),
    until: s.until ? s.until.toISOString() : null,
    own: snaked(s.own, "downloadFactor", "uploadFactor"),
    requested: s.requested,
  };
}

const Window = t.Object(
  {
    id: t.Number(),
    starts_at: Time("Start (inclusive)"),
    ends_at: Time("End (exclusive)"),
    download_factor: t.Number(),
    upload_factor: t.Number(),
    note: t.String(),
    created_by: t.Union([t.String(), t.Null()]),
  },
  { description: "A site-wide factor window" },
);

function windowBody(w: WindowRow): typeof Window.static {
  return {
    id: w.id,
    starts_at: w.startsAt.toISOString(),
    ends_at: w.endsAt.toISOString(),
    download_factor: w.downloadFactor,
    upload_factor: w.uploadFactor,
    note: w.note,
    created_by: w.createdBy,
  };
}

const Factor = (description: string) => t.Number({ minimum: 0, maximum: 10, description });
const Paging = pagingFields({
  maxPage: MAX_PAGE,
  items: "Rows",
  maxLimit: MAX_ROWS_PER_PAGE,
  defaultLimit: ROWS_PER_PAGE,
});

/** History, peer lists, snatch lists and freeleech under /api/v1. */
export function transfersApi(deps: WebDeps, limiters: ApiLimiters) {
  return new Elysia({ name: "api-transfers" })
    .use(apiContext(deps, limiters))
    .get(
      "/users/:id/history",
      async ({ caller, params, query }) => {
        const page = query.page ?? 1;
        const limit = query.limit ?? ROWS_PER_PAGE;
        const result = accepted(
          await historyPage(deps, caller, params.id, {
            sort: query.sort ?? "last",
            desc: (query.order ?? "desc") === "desc",
            page,
            limit,
          }),
        );
        return { items: result.rows.map(historyBody), page, limit, has_next: result.hasNext };
      },
      {
        member: true,
        params: IdParams,
        query: t.Object({
          sort: t.Optional(
            t.UnionEnum([...HISTORY_SORTS], { description: "Order by (default last announce)" }),
          ),
          order: t.Optional(t.UnionEnum(["desc", "asc"], { description: "Default desc" })),
          ...Paging,
        }),
        response: { 200: HistoryBody, ...errors(401, 403, 422) },
        detail: {
          tags: ["Users"],
          summary: "A member's torrents",
          description:
            "The member themselves and staff. Credited and reported figures, seed time, first and last announce, completion, and whether the member is seeding or leeching now.",
        },
      },
    )
    .get(
      "/torrents/:id/peers",
      async ({ caller, params }) => {
        const result = accepted(await peerList(deps, caller, params.id));
        return { seeders: result.seeders.map(peerBody), leechers: result.leechers.map(peerBody) };
      },
      {
        member: true,
        params: IdParams,
        response: {
          200: t.Object({ seeders: t.Array(Peer), leechers: t.Array(Peer) }),
          ...errors(401, 404, 422, 503),
        },
        detail: {
          tags: ["Torrents"],
          summary: "Peers of a torrent",
          description:
            "Seeders and leechers as the tracker holds them now (at most 200 of each, the most recent first), asked of the tracker when called. Anonymous members show as null to other members; no address is given. 503 when the tracker does not answer within 1.5 s.",
        },
      },
    )
    .get(
      "/torrents/:id/snatches",
      async ({ caller, params, query }) => {
        const page = query.page ?? 1;
        const limit = query.limit ?? ROWS_PER_PAGE;
        const result = accepted(await snatchPage(deps, caller, params.id, { page, limit }));
        return { items: result.rows.map(historyBody), page, limit, has_next: result.hasNext };
      },
      {
        role: "moderate",
        params: IdParams,
        query: t.Object(Paging),
        response: { 200: HistoryBody, ...errors(401, 403, 404, 422) },
        detail: {
          tags: ["Torrents"],
          summary: "Who completed a torrent",
          description: "Moderators only. Latest completion first, with each member's record on the torrent.",
        },
      },
    )
    .get(
      "/torrents/:id/freeleech",
      async ({ params }) => {
        const result = accepted(await freeleechState(deps, params.id));
        return freeleechBody(result);
      },
      {
        member: true,
        params: IdParams,
        response: { 200: Freeleech, ...errors(401, 404, 422) },
        detail: { tags: ["Torrents"], summary: "Freeleech state of a torrent" },
      },
    )
    .put(
      "/torrents/:id/freeleech",
      async ({ caller, params, body }) => {
        const result = accepted(
          await setFreeleech(deps, caller, params.id, {
            downloadFactor: body.download_factor,
            uploadFactor: body.upload_factor,
          }),
        );
        return freeleechBody(result);
      },
      {
        role: "moderate",
        params: IdParams,
        body: t.Object(
          {
            download_factor: Factor("0 for freeleech, 1 normal"),
            upload_factor: Factor("2 for double upload, 1 normal"),
          },
          { examples: [{ download_factor: 0, upload_factor: 1 }] },
        ),
        response: { 200: Freeleech, ...errors(401, 403, 404, 422) },
        detail: {
          tags: ["Torrents"],
          summary: "Set a torrent's factors",
          description: "Moderators only. Neutral is 0 and 0. The tracker applies them within a second.",
        },
      },
    )
    .get("/freeleech/windows", async () => ({ items: (await windows(deps, true)).map(windowBody) }), {
      role: "admin",
      response: { 200: t.Object({ items: t.Array(Window) }), ...errors(401, 403) },
      detail: { tags: ["Torrents"], summary: "Site-wide factor windows", description: "Admins only." },
    })
    .post(
      "/freeleech/windows",
      async ({ caller, body, set }) => {
        const result = accepted(
          await addWindow(deps, caller, {
            startsAt: new Date(body.starts_at),
            endsAt: new Date(body.ends_at),
            downloadFactor: body.download_factor,
            uploadFactor: body.upload_factor,
            note: body.note ?? "",
          }),
        );
        const made = (await windows(deps, true)).find((w) => w.id === result.id)!;
        set.status = 201;
        return windowBody(made);
      },
      {
        role: "admin",
        body: t.Object(
          {
            starts_at: t.String({ format: "date-time", maxLength: 40, description: "When it starts" }),
            ends_at: t.String({ format: "date-time", maxLength: 40, description: "When it ends" }),
            download_factor: Factor("0 for freeleech"),
            upload_factor: Factor("2 for double upload"),
            note: t.Optional(t.String({ maxLength: 200, description: "What the window is for, free text" })),
          },
          {
            examples: [
              {
                starts_at: "2026-12-24T00:00:00Z",
                ends_at: "2026-12-27T00:00:00Z",
                download_factor: 0,
                upload_factor: 1,
                note: "Holiday freeleech",
              },
            ],
          },
        ),
        response: { 201: Window, ...errors(401, 403, 422) },
        detail: {
          tags: ["Torrents"],
          summary: "Add a site-wide window",
          description:
            "Admins only. From starts_at to ends_at every torrent gets these factors where they are more generous than its own; the tracker switches by its own clock.",
        },
      },
    )
    .delete(
      "/freeleech/windows/:id",
      async ({ caller, params, set }) => {
        accepted(await removeWindow(deps, caller, params.id));
        set.status = 204;
        return null;
      },
      {
        role: "admin",
        params: IdParams,
        response: { 204: t.Null({ description: "Removed" }), ...errors(401, 403, 404, 422) },
        detail: { tags: ["Torrents"], summary: "Remove a site-wide window", description: "Admins only." },
      },
    );
}
