import { Elysia, t } from "elysia";
import { formatSize } from "../../../views/layout/format.ts";
import { rssUser } from "../../db/queries/tokens.ts";
import { listTorrents, metainfoSizes } from "../../db/queries/torrents.ts";
import { webContext } from "../context.tsx";
import type { WebDeps } from "../deps.ts";
import { linksFor } from "../links.ts";
import { IdParams } from "../schemas.ts";
import { personalisedDownload } from "./service.ts";

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

/** Length in bytes of the personalised .torrent: the stored one plus its `announce` entry. */
function downloadLength(metainfoBytes: number, announce: string): number {
  const url = Buffer.byteLength(announce);
  return metainfoBytes + "8:announce".length + `${url}:`.length + url;
}

/**
 * Each member's RSS 2.0 feed of new torrents, `GET /rss/<rsskey>?q=<search>`, opened by the
 * member's RSS key (shown on the account page, rotatable; never the passkey), and the enclosures'
 * downloads, `GET /rss/<rsskey>/download/<id>`: the member's personalised .torrent, no session
 * needed, so feed readers and BitTorrent clients can fetch it.
 */
export function rssRoutes(deps: WebDeps) {
  const unknownFeed = (set: { status?: number | string; headers: Record<string, string | number> }) => {
    set.status = 404;
    set.headers["content-type"] = "text/plain; charset=utf-8";
    return "There is no feed at this address: copy its address again from your account page.";
  };
  return new Elysia({ name: "rss" })
    .use(webContext(deps))
    .get(
      "/rss/:key",
      async ({ params, query, request, base, set }) => {
        const user = await rssUser(deps.sql, params.key);
        if (!user) return unknownFeed(set);
        const q = (query.q ?? "").trim();
        const rows = await listTorrents(deps.sql, {
          search: q || undefined,
          sort: "date",
          order: "desc",
          limit: FEED_ITEMS,
          offset: 0,
        });
        const items = rows.slice(0, FEED_ITEMS);
        const sizes = await metainfoSizes(
          deps.sql,
          items.map((row) => row.id),
        );
        const links = linksFor(deps.config, request, base);
        const site = links.site;
        const search = q ? `?q=${encodeURIComponent(q)}` : "";
        const announce = links.announce(user.passkey);
        const title = q
          ? `${deps.config.siteName}: new torrents matching “${q}”`
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
        if (items[0]) lines.push(`<lastBuildDate>${items[0].created_at.toUTCString()}</lastBuildDate>`);
        for (const row of items) {
          const page = `${site}/torrents/${row.id}`;
          const download = `${site}/rss/${params.key}/download/${row.id}`;
          const length = downloadLength(sizes.get(row.id) ?? 0, announce);
          const about = `${formatSize(row.size)}${row.creator ? `, uploaded by ${row.creator}` : ""}`;
          lines.push(
            "<item>",
            `<title>${xmlEscape(row.title)}</title>`,
            `<link>${xmlEscape(page)}</link>`,
            `<guid isPermaLink="true">${xmlEscape(page)}</guid>`,
            `<pubDate>${row.created_at.toUTCString()}</pubDate>`,
            `<description>${xmlEscape(about)}</description>`,
            `<enclosure url="${xmlEscape(download)}" length="${length}" type="application/x-bittorrent"/>`,
            "</item>",
          );
        }
        lines.push("</channel>", "</rss>", "");
        return new Response(lines.join("\n"), {
          headers: {
            "content-type": "application/rss+xml; charset=utf-8",
            "cache-control": "private, no-cache",
          },
        });
      },
      {
        params: t.Object({ key: t.String({ maxLength: 64 }) }),
        query: t.Object({ q: t.Optional(t.String({ maxLength: 200 })) }),
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
