import { Elysia, t } from "elysia";
import { popularTags, tagsStartingWith } from "../../db/queries/tags.ts";
import { SORTS, type Sort } from "../../db/queries/torrents.ts";
import type { Actor } from "../access.ts";
import { API_PREFIX, type ApiLimiters, apiContext } from "../api/context.ts";
import { ApiError, accepted, fail, refusalError } from "../api/errors.ts";
import { CountsBody, errors, fullBody, summaryBody, TorrentFull, TorrentPage } from "../api/schemas.ts";
import type { WebDeps } from "../deps.ts";
import { linksFor } from "../links.ts";
import { Histories, historyBody } from "../plots/api.ts";
import { swarmHistory } from "../plots/service.ts";
import { NO_TORRENT } from "../refusal.ts";
import { IdParams, idOf, wholeNumber } from "../schemas.ts";
import {
  countsOf,
  descriptionHtml,
  editTorrent,
  findTorrent,
  personalisedDownload,
  removeTorrent,
  TEXT_LIMITS,
  type TorrentChange,
  torrentPage,
  torrentRights,
} from "./service.ts";
import { normaliseTag, TAG_LIMITS, tagFilter } from "./tags.ts";
import { acceptUpload, categoryField, fileTooLarge } from "./upload.ts";

/** Rows per page unless `limit` says otherwise, and the most one page may hold. */
export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 100;
/** Most torrents one counts call may ask about. */
export const MAX_COUNT_IDS = 200;
/** Most tags one call of the tag list returns. */
export const MAX_TAGS = 100;
/** Multipart overhead allowed above the largest .torrent before a body is refused unread. */
const MULTIPART_SLACK = 64 * 1024;

/** The torrent of a change, or the API's error for one that was not made. */
function changed(result: TorrentChange) {
  return accepted(result, { rename: API_FIELDS }).torrent;
}

/** Service field names the API spells otherwise. */
const API_FIELDS = { category: "category_id" };

/** Torrents: list and search, detail, upload, edit, delete, download, live counts. */
export function torrentsApi(deps: WebDeps, limiters: ApiLimiters) {
  async function existing(id: number, viewer?: Actor) {
    const torrent = await findTorrent(deps, id, viewer);
    if (!torrent) throw fail.notFound(NO_TORRENT);
    return torrent;
  }
  const maxBytes = deps.config.webapi.maxTorrentBytes;
  const tooLarge = () =>
    new ApiError("payload_too_large", fileTooLarge(maxBytes), { file: fileTooLarge(maxBytes) });

  return new Elysia({ name: "api-torrents" })
    .use(apiContext(deps, limiters))
    .get(
      "/torrents",
      async ({ caller, query }) => {
        const page = query.page ?? 1;
        const limit = query.limit ?? DEFAULT_LIMIT;
        const tag = query.tag === undefined ? undefined : tagFilter(query.tag);
        if (tag === null) return { items: [], page, limit, has_next: false };
        const { rows, hasNext } = await torrentPage(deps, {
          q: (query.q ?? "").trim(),
          category: query.category,
          tag,
          sort: query.sort as Sort | undefined,
          order: query.order === "asc" ? "asc" : "desc",
          page,
          limit,
          viewer: caller,
        });
        return { items: rows.map(summaryBody), page, limit, has_next: hasNext };
      },
      {
        member: true,
        query: t.Object({
          q: t.Optional(
            t.String({
              maxLength: 200,
              description:
                "Search words in titles; each must begin a word of the title ('deb book' finds 'Debian Bookworm')",
            }),
          ),
          // Plain strings checked by pattern: Elysia fills an absent optional enum with its first value.
          sort: t.Optional(
            t.String({
              pattern: `^(${SORTS.join("|")})$`,
              description: `One of: ${SORTS.join(", ")}. Default: date (newest first), with or without a search`,
            }),
          ),
          order: t.Optional(t.String({ pattern: "^(asc|desc)$", description: "asc or desc (default)" })),
          category: t.Optional(idOf("category", "Only torrents in this category (its id)")),
          tag: t.Optional(
            t.String({
              maxLength: 100,
              description: "Only torrents with this tag (normalised as tags are: 'Live CD' is live.cd)",
            }),
          ),
          page: t.Optional(wholeNumber("page", 1, 100000, "From 1 (default)")),
          limit: t.Optional(
            wholeNumber(
              "limit",
              1,
              MAX_LIMIT,
              `Rows per page, at most ${MAX_LIMIT} (default ${DEFAULT_LIMIT})`,
            ),
          ),
        }),
        response: { 200: TorrentPage, ...errors(401, 422) },
        detail: {
          tags: ["Torrents"],
          summary: "List and search torrents",
          description:
            "Newest first unless sorted; with live seeder, leecher and snatch counts. Search, category and tag combine.",
        },
      },
    )
    .post(
      "/torrents",
      async ({ caller, body, set, base }) => {
        const result = await acceptUpload(deps, {
          file: body.file,
          title: body.title,
          description: body.description,
          categoryId: body.category_id === undefined ? null : categoryField(body.category_id),
          tags: body.tags,
          creatorId: caller.id,
          uploader: caller,
        });
        if (!result.ok) {
          if (result.refusal.code !== "conflict") throw refusalError(result.refusal, { rename: API_FIELDS });
          const duplicate = "duplicateOf" in result ? result.duplicateOf : null;
          const message =
            duplicate !== null
              ? `This torrent is already on the site as torrent ${duplicate}.`
              : result.refusal.message;
          throw refusalError(
            { code: "conflict", message, fields: { file: message } },
            { headers: duplicate !== null ? { location: `${base}${API_PREFIX}/torrents/${duplicate}` } : {} },
          );
        }
        set.status = 201;
        set.headers.location = `${base}${API_PREFIX}/torrents/${result.id}`;
        const torrent = await existing(result.id);
        return {
          ...fullBody(torrent, torrentRights(caller, torrent), await descriptionHtml(deps, torrent)),
          info_hash_changed: result.changed,
        };
      },
      {
        role: "upload",
        // Refuses a body far larger than any accepted .torrent before reading it.
        parse: [
          ({ request }) => {
            const length = Number(request.headers.get("content-length") ?? "0");
            if (length > maxBytes + MULTIPART_SLACK) throw tooLarge();
          },
          "multipart/form-data",
        ],
        body: t.Object(
          {
            file: t.File({ description: "The .torrent file" }),
            title: t.Optional(
              t.String({ maxLength: TEXT_LIMITS.titleMax, description: "Defaults to the torrent's name" }),
            ),
            description: t.Optional(
              t.String({ maxLength: TEXT_LIMITS.descriptionMax, description: "Markdown" }),
            ),
            category_id: t.Optional(
              t.String({
                maxLength: 20,
                description: "The category's id (GET /categories); needed once the site has categories",
              }),
            ),
            tags: t.Optional(
              t.String({
                maxLength: TAG_LIMITS.fieldMax,
                description: `Comma-separated, at most ${TAG_LIMITS.count}; normalised (lowercase, spaces to dots)`,
              }),
            ),
          },
          {
            examples: [
              {
                file: "(the bytes of the .torrent file)",
                title: "Debian 13.2 netinst (amd64)",
                description: "The official **netinst** image.",
                category_id: "3",
                tags: "linux, debian",
              },
            ],
          },
        ),
        response: {
          201: t.Object(
            {
              ...TorrentFull.properties,
              info_hash_changed: t.Boolean({
                description:
                  "True when the site's rewrite (private, source tag) changed the info hash: download the site's copy before seeding",
              }),
            },
            { description: "The stored torrent" },
          ),
          ...errors(401, 403, 409, 413, 422),
        },
        detail: {
          tags: ["Torrents"],
          summary: "Upload a torrent",
          description:
            "Needs the upload role. multipart/form-data with the .torrent as `file`, and `category_id` once the site has categories. The file is checked, made private with the site's source tag and stripped of other trackers; a torrent already on the site is refused (409, with its address in Location).",
        },
      },
    )
    .get(
      "/torrents/:id",
      async ({ caller, params }) => {
        const torrent = await existing(params.id, caller);
        return fullBody(torrent, torrentRights(caller, torrent), await descriptionHtml(deps, torrent));
      },
      {
        member: true,
        params: IdParams,
        response: { 200: TorrentFull, ...errors(401, 404, 422) },
        detail: { tags: ["Torrents"], summary: "A torrent", description: "With its files and info hashes." },
      },
    )
    .patch(
      "/torrents/:id",
      async ({ caller, params, body }) => {
        const updated = changed(
          await editTorrent(deps, caller, params.id, {
            title: body.title,
            description: body.description,
            categoryId: body.category_id,
            tags: body.tags,
          }),
        );
        return fullBody(updated, torrentRights(caller, updated), await descriptionHtml(deps, updated));
      },
      {
        member: true,
        params: IdParams,
        body: t.Object(
          {
            title: t.Optional(t.String({ maxLength: TEXT_LIMITS.titleMax, description: "The new title" })),
            description: t.Optional(
              t.String({ maxLength: TEXT_LIMITS.descriptionMax, description: "Markdown" }),
            ),
            category_id: t.Optional(
              t.Union([t.Integer({ minimum: 1 }), t.Null()], {
                description: "The category's id; null only while the site has no categories",
              }),
            ),
            tags: t.Optional(
              t.Array(t.String({ maxLength: 100 }), {
                maxItems: 50,
                description: `Replaces every tag; at most ${TAG_LIMITS.count}, normalised as on upload`,
              }),
            ),
          },
          { examples: [{ title: "Debian 13.2 netinst (amd64, fixed)", tags: ["linux", "debian"] }] },
        ),
        response: { 200: TorrentFull, ...errors(401, 403, 404, 422) },
        detail: {
          tags: ["Torrents"],
          summary: "Edit a torrent",
          description:
            "Title, description, category and tags (what is left out stays); the uploader and moderators.",
        },
      },
    )
    .delete(
      "/torrents/:id",
      async ({ caller, params, set }) => {
        changed(await removeTorrent(deps, caller, params.id));
        set.status = 204;
        return null;
      },
      {
        role: "moderate",
        params: IdParams,
        response: { 204: t.Null({ description: "Deleted" }), ...errors(401, 403, 404, 422) },
        detail: {
          tags: ["Torrents"],
          summary: "Delete a torrent",
          description: "Moderators only. Its statistics go with it and the tracker forgets it at once.",
        },
      },
    )
    .get(
      "/torrents/:id/download",
      async ({ caller, params, request, base }) => {
        const response = await personalisedDownload(
          deps,
          params.id,
          caller.passkey,
          linksFor(deps.config, request, base),
          caller,
        );
        if (!response) throw fail.notFound(NO_TORRENT);
        return response;
      },
      {
        member: true,
        params: IdParams,
        response: {
          200: t.Any({ description: "The .torrent (application/x-bittorrent) with your announce URL" }),
          ...errors(401, 404, 422),
        },
        detail: {
          tags: ["Torrents"],
          summary: "Download a torrent",
          description: "The .torrent with the caller's own announce URL (passkey) in it.",
        },
      },
    )
    .get(
      "/torrents/:id/counts",
      async ({ params }) => {
        const [counts] = await countsOf(deps, [params.id]);
        if (!counts) throw fail.notFound(NO_TORRENT);
        return counts;
      },
      {
        member: true,
        params: IdParams,
        response: { 200: CountsBody, ...errors(401, 404, 422) },
        detail: {
          tags: ["Torrents"],
          summary: "A torrent's live counts",
          description: "Seeders, leechers and snatches as the tracker last reported them.",
        },
      },
    )
    .get(
      "/tags",
      async ({ query }) => {
        const limit = query.limit ?? 30;
        const prefix = query.q === undefined ? "" : normaliseTag(query.q);
        return {
          tags: prefix ? await tagsStartingWith(deps.sql, prefix, limit) : await popularTags(deps.sql, limit),
        };
      },
      {
        member: true,
        query: t.Object({
          q: t.Optional(t.String({ maxLength: 100, description: "Only tags beginning with this" })),
          limit: t.Optional(wholeNumber("limit", 1, MAX_TAGS, `At most ${MAX_TAGS} (default 30)`)),
        }),
        response: {
          200: t.Object(
            {
              tags: t.Array(
                t.Object({ name: t.String(), uses: t.Number({ description: "Torrents with it" }) }),
              ),
            },
            { description: "Tags in use, the most used first" },
          ),
          ...errors(401, 422),
        },
        detail: {
          tags: ["Torrents"],
          summary: "Tags",
          description: "The most used tags, or those beginning with `q`, with how many torrents carry each.",
        },
      },
    )
    .get(
      "/counts",
      async ({ query }) => {
        const parts = query.ids.split(",").filter((part) => part !== "");
        if (parts.length > MAX_COUNT_IDS)
          throw fail.validation({ ids: `Ask for at most ${MAX_COUNT_IDS} torrents at once.` });
        if (!parts.every((part) => /^[1-9][0-9]{0,15}$/.test(part) && Number.isSafeInteger(Number(part))))
          throw fail.validation({ ids: "Send torrent numbers separated by commas, e.g. 1,2,3." });
        return { counts: await countsOf(deps, [...new Set(parts.map(Number))]) };
      },
      {
        member: true,
        query: t.Object({
          ids: t.String({
            maxLength: 4000,
            description: `Torrent numbers separated by commas, at most ${MAX_COUNT_IDS}`,
          }),
        }),
        response: {
          200: t.Object(
            { counts: t.Array(CountsBody) },
            { description: "Live counts of the torrents asked for" },
          ),
          ...errors(401, 422),
        },
        detail: {
          tags: ["Torrents"],
          summary: "Live counts of several torrents",
          description:
            "Seeders, leechers and snatches as the tracker last reported them (the stored ones before its first report); torrents that do not exist are left out.",
        },
      },
    )
    .get(
      "/torrents/:id/plot",
      async ({ caller, params }) => ({
        plots: [historyBody(await swarmHistory(deps, await existing(params.id, caller)))],
      }),
      {
        member: true,
        params: IdParams,
        response: { 200: Histories, ...errors(401, 404, 422) },
        detail: {
          tags: ["Site"],
          summary: "A torrent's seeders and leechers over time",
          description: "The last 7 days, from samples taken every 5 minutes when the counts change.",
        },
      },
    );
}
