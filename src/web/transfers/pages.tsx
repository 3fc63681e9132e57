/** @jsxImportSource @kitajs/html */
import { Elysia, t } from "elysia";
import { SwarmPage, SwarmSection } from "../../../views/economy/swarm.tsx";
import { FreeleechPage } from "../../../views/freeleech/freeleech.tsx";
import { HistoryPage } from "../../../views/history/history.tsx";
import { memberDetail } from "../../db/queries/members.ts";
import { getTorrent } from "../../db/queries/torrents.ts";
import { type Actor, STAFF } from "../access.ts";
import { notFound, type PageContext, refusedPage } from "../context.tsx";
import type { WebDeps } from "../deps.ts";
import { pageGate } from "../gate.tsx";
import { NO_MEMBER, NO_TORRENT } from "../refusal.ts";
import { CsrfField, IdParams } from "../schemas.ts";
import {
  addWindow,
  anonymity,
  freeleechState,
  HISTORY_SORTS,
  type HistorySort,
  historyPage,
  MAX_PAGE,
  peerList,
  ROWS_PER_PAGE,
  removeWindow,
  requestFreeleech,
  setAnonymity,
  setFreeleech,
  snatchPage,
  windows,
} from "./service.ts";

const see = (location: string) => new Response(null, { status: 303, headers: { location } });

/** A form's number, or NaN when it is not one. */
function formNumber(text: string | undefined): number {
  const s = (text ?? "").trim();
  return /^[0-9]+(\.[0-9]+)?$/.test(s) ? Number(s) : Number.NaN;
}

/** A datetime-local value (no zone: read as UTC) or a full ISO time, as a Date (invalid if neither). */
function formTime(text: string | undefined): Date {
  const s = (text ?? "").trim();
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(s)) return new Date(`${s}Z`);
  return new Date(/^\d{4}-\d{2}-\d{2}T/.test(s) ? s : Number.NaN);
}

const HistoryQuery = t.Object({
  sort: t.Optional(t.String({ maxLength: 20 })),
  order: t.Optional(t.String({ maxLength: 10 })),
  page: t.Optional(t.String({ maxLength: 10 })),
});

/** The history query as asked, falling back to defaults for what is not valid. */
function historyQuery(q: typeof HistoryQuery.static) {
  const sort = (HISTORY_SORTS as readonly string[]).includes(q.sort ?? "") ? (q.sort as HistorySort) : "last";
  const text = q.page ?? "1";
  const page = /^[1-9][0-9]{0,4}$/.test(text) && Number(text) <= MAX_PAGE ? Number(text) : 1;
  return { sort, desc: q.order !== "asc", page, limit: ROWS_PER_PAGE };
}

/** History, swarm section, freeleech controls and the admins' window page. */
export function transferPages(deps: WebDeps) {
  /** The swarm section (or page) of a torrent for `viewer`. */
  async function swarm(
    page: PageContext,
    viewer: Actor,
    id: number,
    set: { status?: number | string },
    fragment: boolean,
    errors?: Record<string, string>,
  ) {
    const torrent = await getTorrent(deps.sql, id);
    const [state, peers] = await Promise.all([freeleechState(deps, id), peerList(deps, viewer, id)]);
    if (!torrent || !state.ok || (!peers.ok && peers.refusal.code !== "unavailable"))
      return notFound(page, set, NO_TORRENT);
    const snatches = viewer.can("moderate")
      ? await snatchPage(deps, viewer, id, { page: 1, limit: 100 })
      : null;
    const props = {
      page,
      torrentId: id,
      freeleech: state,
      seeders: peers.ok ? peers.seeders : [],
      leechers: peers.ok ? peers.leechers : [],
      peersUnavailable: peers.ok ? undefined : peers.refusal.message,
      canSetFactors: viewer.can("moderate"),
      canRequest: torrent.creatorId === viewer.id && !viewer.can("moderate"),
      snatches: snatches?.ok
        ? snatches.rows.map((r) => ({
            member: { id: r.userId, name: r.userName },
            completedAt: r.completedAt,
            uploaded: r.uploaded,
            downloaded: r.downloaded,
            seedSeconds: Number(r.seedSeconds),
            seeding: r.seeding,
          }))
        : null,
      errors,
    };
    return fragment ? <SwarmSection {...props} /> : <SwarmPage {...props} title={torrent.title} />;
  }
  const isFragment = (request: Request) =>
    request.headers.get("hx-request") === "true" && request.headers.get("hx-boosted") !== "true";

  return new Elysia({ name: "transfer-pages" })
    .use(pageGate(deps))
    .get(
      "/torrents/:id/swarm",
      ({ page, viewer, params, set, request }) => swarm(page, viewer, params.id, set, isFragment(request)),
      { member: true, params: IdParams },
    )
    .post(
      "/torrents/:id/freeleech",
      async ({ page, viewer, params, body, set }) => {
        const result = await setFreeleech(deps, viewer, params.id, {
          downloadFactor: formNumber(body.download_factor),
          uploadFactor: formNumber(body.upload_factor),
        });
        if (result.ok) return see(`${page.base}/torrents/${params.id}`);
        return refusedPage(page, set, result.refusal, {
          form: {
            // The service names the factors as the API does; the form's fields are snake_case.
            render: (errors: Record<string, string>) =>
              swarm(page, viewer, params.id, set, false, {
                [errors.downloadFactor ? "download_factor" : "upload_factor"]: Object.values(errors)[0]!,
              }),
          },
        });
      },
      {
        role: { anyOf: "moderate", back: "/torrents/:id" },
        params: IdParams,
        body: t.Object({
          download_factor: t.String({ maxLength: 20 }),
          upload_factor: t.String({ maxLength: 20 }),
          ...CsrfField,
        }),
      },
    )
    .post(
      "/torrents/:id/freeleech-request",
      async ({ page, viewer, params, body, set }) => {
        const result = await requestFreeleech(deps, viewer, params.id, body.requested === "1");
        if (!result.ok) return refusedPage(page, set, result.refusal);
        return see(`${page.base}/torrents/${params.id}`);
      },
      {
        member: "/torrents/:id",
        params: IdParams,
        body: t.Object({ requested: t.String({ maxLength: 1 }), ...CsrfField }),
      },
    )
    .get(
      "/account/history",
      async ({ page, viewer, query, set }) => {
        const q = historyQuery(query);
        const result = await historyPage(deps, viewer, viewer.id, q);
        if (!result.ok) return refusedPage(page, set, result.refusal);
        return (
          <HistoryPage
            page={page}
            member={{ id: viewer.id, name: viewer.name }}
            self
            rows={result.rows}
            sort={q.sort}
            desc={q.desc}
            pageNo={q.page}
            hasNext={result.hasNext}
            anonymous={await anonymity(deps, viewer)}
          />
        );
      },
      { member: true, query: HistoryQuery },
    )
    .get(
      "/admin/users/:id/history",
      async ({ page, viewer, params, query, set }) => {
        const member = await memberDetail(deps.sql, params.id);
        if (!member) return notFound(page, set, NO_MEMBER);
        const q = historyQuery(query);
        const result = await historyPage(deps, viewer, params.id, q);
        if (!result.ok) return refusedPage(page, set, result.refusal);
        return (
          <HistoryPage
            page={page}
            member={{ id: member.id, name: member.name }}
            self={false}
            rows={result.rows}
            sort={q.sort}
            desc={q.desc}
            pageNo={q.page}
            hasNext={result.hasNext}
            anonymous={false}
          />
        );
      },
      { role: STAFF, params: IdParams, query: HistoryQuery },
    )
    .post(
      "/account/anonymous",
      async ({ page, viewer, body }) => {
        await setAnonymity(deps, viewer, body.anonymous === "1");
        return see(`${page.base}/account/history`);
      },
      { member: "/account/history", body: t.Object({ anonymous: t.String({ maxLength: 1 }), ...CsrfField }) },
    )
    .get(
      "/admin/freeleech",
      async ({ page }) => <FreeleechPage page={page} windows={await windows(deps)} />,
      {
        role: "admin",
      },
    )
    .post(
      "/admin/freeleech",
      async ({ page, viewer, body, set }) => {
        const result = await addWindow(deps, viewer, {
          startsAt: formTime(body.starts_at),
          endsAt: formTime(body.ends_at),
          downloadFactor: formNumber(body.download_factor),
          uploadFactor: formNumber(body.upload_factor),
          note: body.note ?? "",
        });
        if (result.ok) return see(`${page.base}/admin/freeleech`);
        const { _csrf, ...values } = body;
        return refusedPage(page, set, result.refusal, {
          form: {
            render: async (errors: Record<string, string>) => (
              <FreeleechPage
                page={page}
                windows={await windows(deps)}
                errors={errors}
                values={values as Record<string, string>}
              />
            ),
          },
        });
      },
      {
        role: { anyOf: "admin", back: "/admin/freeleech" },
        body: t.Object({
          starts_at: t.String({ maxLength: 40 }),
          ends_at: t.String({ maxLength: 40 }),
          download_factor: t.String({ maxLength: 20 }),
          upload_factor: t.String({ maxLength: 20 }),
          note: t.Optional(t.String({ maxLength: 200 })),
          ...CsrfField,
        }),
      },
    )
    .post(
      "/admin/freeleech/:id/delete",
      async ({ page, viewer, params, set }) => {
        const result = await removeWindow(deps, viewer, params.id);
        if (!result.ok) return refusedPage(page, set, result.refusal);
        return see(`${page.base}/admin/freeleech`);
      },
      {
        role: { anyOf: "admin", back: "/admin/freeleech" },
        params: IdParams,
        body: t.Optional(t.Object(CsrfField)),
      },
    );
}
