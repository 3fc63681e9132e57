/** @jsxImportSource @kitajs/html */
import { Elysia, t } from "elysia";
import { type ListState, TorrentResults, TorrentsPage } from "../../../views/torrents/list.tsx";
import { EditTorrentPage, TorrentPage } from "../../../views/torrents/torrent.tsx";
import { UploadForm, UploadPage, type UploadState } from "../../../views/torrents/upload.tsx";
import { popularTags } from "../../db/queries/tags.ts";
import { SORTS, type Sort } from "../../db/queries/torrents.ts";
import { categories } from "../categories/service.ts";
import { COMMENT_LIMITS, commentPage, markCommentsSeen, newCommentNotices } from "../comments/service.ts";
import { notFound, refusedPage } from "../context.tsx";
import type { WebDeps } from "../deps.ts";
import { pageGate } from "../gate.tsx";
import { linksFor } from "../links.ts";
import { preview } from "../markdown/service.ts";
import { swarmHistory } from "../plots/service.ts";
import { NO_TORRENT } from "../refusal.ts";
import { CsrfField, IdParams, optionalTexts } from "../schemas.ts";
import {
  bookmarkedOf,
  cleanDescription,
  cleanTitle,
  descriptionHtml,
  editableTorrent,
  editTorrent,
  FORM_LIMITS,
  filledRequests,
  findTorrent,
  personalisedDownload,
  removeTorrent,
  TEXT_LIMITS,
  torrentPage,
  torrentRights,
} from "./service.ts";
import { TAG_LIMITS, tagFilter } from "./tags.ts";
import { acceptUpload, categoryField } from "./upload.ts";

/** Rows on one page of the torrent list. */
export const PAGE_SIZE = 50;
/** Tags offered as filters above the list. */
export const TAGS_OFFERED = 30;

const UPLOADED: Record<string, string> = {
  changed:
    "Uploaded. The site made this torrent private, which changed its info hash: download the site's copy and seed from that.",
  "1": "Uploaded. Download the site's copy to seed it with your passkey.",
};

/** The title of the page for a torrent that is not there. */
const notFoundTitle = "Torrent not found";

/** Torrents: list and search, detail, upload, download, edit and delete. */
export function torrentPages(deps: WebDeps) {
  const maxBytes = deps.config.webapi.maxTorrentBytes;
  return new Elysia({ name: "torrent-pages" })
    .use(pageGate(deps))
    .get(
      "/torrents",
      async ({ page, viewer, query, request }) => {
        const q = (query.q ?? "").trim();
        const order = query.order === "asc" ? "asc" : "desc";
        const pageNumber = query.page ? Number(query.page) : 1;
        const sort = query.sort as Sort | undefined;
        const category = query.category ? Number(query.category) : undefined;
        const tagText = query.tag?.trim() || undefined;
        // A tag that cannot exist (wrong characters, too long) matches nothing.
        const tag = tagText === undefined ? undefined : tagFilter(tagText);
        const { rows, hasNext } =
          tag === null
            ? { rows: [], hasNext: false }
            : await torrentPage(deps, { q, category, tag, sort, order, page: pageNumber, limit: PAGE_SIZE });
        const state: ListState = {
          q,
          category,
          tag: tag ?? tagText,
          sort,
          order,
          page: pageNumber,
          rows,
          hasNext,
          categories: await categories(deps),
          tags: await popularTags(deps.sql, TAGS_OFFERED),
          bookmarked: [
            ...(await bookmarkedOf(
              deps,
              viewer,
              rows.map((r) => r.id),
            )),
          ],
        };
        // htmx asks for the results alone while a search is typed; a browser gets the whole page.
        if (request.headers.get("hx-request") === "true" && request.headers.get("hx-boosted") !== "true")
          return <TorrentResults page={page} state={state} />;
        return <TorrentsPage page={page} state={state} notices={await newCommentNotices(deps, viewer.id)} />;
      },
      {
        member: true,
        query: t.Object({
          q: t.Optional(t.String({ maxLength: 200 })),
          category: t.Optional(t.String({ pattern: "^[1-9][0-9]{0,14}$" })),
          tag: t.Optional(t.String({ maxLength: 100 })),
          // Plain strings checked by pattern: Elysia fills an absent optional enum with its first value.
          sort: t.Optional(t.String({ pattern: `^(${SORTS.join("|")})$` })),
          order: t.Optional(t.String({ pattern: "^(asc|desc)$" })),
          page: t.Optional(t.String({ pattern: "^[1-9][0-9]{0,5}$" })),
        }),
      },
    )
    .get(
      "/torrents/:id",
      async ({ page, viewer, params, query, set }) => {
        const torrent = await findTorrent(deps, params.id);
        if (!torrent) return notFound(page, set, NO_TORRENT);
        const { canEdit, canDelete } = torrentRights(viewer, torrent);
        const notice = query.uploaded
          ? (UPLOADED[query.uploaded] ?? UPLOADED["1"])
          : query.saved
            ? "Saved."
            : undefined;
        const cpage = query.cpage && /^[1-9][0-9]{0,5}$/.test(query.cpage) ? Number(query.cpage) : 1;
        const comments = await commentPage(deps, viewer, torrent.id, cpage);
        await markCommentsSeen(deps, viewer, torrent);
        return (
          <TorrentPage
            page={page}
            torrent={torrent}
            descriptionHtml={await descriptionHtml(deps, torrent)}
            hasDescription={torrent.description !== ""}
            counts={torrent}
            canEdit={canEdit}
            canDelete={canDelete}
            comments={{ ...comments, bodyMax: COMMENT_LIMITS.bodyMax }}
            notice={notice}
            history={await swarmHistory(deps, torrent)}
            bookmarked={(await bookmarkedOf(deps, viewer, [torrent.id])).has(torrent.id)}
            requests={await filledRequests(deps, torrent.id)}
          />
        );
      },
      {
        member: true,
        params: IdParams,
        query: optionalTexts({ uploaded: 10, saved: 10, cpage: 10 }),
      },
    )
    .get(
      "/torrents/:id/download",
      async ({ page, viewer, params, set, request }) =>
        (await personalisedDownload(
          deps,
          params.id,
          viewer.passkey,
          linksFor(deps.config, request, page.base),
        )) ?? notFound(page, set, NO_TORRENT),
      { member: true, params: IdParams },
    )
    .get(
      "/upload",
      async ({ page }) => (
        <UploadPage
          page={page}
          state={{}}
          maxBytes={maxBytes}
          limits={FORM_LIMITS}
          categories={await categories(deps)}
        />
      ),
      { role: "upload" },
    )
    .post(
      "/upload",
      async ({ page, viewer, body, set, request }) => {
        const isHtmx = request.headers.get("hx-request") === "true";
        const categoryId = categoryField(body.category);
        const result = await acceptUpload(deps, {
          file: body.file,
          title: body.title,
          description: body.description,
          categoryId,
          tags: body.tags,
          creatorId: viewer.id,
        });
        if (!result.ok) {
          const duplicateOf = "duplicateOf" in result ? result.duplicateOf : undefined;
          return refusedPage(page, set, result.refusal, {
            form: {
              field: "form",
              render: async (errors) => {
                // htmx swaps the form back in only from a 2xx answer; a browser posting plainly gets the status.
                if (isHtmx) set.status = 200;
                const state: UploadState = {
                  title: cleanTitle(body.title),
                  description: cleanDescription(body.description),
                  categoryId,
                  tags: body.tags ?? "",
                  errors,
                  duplicateOf,
                };
                const form = {
                  page,
                  state,
                  maxBytes,
                  limits: FORM_LIMITS,
                  categories: await categories(deps),
                };
                return isHtmx ? <UploadForm {...form} /> : <UploadPage {...form} />;
              },
            },
          });
        }
        const location = `${page.base}/torrents/${result.id}?uploaded=${result.changed ? "changed" : "1"}`;
        if (isHtmx) {
          set.headers["hx-redirect"] = location;
          return "";
        }
        return new Response(null, { status: 303, headers: { location } });
      },
      {
        role: "upload",
        body: t.Object({
          file: t.Optional(t.Any()),
          title: t.Optional(t.String({ maxLength: TEXT_LIMITS.titleMax })),
          description: t.Optional(t.String({ maxLength: TEXT_LIMITS.descriptionMax })),
          category: t.Optional(t.String({ maxLength: 20 })),
          tags: t.Optional(t.String({ maxLength: TAG_LIMITS.fieldMax })),
          ...CsrfField,
        }),
      },
    )
    .get(
      "/torrents/:id/edit",
      async ({ page, viewer, params, set }) => {
        const found = await editableTorrent(deps, viewer, params.id);
        if (!found.ok) return refusedPage(page, set, found.refusal, { notFoundTitle });
        const { torrent } = found;
        return (
          <EditTorrentPage
            page={page}
            id={torrent.id}
            title={torrent.title}
            description={torrent.description}
            descriptionPreview={preview(torrent.description)}
            categories={await categories(deps)}
            categoryId={torrent.categoryId}
            tags={torrent.tags.join(", ")}
            limits={FORM_LIMITS}
          />
        );
      },
      { member: true, params: IdParams },
    )
    .post(
      "/torrents/:id/edit",
      async ({ page, viewer, params, body, set }) => {
        // Fields a form leaves out stay as they are; a form with the category select always sends it.
        const categoryId = body.category === undefined ? undefined : categoryField(body.category);
        const result = await editTorrent(deps, viewer, params.id, {
          title: body.title,
          description: body.description,
          categoryId,
          tags: body.tags,
        });
        if (result.ok)
          return new Response(null, {
            status: 303,
            headers: { location: `${page.base}/torrents/${params.id}?saved=1` },
          });
        const description = cleanDescription(body.description);
        return refusedPage(page, set, result.refusal, {
          notFoundTitle,
          form: {
            render: async (errors: Record<string, string>) => (
              <EditTorrentPage
                page={page}
                id={params.id}
                title={cleanTitle(body.title)}
                description={description}
                descriptionPreview={preview(description)}
                categories={await categories(deps)}
                categoryId={categoryId ?? null}
                tags={body.tags ?? ""}
                limits={FORM_LIMITS}
                errors={errors}
              />
            ),
          },
        });
      },
      {
        member: true,
        params: IdParams,
        body: t.Object({
          title: t.String({ maxLength: TEXT_LIMITS.titleMax }),
          description: t.String({ maxLength: TEXT_LIMITS.descriptionMax }),
          category: t.Optional(t.String({ maxLength: 20 })),
          tags: t.Optional(t.String({ maxLength: TAG_LIMITS.fieldMax })),
          ...CsrfField,
        }),
      },
    )
    .post(
      "/torrents/:id/delete",
      async ({ page, viewer, params, set }) => {
        const result = await removeTorrent(deps, viewer, params.id);
        if (result.ok)
          return new Response(null, { status: 303, headers: { location: `${page.base}/torrents` } });
        return refusedPage(page, set, result.refusal, { notFoundTitle });
      },
      { member: true, params: IdParams },
    );
}
