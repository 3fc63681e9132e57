import { Elysia, t } from "elysia";
import { formatSize } from "../../../views/layout/format.ts";
import { getCategory } from "../../db/queries/categories.ts";
import { rssUser } from "../../db/queries/tokens.ts";
import { metainfoSizes, type TorrentRow } from "../../db/queries/torrents.ts";
import { webContext } from "../context.tsx";
import type { WebDeps } from "../deps.ts";
import { linksFor } from "../links.ts";
import { IdParams } from "../schemas.ts";
import { personalisedDownload, torrentPage } from "./service.ts";
import { tagFilter } from "./tags.ts";

/** Items in one feed. */
export const FEED_ITEMS = 50;

// Characters XML 1.0 does not allow at all, even escaped: C0 controls other than tab, newline and
// carriage return, lone surrogates, U+FFFE and U+FFFF.
const NOT_XML =
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

const ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
};

/** Text for XML content or a quoted attribute: markup characters escaped, forbidden ones dropped. */
export function xmlEscape(text: string): string {
  return text.replace(NOT_XML, "").replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

/**
 * Length in bytes of the personalised .torrent: the stored one plus its `announce` entry (the first
 * URL) and, with more than one URL, an `announce-list` of one tier per URL.
 */
export function downloadLength(metainfoBytes: number, announce: string | readonly string[]): number {
  const urls = typeof announce === "string" ? [announce] : announce;
  const string = (text: string) => {
    const n = Buffer.byteLength(text);
    return `${n}:`.length + n;
  };
  let length = metainfoBytes + "8:announce".length + string(urls[0]!);
  if (urls.length > 1) {
    length += "13:announce-list".length + 2;
    for (const url of urls) length += 2 + string(url);
  }
  return length;
}

/** The `<item>` elements of a feed: each torrent's page, and its download under the member's key. */
export function itemLines(
  items: readonly TorrentRow[],
  feedOf: { site: string; key: string; sizes: Map<number, number>; announce: string | readonly string[] },
): string[] {
  const { site, key, sizes, announce } = feedOf;
  const lines: string[] = [];
  for (const row of items) {
    const page = `${site}/torrents/${row.id}`;
    const download = `${site}/rss/${key}/download/${row.id}`;
    const length = downloadLength(sizes.get(row.id) ?? 0, announce);
    const about = [
      row.category,
      formatSize(row.size),
      row.creator ? `uploaded by ${row.creator}` : "",
      row.tags.length ? `tags: ${row.tags.join(", ")}` : "",
    ]
      .filter(Boolean)
      .join(", ");
    lines.push(
      "<item>",
      `<title>${xmlEscape(row.title)}</title>`,
      `<link>${xmlEscape(page)}</link>`,
      `<guid isPermaLink="true">${xmlEscape(page)}</guid>`,
      `<pubDate>${row.createdAt.toUTCString()}</pubDate>`,
      ...(row.category ? [`<category>${xmlEscape(row.category)}</category>`] : []),
      `<description>${xmlEscape(about)}</description>`,
      `<enclosure url="${xmlEscape(download)}" length="${length}" type="application/x-bittorrent"/>`,
      "</item>",
    );
  }
  return lines;
}

/** A feed's lines closed and sent, never cached by a proxy (the links carry the member's key). */
export function feed(lines: string[]): Response {
  lines.push("</channel>", "</rss>", "");
  return new Response(lines.join("\n"), {
    headers: {
      "content-type": "application/rss+xml; charset=utf-8",
      "cache-control": "private, no-cache",
    },
  });
}

/** The answer to a feed address whose key opens nothing. */
export function unknownFeed(set: { status?: number | string; headers: Record<string, string | number> }) {
  set.status = 404;
  set.headers["content-type"] = "text/plain; charset=utf-8";
  return "There is no feed at this address: copy its address again from your account page.";
}

/**
 * Each member's RSS 2.0 feed of new torrents, `GET /rss/<rsskey>?q=<search>&category=<id>&tag=<tag>`
 * (each optional, filtering as the torrent list does), opened by the
 * member's RSS key (shown on the account page, rotatable; never the passkey), and the enclosures'
 * downloads, `GET /rss/<rsskey>/download/<id>`: the member's personalised .torrent, no session
 * needed, so feed readers and BitTorrent clients can fetch it. (The bookmarks feed,
 * `GET /rss/<rsskey>/bookmarks`, is in src/web/bookmarks/rss.ts.)
 */
export function rssRoutes(deps: WebDeps) {
  return new Elysia({ name: "rss" })
    .use(webContext(deps))
    .get(
      "/rss/:key",
      async ({ params, query, request, base, set }) => {
        const user = await rssUser(deps.sql, params.key);
        if (!user) return unknownFeed(set);
        const q = (query.q ?? "").trim();
        const categoryId = query.category ? Number(query.category) : undefined;
        const category = categoryId === undefined ? null : await getCategory(deps.sql, categoryId);
        const tagText = query.tag?.trim() || undefined;
        const tag = tagText === undefined ? undefined : tagFilter(tagText);
        // The same list as the torrent page's, newest first; filters that name nothing list nothing.
        const items =
          tag === null || (categoryId !== undefined && !category)
            ? []
            : (
                await torrentPage(deps, {
                  q,
                  category: categoryId,
                  tag,
                  order: "desc",
                  page: 1,
                  limit: FEED_ITEMS,
                })
              ).rows;
        const sizes = await metainfoSizes(
          deps.sql,
          items.map((row) => row.id),
        );
        const links = linksFor(deps.config, request, base);
        const site = links.site;
        const filters = new URLSearchParams();
        if (q) filters.set("q", q);
        if (categoryId !== undefined) filters.set("category", String(categoryId));
        if (tagText) filters.set("tag", tag ?? tagText);
        const search = filters.size ? `?${filters.toString()}` : "";
        const announce = links.announceUrls(user.passkey);
        const about = [
          q ? `matching “${q}”` : "",
          category ? `in ${category.name}` : "",
          tagText ? `tagged ${tag ?? tagText}` : "",
        ].filter(Boolean);
        const title = about.length
          ? `${deps.config.siteName}: new torrents ${about.join(", ")}`
          : `${deps.config.siteName}: new torrents`;
        const lines = [
          '<?xml version="1.0" encoding="UTF-8"?>',
          '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">',
          "<channel>",
          `<title>${xmlEscape(title)}</title>`,
          `<link>${xmlEscape(`${site}/torrents${search}`)}</link>`,
          `<description>${xmlEscape(`The newest torrents on ${deps.config.siteName}, for ${user.name}.`)}</description>`,
          `<atom:link href="${xmlEscape(`${site}/rss/${params.key}${search}`)}" rel="self" type="application/rss+xml"/>`,
          "<ttl>15</ttl>",
        ];
        if (items[0]) lines.push(`<lastBuildDate>${items[0].createdAt.toUTCString()}</lastBuildDate>`);
        lines.push(...itemLines(items, { site, key: params.key, sizes, announce }));
        return feed(lines);
      },
      {
        params: t.Object({ key: t.String({ maxLength: 64 }) }),
        query: t.Object({
          q: t.Optional(t.String({ maxLength: 200 })),
          category: t.Optional(t.String({ pattern: "^[1-9][0-9]{0,14}$" })),
          tag: t.Optional(t.String({ maxLength: 100 })),
        }),
      },
    )
    .get(
      "/rss/:key/download/:id",
      async ({ params, set, request, base }) => {
        const user = await rssUser(deps.sql, params.key);
        if (!user) return unknownFeed(set);
        const response = await personalisedDownload(
          deps,
          params.id,
          user.passkey,
          linksFor(deps.config, request, base),
        );
        if (response) return response;
        set.status = 404;
        set.headers["content-type"] = "text/plain; charset=utf-8";
        return "There is no torrent with this number: it may have been deleted.";
      },
      {
        params: t.Object({ key: t.String({ maxLength: 64 }), id: IdParams.properties.id }),
      },
    );
}
