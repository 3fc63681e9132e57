import { Elysia } from "elysia";
import { type CategoryRow, listCategories } from "../../db/queries/categories.ts";
import { listWindows } from "../../db/queries/freeleech.ts";
import { looksLikeToken, rssKey, tokenUser } from "../../db/queries/tokens.ts";
import { infoHashes, metainfoSizes, type TorrentRow } from "../../db/queries/torrents.ts";
import { log } from "../../log.ts";
import type { ApiLimiters } from "../api/context.ts";
import { webContext } from "../context.tsx";
import type { WebDeps } from "../deps.ts";
import { linksFor } from "../links.ts";
import { combineFactors } from "../transfers/service.ts";
import { downloadLength, xmlEscape } from "./rss.ts";
import { torrentPage } from "./service.ts";

/** Where the Torznab API answers (Prowlarr's "API Path"). */
export const TORZNAB_PATH = "/torznab/api";
/** Items per answer unless `limit` says fewer, and the most one answer holds. */
export const TORZNAB_LIMIT = 100;
/** The largest `offset` accepted. */
export const TORZNAB_MAX_OFFSET = 100_000;
/**
 * With `season` or `ep`, this many of the newest torrents matching `q` (and `cat`) are read and
 * matched against the episode's spellings in their titles; the page is taken from those matches.
 */
export const EPISODE_SCAN = 1000;
/** Site categories appear to clients as Torznab's custom categories, 100000 + their id. */
export const CUSTOM_CATEGORY_BASE = 100_000;

/** The Newznab top-level categories the site maps to, by id. */
export const NEWZNAB_CATEGORIES: Readonly<Record<number, string>> = {
  1000: "Console",
  2000: "Movies",
  3000: "Audio",
  4000: "PC",
  5000: "TV",
  7000: "Books",
  8000: "Other",
};

/**
 * Newznab's standard subcategories, listed in caps under their parent so that the defaults of
 * Sonarr (5030, 5040) and Radarr (2000, 2040 ...) are recognised. The site does not tell them
 * apart: asking for a subcategory finds everything in its parent.
 */
const NEWZNAB_SUBCATEGORIES: Readonly<Record<number, readonly [number, string][]>> = {
  1000: [
    [1010, "Console/NDS"],
    [1020, "Console/PSP"],
    [1030, "Console/Wii"],
    [1040, "Console/XBox"],
    [1050, "Console/XBox 360"],
    [1080, "Console/PS3"],
    [1090, "Console/Other"],
  ],
  2000: [
    [2010, "Movies/Foreign"],
    [2020, "Movies/Other"],
    [2030, "Movies/SD"],
    [2040, "Movies/HD"],
    [2045, "Movies/UHD"],
    [2050, "Movies/BluRay"],
    [2060, "Movies/3D"],
  ],
  3000: [
    [3010, "Audio/MP3"],
    [3020, "Audio/Video"],
    [3030, "Audio/Audiobook"],
    [3040, "Audio/Lossless"],
    [3050, "Audio/Other"],
  ],
  4000: [
    [4010, "PC/0day"],
    [4020, "PC/ISO"],
    [4030, "PC/Mac"],
    [4040, "PC/Mobile-Other"],
    [4050, "PC/Games"],
    [4060, "PC/Mobile-iOS"],
    [4070, "PC/Mobile-Android"],
  ],
  5000: [
    [5010, "TV/WEB-DL"],
    [5020, "TV/Foreign"],
    [5030, "TV/SD"],
    [5040, "TV/HD"],
    [5045, "TV/UHD"],
    [5050, "TV/Other"],
    [5060, "TV/Sport"],
    [5070, "TV/Anime"],
    [5080, "TV/Documentary"],
  ],
  7000: [
    [7010, "Books/Mags"],
    [7020, "Books/EBook"],
    [7030, "Books/Comics"],
    [7040, "Books/Technical"],
    [7050, "Books/Other"],
  ],
  8000: [
    [8010, "Other/Misc"],
    [8020, "Other/Hashed"],
  ],
};

/** The Newznab category of each category icon; any other icon (and no category) is Other (8000). */
const BY_ICON: Readonly<Record<string, number>> = {
  film: 2000,
  tv: 5000,
  music: 3000,
  microphone: 3000,
  game: 1000,
  software: 4000,
  terminal: 4000,
  disc: 4000,
  book: 7000,
  education: 7000,
};

/** The Newznab category a site category maps to (by its icon; Other when none fits). */
export function newznabCategory(icon: string | null): number {
  return (icon !== null && BY_ICON[icon]) || 8000;
}

/** Torznab's error codes (Newznab's, as published), with the HTTP status each is answered with. */
const ERRORS = {
  credentials: { code: 100, status: 401, description: "Incorrect user credentials" },
  missing: { code: 200, status: 400, description: "Missing parameter" },
  incorrect: { code: 201, status: 400, description: "Incorrect parameter" },
  noFunction: { code: 202, status: 400, description: "No such function" },
  limit: { code: 500, status: 429, description: "Request limit reached" },
  unknown: { code: 900, status: 500, description: "Unknown error" },
} as const;

class TorznabError extends Error {
  constructor(
    readonly kind: keyof typeof ERRORS,
    readonly detail: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
  }
}

function xmlResponse(body: string, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(body, {
    status,
    headers: {
      "content-type": "application/xml; charset=utf-8",
      "cache-control": "private, no-store",
      ...headers,
    },
  });
}

function errorResponse(error: TorznabError): Response {
  const { code, status, description } = ERRORS[error.kind];
  // Prowlarr and Sonarr recognise the limit by its description alone: it stays exactly the spec's.
  const text = error.kind === "limit" ? description : `${description}: ${error.detail}`;
  return xmlResponse(
    `<?xml version="1.0" encoding="UTF-8"?>\n<error code="${code}" description="${xmlEscape(text)}"/>\n`,
    status,
    error.headers,
  );
}

/** A whole number from a query parameter, or the default when absent; refused (201) otherwise. */
function whole(
  query: Record<string, string | undefined>,
  name: string,
  fallback: number,
  max: number,
): number {
  const text = query[name];
  if (text === undefined || text === "") return fallback;
  if (!/^[0-9]{1,9}$/.test(text))
    throw new TorznabError("incorrect", `${name} must be a whole number from 0 to ${max}.`);
  const value = Number(text);
  if (value > max) throw new TorznabError("incorrect", `${name} must be at most ${max}.`);
  return value;
}

/**
 * The site categories a `cat` list asks for: a Newznab id (a top-level one or any of its
 * subcategories, 2040 counting as 2000) takes every category mapped to it, a custom id
 * (100000 + id) that one category. Undefined: no filter (no `cat`, or every category asked for).
 */
export function categoriesFor(
  text: string | undefined,
  categories: readonly CategoryRow[],
): number[] | undefined {
  if (text === undefined || text.trim() === "") return undefined;
  const parts = text.split(",").map((part) => part.trim());
  if (parts.length > 50 || !parts.every((part) => /^[0-9]{1,9}$/.test(part)))
    throw new TorznabError("incorrect", "cat must be category ids separated by commas, e.g. 2000,5000.");
  const chosen = new Set<number>();
  let anyOther = false;
  for (const id of parts.map(Number)) {
    if (id >= CUSTOM_CATEGORY_BASE) {
      const category = categories.find((c) => c.id === id - CUSTOM_CATEGORY_BASE);
      if (category) chosen.add(category.id);
      continue;
    }
    const parent = Math.floor(id / 1000) * 1000;
    if (parent === 8000) anyOther = true;
    for (const category of categories) if (newznabCategory(category.icon) === parent) chosen.add(category.id);
  }
  // Other (8000) includes torrents without a category, which only the unfiltered list holds.
  if (anyOther && chosen.size === categories.length) return undefined;
  return [...chosen];
}

/** Spellings in titles of a season (and an episode): S01E02, S1E2, 1x02, "Season 1"; daily shows by date. */
export function episodeMatcher(
  season: string | undefined,
  ep: string | undefined,
): ((title: string) => boolean) | null {
  const s = season?.trim() || undefined;
  const e = ep?.trim() || undefined;
  if (s === undefined && e === undefined) return null;
  if (s === undefined) throw new TorznabError("missing", "ep needs a season.");
  if (!/^[0-9]{1,4}$/.test(s))
    throw new TorznabError("incorrect", "season must be a number, e.g. 1 (or a year).");
  const n = Number(s);
  if (e !== undefined) {
    const daily = /^([0-9]{1,2})\/([0-9]{1,2})$/.exec(e);
    if (daily) {
      const mm = daily[1]!.padStart(2, "0");
      const dd = daily[2]!.padStart(2, "0");
      const date = new RegExp(`(?<![0-9])${s}[ ._-]${mm}[ ._-]${dd}(?![0-9])`);
      return (title) => date.test(title);
    }
    if (!/^[0-9]{1,4}$/.test(e))
      throw new TorznabError("incorrect", "ep must be a number, e.g. 2 (or a month/day for daily shows).");
    const m = Number(e);
    const spelled = new RegExp(
      `(?<![a-z0-9])s0*${n}[ ._-]?e0*${m}(?![0-9])|(?<![0-9])0*${n}x0*${m}(?![0-9])|season[ ._-]*0*${n}[ ._-]*episode[ ._-]*0*${m}(?![0-9])`,
      "i",
    );
    return (title) => spelled.test(title);
  }
  const spelled = new RegExp(
    `(?<![a-z0-9])s0*${n}(?![0-9])|(?<![0-9])0*${n}x[0-9]|season[ ._-]*0*${n}(?![0-9])`,
    "i",
  );
  return (title) => spelled.test(title);
}

/** The search modes and what each supports, as caps lists them. */
const MODES = [
  ["search", "q"],
  ["tv-search", "q,season,ep"],
  ["movie-search", "q"],
  // Newznab and Prowlarr say audio-search; Torznab 1.3 says music-search: both, as Jackett does.
  ["audio-search", "q"],
  ["music-search", "q"],
  ["book-search", "q"],
] as const;

function capsXml(deps: WebDeps, site: string, categories: readonly CategoryRow[]): string {
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    "<caps>",
    `<server version="1.0" title="${xmlEscape(deps.config.siteName)}" url="${xmlEscape(`${site}/`)}"/>`,
    `<limits max="${TORZNAB_LIMIT}" default="${TORZNAB_LIMIT}"/>`,
    "<searching>",
    ...MODES.map(([mode, params]) => `<${mode} available="yes" supportedParams="${params}"/>`),
    "</searching>",
    "<categories>",
  ];
  for (const [id, name] of Object.entries(NEWZNAB_CATEGORIES)) {
    lines.push(`<category id="${id}" name="${name}">`);
    for (const [sub, subName] of NEWZNAB_SUBCATEGORIES[Number(id)] ?? [])
      lines.push(`<subcat id="${sub}" name="${subName}"/>`);
    lines.push("</category>");
  }
  // The site's own categories, as custom categories a client may ask for one by one.
  for (const category of categories)
    lines.push(`<category id="${CUSTOM_CATEGORY_BASE + category.id}" name="${xmlEscape(category.name)}"/>`);
  lines.push("</categories>", "</caps>", "");
  return lines.join("\n");
}

/**
 * The Torznab API for Prowlarr, Jackett, Sonarr, Radarr and other indexer clients,
 * `GET /torznab/api?t=caps|search|tvsearch|movie|music|book&apikey=<API token>`: the torrent
 * list as RSS 2.0 with Torznab's attributes. The key is one of the member's personal API tokens
 * (made on the account page); each call counts against that token's API rate limit. Every item's
 * download link is the member's RSS download address (their RSS key, never the token or the
 * passkey, in it), so a BitTorrent client fetches their personalised .torrent without a session.
 */
export function torznabRoutes(deps: WebDeps, limiters: ApiLimiters) {
  function limit(key: string, limiter: ApiLimiters["credential"]) {
    const decision = limiter.hit(key);
    if (!decision.allowed)
      throw new TorznabError(
        "limit",
        `at most ${decision.limit} requests a minute; try again in ${decision.resetSeconds} s.`,
        { "retry-after": String(decision.resetSeconds) },
      );
  }

  async function answer(
    query: Record<string, string | undefined>,
    request: Request,
    base: string,
    ip: string,
  ): Promise<Response> {
    const apikey = query.apikey ?? "";
    const user = looksLikeToken(apikey) ? await tokenUser(deps.sql, apikey) : null;
    if (!user) {
      limit(`ip:${ip}`, limiters.address);
      throw new TorznabError(
        "credentials",
        apikey
          ? "this API key is not valid (revoked, or its account is disabled)."
          : "send apikey=<a personal API token from your account page>.",
      );
    }
    limit(`token:${user.tokenId}`, limiters.credential);
    const links = linksFor(deps.config, request, base);
    const fn = query.t;
    if (fn === undefined || fn === "")
      throw new TorznabError("missing", "t (caps, search, tvsearch or movie).");
    const categories = await listCategories(deps.sql);
    if (fn === "caps") return xmlResponse(capsXml(deps, links.site, categories));
    if (!["search", "tvsearch", "tv-search", "movie", "movie-search", "music", "book"].includes(fn))
      throw new TorznabError(
        "noFunction",
        `t=${fn.slice(0, 40)} is not supported; use caps, search, tvsearch, movie, music or book.`,
      );
    const limitN = Math.min(whole(query, "limit", TORZNAB_LIMIT, 1_000_000), TORZNAB_LIMIT) || TORZNAB_LIMIT;
    const offset = whole(query, "offset", 0, TORZNAB_MAX_OFFSET);
    const chosen = categoriesFor(query.cat, categories);
    const q = (query.q ?? "").trim();
    if (q.length > 200) throw new TorznabError("incorrect", "q is longer than 200 characters.");
    const episode = fn === "tvsearch" || fn === "tv-search" ? episodeMatcher(query.season, query.ep) : null;
    let rows: TorrentRow[] = [];
    if (chosen === undefined || chosen.length > 0) {
      const list = (page: number, size: number) =>
        torrentPage(deps, { q, categories: chosen, order: "desc", page, limit: size });
      if (episode) {
        const scanned = (await list(1, EPISODE_SCAN)).rows;
        rows = scanned.filter((row) => episode(row.title)).slice(offset, offset + limitN);
      } else if (offset % limitN === 0) {
        rows = (await list(offset / limitN + 1, limitN)).rows;
      } else {
        // An offset between pages: the page holding it and the next, cut to size.
        const first = Math.floor(offset / limitN) + 1;
        const [a, b] = [await list(first, limitN), await list(first + 1, limitN)];
        rows = [...a.rows, ...b.rows].slice(offset % limitN, (offset % limitN) + limitN);
      }
    }
    return xmlResponse(await feedXml(user, links, rows, categories, offset, q));
  }

  async function feedXml(
    user: { id: number; name: string; passkey: string },
    links: ReturnType<typeof linksFor>,
    rows: readonly TorrentRow[],
    categories: readonly CategoryRow[],
    offset: number,
    q: string,
  ): Promise<string> {
    const ids = rows.map((row) => row.id);
    const [sizes, hashes, windows, key] = await Promise.all([
      metainfoSizes(deps.sql, ids),
      infoHashes(deps.sql, ids),
      listWindows(deps.sql),
      rssKey(deps.sql, user.id),
    ]);
    const { hitAndRun } = deps.config;
    const seedSeconds = hitAndRun.seedHours * 3600;
    const minimumRatio = hitAndRun.seedHours > 0 ? hitAndRun.ratioPercent / 100 : 0;
    const announce = links.announceUrls(user.passkey);
    const site = links.site;
    const now = new Date();
    const icons = new Map(categories.map((c) => [c.id, c.icon]));
    const lines = [
      '<?xml version="1.0" encoding="UTF-8"?>',
      '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:torznab="http://torznab.com/schemas/2015/feed">',
      "<channel>",
      `<title>${xmlEscape(deps.config.siteName)}</title>`,
      `<link>${xmlEscape(`${site}/`)}</link>`,
      `<description>${xmlEscape(q ? `Torrents matching “${q}” on ${deps.config.siteName}` : `Torrents on ${deps.config.siteName}`)}</description>`,
      "<language>en-us</language>",
      `<torznab:response offset="${offset}"/>`,
    ];
    for (const row of rows) {
      const page = `${site}/torrents/${row.id}`;
      const download = `${site}/rss/${key}/download/${row.id}`;
      const factors = combineFactors(row, windows, now);
      const parent = newznabCategory(row.categoryId === null ? null : (icons.get(row.categoryId) ?? null));
      const attr = (name: string, value: string | number) =>
        `<torznab:attr name="${name}" value="${xmlEscape(String(value))}"/>`;
      lines.push(
        "<item>",
        `<title>${xmlEscape(row.title)}</title>`,
        `<guid isPermaLink="true">${xmlEscape(page)}</guid>`,
        `<link>${xmlEscape(download)}</link>`,
        `<comments>${xmlEscape(page)}</comments>`,
        `<pubDate>${row.createdAt.toUTCString()}</pubDate>`,
        `<size>${row.size}</size>`,
        ...(row.category ? [`<category>${xmlEscape(row.category)}</category>`] : []),
        `<description>${xmlEscape(row.title)}</description>`,
        `<enclosure url="${xmlEscape(download)}" length="${downloadLength(sizes.get(row.id) ?? 0, announce)}" type="application/x-bittorrent"/>`,
        attr("category", parent),
        ...(row.categoryId !== null ? [attr("category", CUSTOM_CATEGORY_BASE + row.categoryId)] : []),
        attr("size", row.size),
        attr("seeders", row.seeders),
        attr("leechers", row.leechers),
        attr("peers", row.seeders + row.leechers),
        attr("grabs", row.snatches),
        attr("infohash", hashes.get(row.id) ?? ""),
        attr("downloadvolumefactor", factors.downloadFactor),
        attr("uploadvolumefactor", factors.uploadFactor),
        attr("minimumratio", minimumRatio),
        attr("minimumseedtime", seedSeconds),
        ...(row.tags.length ? [attr("tag", row.tags.join(","))] : []),
        "</item>",
      );
    }
    lines.push("</channel>", "</rss>", "");
    return lines.join("\n");
  }

  return new Elysia({ name: "torznab" })
    .use(webContext(deps))
    .get(TORZNAB_PATH, async ({ query, request, base, ip }) => {
      try {
        // Repeated parameters count once (the first); every value is text.
        const flat: Record<string, string | undefined> = {};
        for (const [name, value] of Object.entries(query as Record<string, unknown>))
          flat[name] = Array.isArray(value)
            ? String(value[0] ?? "")
            : value === undefined
              ? undefined
              : String(value);
        return await answer(flat, request, base, ip);
      } catch (error) {
        if (error instanceof TorznabError) return errorResponse(error);
        log.error("torznab request failed", { error: (error as Error)?.stack ?? String(error) });
        return errorResponse(new TorznabError("unknown", "the site could not answer; try again later."));
      }
    });
}
