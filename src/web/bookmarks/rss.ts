import { Elysia, t } from "elysia";
import { rssUser } from "../../db/queries/tokens.ts";
import { metainfoSizes } from "../../db/queries/torrents.ts";
import { webContext } from "../context.tsx";
import type { WebDeps } from "../deps.ts";
import { linksFor } from "../links.ts";
import { FEED_ITEMS, feed, itemLines, unknownFeed, xmlEscape } from "../torrents/rss.ts";
import { bookmarkPage } from "./service.ts";

/**
 * Each member's bookmarks as an RSS 2.0 feed, `GET /rss/<rsskey>/bookmarks`, the latest bookmarked
 * first, opened by the member's RSS key like the feed of new torrents; its enclosures are the same
 * personalised downloads, `GET /rss/<rsskey>/download/<id>`.
 */
export function bookmarkFeed(deps: WebDeps) {
  return new Elysia({ name: "bookmark-feed" }).use(webContext(deps)).get(
    "/rss/:key/bookmarks",
    async ({ params, request, base, set }) => {
      const user = await rssUser(deps.sql, params.key);
      if (!user) return unknownFeed(set);
      const result = await bookmarkPage(deps, user, 1, FEED_ITEMS);
      const items = result.ok ? result.rows : [];
      const sizes = await metainfoSizes(
        deps.sql,
        items.map((row) => row.id),
      );
      const links = linksFor(deps.config, request, base);
      const site = links.site;
      const title = `${deps.config.siteName}: ${user.name}'s bookmarks`;
      const lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">',
        "<channel>",
        `<title>${xmlEscape(title)}</title>`,
        `<link>${xmlEscape(`${site}/bookmarks`)}</link>`,
        `<description>${xmlEscape(`The torrents ${user.name} bookmarked on ${deps.config.siteName}, the latest first.`)}</description>`,
        `<atom:link href="${xmlEscape(`${site}/rss/${params.key}/bookmarks`)}" rel="self" type="application/rss+xml"/>`,
        "<ttl>15</ttl>",
      ];
      lines.push(
        ...itemLines(items, { site, key: params.key, sizes, announce: links.announceUrls(user.passkey) }),
      );
      return feed(lines);
    },
    { params: t.Object({ key: t.String({ maxLength: 64 }) }) },
  );
}
