/** @jsxImportSource @kitajs/html */
import { Elysia, t } from "elysia";
import { ErrorPage } from "../../views/layout.tsx";
import { DESCRIPTION_MAX, EditTorrentPage, TITLE_MAX, TorrentPage } from "../../views/torrent.tsx";
import { type ListState, TorrentResults, TorrentsPage } from "../../views/torrents.tsx";
import { UploadForm, UploadPage, type UploadState } from "../../views/upload.tsx";
import {
  deleteTorrent,
  getTorrent,
  listTorrents,
  SORTS,
  type Sort,
  type TorrentDetail,
  type TorrentRow,
  torrentFile,
  updateTorrent,
} from "../db/queries/torrents.ts";
import { type PageContext, type Viewer, webContext } from "./context.ts";
import type { WebDeps } from "./deps.ts";
import { personalise, safeFileName } from "./metainfo.ts";
import { acceptUpload, cleanDescription, cleanTitle } from "./upload.ts";

/** A torrent number in a path: digits only (no signs, exponents, hex or spaces), as PostgreSQL takes it. */
export const ID_PARAMS = t.Object({ id: t.String({ pattern: "^[1-9][0-9]{0,14}$" }) });

/** Rows on one page of the torrent list. */
export const PAGE_SIZE = 50;

/** Where a logged-out visitor is sent: the log-in page, coming back here afterwards. */
export function loginRedirect(base: string, request: Request): Response {
  const url = new URL(request.url);
  const next = `${base}${url.pathname}${url.search}`;
  return new Response(null, {
    status: 303,
    headers: { location: `${base}/login?next=${encodeURIComponent(next)}` },
  });
}

function notFound(page: PageContext, set: { status?: number | string }) {
  return problem(page, set, 404, "Torrent not found", "There is no torrent with this number.");
}

function problem(
  page: PageContext,
  set: { status?: number | string },
  status: number,
  title: string,
  message: string,
) {
  set.status = status;
  return <ErrorPage page={page} status={status} title={title} message={message} />;
}

/** Torrents: list and search, detail, upload, download, edit and delete. */
export function torrentRoutes(deps: WebDeps) {
  const counts = (row: TorrentRow) => deps.counts.get(row.id) ?? row;
  /** The torrent, if it exists and this member may edit it (its uploader, or a moderator). */
  const editable = async (
    page: PageContext,
    set: { status?: number | string },
    viewer: Viewer,
    id: number,
  ): Promise<{ torrent: TorrentDetail } | { refused: JSX.Element }> => {
    const torrent = await getTorrent(deps.sql, id);
    if (!torrent) return { refused: notFound(page, set) };
    if (torrent.creator_id !== viewer.id && !viewer.can("moderate"))
      return {
        refused: problem(
          page,
          set,
          403,
          "Not allowed",
          "Only the uploader and moderators may edit this torrent.",
        ),
      };
    return { torrent };
  };
  return new Elysia({ name: "torrents" })
    .use(webContext(deps))
    .onBeforeHandle(({ viewer, base, request }) => {
      if (!viewer) return loginRedirect(base, request);
    })
    .get(
      "/torrents",
      async ({ page, query, request }) => {
        const pageNumber = query.page ? Number(query.page) : 1;
        const state: ListState = {
          q: (query.q ?? "").trim(),
          sort: query.sort as Sort | undefined,
          order: query.order === "asc" ? "asc" : "desc",
          page: pageNumber,
          rows: [],
          hasNext: false,
        };
        const rows = await listTorrents(deps.sql, {
          search: state.q || undefined,
          sort: state.sort,
          order: state.order,
          limit: PAGE_SIZE,
          offset: (pageNumber - 1) * PAGE_SIZE,
        });
        state.hasNext = rows.length > PAGE_SIZE;
        state.rows = rows.slice(0, PAGE_SIZE);
        const byId = new Map(state.rows.map((r) => [r.id, r]));
        const live = (id: number) => counts(byId.get(id)!) as TorrentRow;
        // htmx asks for the results alone while a search is typed; a browser gets the whole page.
        if (request.headers.get("hx-request") === "true" && request.headers.get("hx-boosted") !== "true")
          return <TorrentResults base={page.base} state={state} counts={live} />;
        return <TorrentsPage page={page} state={state} counts={live} />;
      },
      {
        query: t.Object({
          q: t.Optional(t.String({ maxLength: 200 })),
          // Plain strings checked by pattern: Elysia fills an absent optional enum with its first value.
          sort: t.Optional(t.String({ pattern: `^(${SORTS.join("|")})$` })),
          order: t.Optional(t.String({ pattern: "^(asc|desc)$" })),
          page: t.Optional(t.String({ pattern: "^[1-9][0-9]{0,5}$" })),
        }),
      },
    )
    .get(
      "/torrents/:id",
      async ({ page, params, query, set, viewer }) => {
        const torrent = await getTorrent(deps.sql, Number(params.id));
        if (!torrent) return notFound(page, set);
        const own = torrent.creator_id === viewer!.id;
        const notice =
          query.uploaded === "changed"
            ? "Uploaded. The site made this torrent private, which changed its info hash: download the site's copy and seed from that."
            : query.uploaded
              ? "Uploaded. Download the site's copy to seed it with your passkey."
              : query.saved
                ? "Saved."
                : undefined;
        return (
          <TorrentPage
            page={page}
            torrent={torrent}
            counts={deps.counts.get(torrent.id) ?? torrent}
            canEdit={own || viewer!.can("moderate")}
            canDelete={viewer!.can("moderate")}
            notice={notice}
          />
        );
      },
      {
        params: ID_PARAMS,
        query: t.Object({
          uploaded: t.Optional(t.String({ maxLength: 10 })),
          saved: t.Optional(t.String({ maxLength: 10 })),
        }),
      },
    )
    .get(
      "/torrents/:id/download",
      async ({ page, params, set, viewer }) => {
        const file = await torrentFile(deps.sql, Number(params.id));
        if (!file) return notFound(page, set);
        const announce = `${deps.config.trackerUrl}/${viewer!.passkey}/announce`;
        const body = personalise(file.metainfo, announce);
        return new Response(body as Uint8Array<ArrayBuffer>, {
          headers: {
            "content-type": "application/x-bittorrent",
            "content-disposition": `attachment; filename="${safeFileName(file.title)}"`,
            "cache-control": "private, no-store",
          },
        });
      },
      { params: ID_PARAMS },
    )
    .get("/upload", ({ page, viewer, set }) => {
      if (!viewer!.can("upload"))
        return problem(page, set, 403, "Not allowed", "Your account may not upload torrents.");
      return <UploadPage page={page} state={{}} maxBytes={deps.config.webapi.maxTorrentBytes} />;
    })
    .post(
      "/upload",
      async ({ page, viewer, body, set, request }) => {
        if (!viewer!.can("upload"))
          return problem(page, set, 403, "Not allowed", "Your account may not upload torrents.");
        const isHtmx = request.headers.get("hx-request") === "true";
        const maxBytes = deps.config.webapi.maxTorrentBytes;
        const result = await acceptUpload(deps, {
          file: body.file,
          title: body.title,
          description: body.description,
          creatorId: viewer!.id,
        });
        if (!result.ok) {
          // htmx swaps the form back in only from a 2xx answer; a browser posting plainly gets the status.
          set.status = isHtmx ? 200 : result.status;
          const state: UploadState = {
            title: cleanTitle(body.title),
            description: cleanDescription(body.description),
            errors: { [result.field ?? "form"]: result.message },
            duplicateOf: result.duplicateOf ?? undefined,
          };
          return isHtmx ? (
            <UploadForm page={page} state={state} maxBytes={maxBytes} />
          ) : (
            <UploadPage page={page} state={state} maxBytes={maxBytes} />
          );
        }
        const { id, changed } = result;
        const location = `${page.base}/torrents/${id}?uploaded=${changed ? "changed" : "1"}`;
        if (isHtmx) {
          set.headers["hx-redirect"] = location;
          return "";
        }
        return new Response(null, { status: 303, headers: { location } });
      },
      {
        body: t.Object({
          file: t.Optional(t.Any()),
          title: t.Optional(t.String({ maxLength: TITLE_MAX })),
          description: t.Optional(t.String({ maxLength: DESCRIPTION_MAX })),
          _csrf: t.Optional(t.String({ maxLength: 200 })),
        }),
      },
    )
    .get(
      "/torrents/:id/edit",
      async ({ page, params, set, viewer }) => {
        const found = await editable(page, set, viewer!, Number(params.id));
        if ("refused" in found) return found.refused;
        const { torrent } = found;
        return (
          <EditTorrentPage
            page={page}
            id={torrent.id}
            title={torrent.title}
            description={torrent.description}
          />
        );
      },
      { params: ID_PARAMS },
    )
    .post(
      "/torrents/:id/edit",
      async ({ page, params, body, set, viewer }) => {
        const found = await editable(page, set, viewer!, Number(params.id));
        if ("refused" in found) return found.refused;
        const { torrent } = found;
        const title = body.title.trim();
        const description = cleanDescription(body.description);
        if (!title) {
          set.status = 422;
          return (
            <EditTorrentPage
              page={page}
              id={torrent.id}
              title={title}
              description={description}
              errors={{ title: "Enter a title." }}
            />
          );
        }
        await updateTorrent(deps.sql, torrent.id, title, description);
        return new Response(null, {
          status: 303,
          headers: { location: `${page.base}/torrents/${torrent.id}?saved=1` },
        });
      },
      {
        params: ID_PARAMS,
        body: t.Object({
          title: t.String({ maxLength: TITLE_MAX }),
          description: t.String({ maxLength: DESCRIPTION_MAX }),
          _csrf: t.Optional(t.String({ maxLength: 200 })),
        }),
      },
    )
    .post(
      "/torrents/:id/delete",
      async ({ page, params, set, viewer }) => {
        if (!viewer!.can("moderate"))
          return problem(page, set, 403, "Not allowed", "Only moderators may delete torrents.");
        const torrent = await getTorrent(deps.sql, Number(params.id));
        if (!torrent) return notFound(page, set);
        await deleteTorrent(deps.sql, torrent.id);
        await deps.sync.torrent(torrent.id);
        return new Response(null, { status: 303, headers: { location: `${page.base}/torrents` } });
      },
      { params: ID_PARAMS },
    );
}
