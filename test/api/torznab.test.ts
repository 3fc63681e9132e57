import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { insertCategory } from "../../src/db/queries/categories.ts";
import { createToken } from "../../src/db/queries/tokens.ts";
import { IP_HEADER } from "../../src/web/context.tsx";
import { TORZNAB_PATH } from "../../src/web/torrents/torznab.ts";
import { type ApiHarness, apiHarness, expectJson, smallTorrent, uploadForm } from "../helpers/api.ts";
import { decodeStrict } from "../helpers/bdecode.ts";

const SITE = "https://site.example";
const TRACKER = "https://tracker.example";
const TORZNAB = "http://torznab.com/schemas/2015/feed";

let api: ApiHarness;
let uploader: { id: number; token: string };
let member: { id: number; token: string };
let ids: Record<string, number>;
let categories: Record<string, number>;

type Attr = { "@_name": string; "@_value": string };
interface Item {
  title: string;
  guid: { "#text": string; "@_isPermaLink": string } | string;
  link: string;
  comments: string;
  pubDate: string;
  size: string;
  enclosure: { "@_url": string; "@_length": string; "@_type": string };
  "torznab:attr": Attr[];
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "@_",
  parseTagValue: false,
  parseAttributeValue: false,
  isArray: (name) => ["item", "torznab:attr", "category", "subcat"].includes(name),
});

/** A GET as an indexer client sends it: no cookie, the key in the query. */
async function get(path: string, ip = "192.0.2.30"): Promise<Response> {
  return api.app.handle(
    new Request(`http://site.test${path}`, {
      headers: { host: "site.test", [IP_HEADER]: ip, "user-agent": "Prowlarr/1.0" },
    }),
  );
}

/** Fetches a URL the answer handed out, without any session. */
async function follow(url: string): Promise<Response> {
  expect(url.startsWith(SITE)).toBe(true);
  return get(url.slice(SITE.length));
}

/** Parses a Torznab answer after checking it is well-formed XML. */
// biome-ignore lint/suspicious/noExplicitAny: parsed XML, checked field by field below
async function xmlOf(response: Response, status = 200): Promise<Record<string, any>> {
  const text = await response.text();
  expect({ status: response.status, text }).toMatchObject({ status });
  expect(response.headers.get("content-type")).toBe("application/xml; charset=utf-8");
  expect(XMLValidator.validate(text)).toBe(true);
  return parser.parse(text);
}

/**
 * A search answer as the Torznab spec (torznab.github.io, "Torznab specification 1.3") publishes it:
 * RSS 2.0 with the torznab namespace, one channel, items with title, guid, link, pubDate, size,
 * an application/x-bittorrent enclosure with url and length, and torznab:attr name/value pairs.
 */
async function feed(path: string): Promise<Item[]> {
  const doc = await xmlOf(await get(path));
  expect(doc.rss["@_version"]).toBe("2.0");
  expect(doc.rss["@_xmlns:torznab"]).toBe(TORZNAB);
  const channel = doc.rss.channel;
  expect(typeof channel.title).toBe("string");
  const items: Item[] = channel.item ?? [];
  for (const item of items) {
    for (const field of ["title", "guid", "link", "pubDate", "size", "enclosure"])
      expect({ field, present: item[field as keyof Item] !== undefined }).toEqual({ field, present: true });
    expect(item.pubDate).toMatch(/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
    expect(item.size).toMatch(/^[0-9]+$/);
    expect(item.enclosure["@_type"]).toBe("application/x-bittorrent");
    expect(item.enclosure["@_url"]).toBe(item.link);
    expect(item.enclosure["@_length"]).toMatch(/^[1-9][0-9]*$/);
    for (const attr of item["torznab:attr"]) {
      expect(typeof attr["@_name"]).toBe("string");
      expect(typeof attr["@_value"]).toBe("string");
    }
  }
  return items;
}

function attrs(item: Item): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const a of item["torznab:attr"]) out[a["@_name"]] = [...(out[a["@_name"]] ?? []), a["@_value"]];
  return out;
}

async function upload(name: string, category: number, title = name): Promise<number> {
  const response = await api.call("/api/v1/torrents", {
    as: uploader,
    form: uploadForm(smallTorrent(name), { title, category_id: String(category) }),
  });
  return (await expectJson<{ id: number }>(response, 201)).id;
}

async function error(path: string, status: number, code: number): Promise<string> {
  const doc = await xmlOf(await get(path), status);
  expect(doc.error["@_code"]).toBe(String(code));
  return doc.error["@_description"];
}

beforeAll(async () => {
  api = await apiHarness({
    FAIRYWREN_SITE_URL: SITE,
    FAIRYWREN_TRACKER_URL: TRACKER,
    FAIRYWREN_SITE_NAME: "Wren",
    FAIRYWREN_HNR_SEED_HOURS: "72",
    FAIRYWREN_HNR_RATIO_PERCENT: "150",
  });
  await api.member("root");
  uploader = await api.memberWithToken("uploader", ["upload"]);
  member = await api.memberWithToken("member");
  categories = {};
  for (const [name, icon, position] of [
    ["Films", "film", 1],
    ["Series", "tv", 2],
    ["Linux", "terminal", 3],
    ["Photos", "image", 4],
  ] as const)
    categories[name] = (await insertCategory(api.db.sql, { name, icon, position }))!.id;
  ids = {};
  ids.movie = await upload("quokka movie", categories.Films!, "Quokka Sunrise 2026 1080p BluRay x264");
  ids.ep = await upload("show e2", categories.Series!, "Wren.Show.S01E02.1080p.WEB.h264-GRP");
  ids.ep3 = await upload("show e3", categories.Series!, "Wren Show 1x03 720p");
  ids.s2 = await upload("show s2", categories.Series!, "Wren.Show.S02E02.1080p");
  ids.pack = await upload("show pack", categories.Series!, "Wren Show Season 1 Complete");
  ids.linux = await upload("debian", categories.Linux!, "Debian Bookworm netinst");
  ids.photo = await upload("photos", categories.Photos!, "Photos of wrens");
}, 60000);
afterAll(async () => {
  await api?.close();
});

describe("Torznab", () => {
  test("caps: server, limits, searching modes and categories, as Prowlarr reads them", async () => {
    const doc = await xmlOf(await get(`/torznab/api?t=caps&apikey=${member.token}`));
    expect(doc.caps.server["@_title"]).toBe("Wren");
    expect(doc.caps.limits["@_max"]).toBe("100");
    expect(doc.caps.limits["@_default"]).toBe("100");
    const modes = doc.caps.searching;
    expect(modes.search["@_available"]).toBe("yes");
    expect(modes.search["@_supportedParams"]).toBe("q");
    expect(modes["tv-search"]["@_supportedParams"]).toBe("q,season,ep");
    expect(modes["movie-search"]["@_available"]).toBe("yes");
    // Prowlarr's NewznabCapabilitiesProvider reads audio-search and book-search.
    expect(modes["audio-search"]["@_available"]).toBe("yes");
    expect(modes["book-search"]["@_available"]).toBe("yes");
    const cats = doc.caps.categories.category.map((c: Record<string, string>) => [c["@_id"], c["@_name"]]);
    expect(cats).toEqual(
      expect.arrayContaining([
        ["2000", "Movies"],
        ["5000", "TV"],
        ["3000", "Audio"],
        ["4000", "PC"],
        ["7000", "Books"],
        ["8000", "Other"],
        [String(100000 + categories.Films!), "Films"],
        [String(100000 + categories.Series!), "Series"],
      ]),
    );
    // Sonarr's default categories (5030, 5040) and Radarr's (2000, 2040 ...) are recognised.
    const subcats = doc.caps.categories.category.flatMap((c: Record<string, unknown>) =>
      ((c.subcat as Record<string, string>[] | undefined) ?? []).map((s) => s["@_id"]),
    );
    expect(subcats).toEqual(expect.arrayContaining(["5030", "5040", "2030", "2040", "2045", "3040", "7020"]));
  });

  test("Prowlarr's RSS request (no q) lists everything, newest first, with every attribute", async () => {
    await api.db.sql`update torrents set download_factor = 0, upload_factor = 2 where id = ${ids.movie!}`;
    api.counts.apply([[ids.movie!, 7, 3, 11]]);
    const items = await feed(
      `/torznab/api?t=search&cat=&extended=1&apikey=${member.token}&offset=0&limit=100`,
    );
    expect(items.map((i) => i.title)).toEqual([
      "Photos of wrens",
      "Debian Bookworm netinst",
      "Wren Show Season 1 Complete",
      "Wren.Show.S02E02.1080p",
      "Wren Show 1x03 720p",
      "Wren.Show.S01E02.1080p.WEB.h264-GRP",
      "Quokka Sunrise 2026 1080p BluRay x264",
    ]);
    const movie = items.at(-1)!;
    const a = attrs(movie);
    const [row] = await api.db
      .sql`select encode(info_hash, 'hex') as hash, size from torrents where id = ${ids.movie!}`;
    expect(a).toEqual({
      category: ["2000", String(100000 + categories.Films!)],
      size: [String(row!.size)],
      seeders: ["7"],
      leechers: ["3"],
      peers: ["10"],
      grabs: ["11"],
      infohash: [row!.hash],
      downloadvolumefactor: ["0"],
      uploadvolumefactor: ["2"],
      minimumratio: ["1.5"],
      minimumseedtime: [String(72 * 3600)],
    });
    expect(movie.size).toBe(String(row!.size));
    expect(movie.comments).toBe(`${SITE}/torrents/${ids.movie}`);
    expect(typeof movie.guid === "string" ? movie.guid : movie.guid["#text"]).toBe(
      `${SITE}/torrents/${ids.movie}`,
    );
    expect(Math.abs(Date.parse(movie.pubDate) - Date.now())).toBeLessThan(300_000);
    expect(attrs(items[0]!).category).toEqual(["8000", String(100000 + categories.Photos!)]);
    expect(attrs(items[1]!).downloadvolumefactor).toEqual(["1"]);

    // The link works without a cookie and is the member's own .torrent; neither token nor passkey is in it.
    const [me] = await api.db.sql`select passkey from users where id = ${member.id}`;
    expect(movie.link).not.toContain(member.token);
    expect(movie.link).not.toContain(me!.passkey);
    const download = await follow(movie.link);
    expect(download.status).toBe(200);
    expect(download.headers.get("content-type")).toBe("application/x-bittorrent");
    const bytes = Buffer.from(await download.arrayBuffer());
    expect(Number(movie.enclosure["@_length"])).toBe(bytes.length);
    const torrent = decodeStrict(bytes) as Map<string, unknown>;
    expect(Buffer.from(torrent.get("announce") as Uint8Array).toString()).toBe(
      `${TRACKER}/${me!.passkey}/announce`,
    );
  });

  test("search with cat, q, limit and offset as Prowlarr and Jackett send them", async () => {
    const tv = await feed(
      `/torznab/api?t=search&cat=5000,5040&extended=1&apikey=${member.token}&offset=0&limit=100`,
    );
    expect(tv.map((i) => i.title)).toEqual([
      "Wren Show Season 1 Complete",
      "Wren.Show.S02E02.1080p",
      "Wren Show 1x03 720p",
      "Wren.Show.S01E02.1080p.WEB.h264-GRP",
    ]);
    const page = await feed(`/torznab/api?t=search&cat=5000&apikey=${member.token}&offset=1&limit=2`);
    expect(page.map((i) => i.title)).toEqual(["Wren.Show.S02E02.1080p", "Wren Show 1x03 720p"]);
    const custom = await feed(
      `/torznab/api?t=search&cat=${100000 + categories.Linux!}&apikey=${member.token}`,
    );
    expect(custom.map((i) => i.title)).toEqual(["Debian Bookworm netinst"]);
    expect((await feed(`/torznab/api?t=search&q=debian&apikey=${member.token}`)).map((i) => i.title)).toEqual(
      ["Debian Bookworm netinst"],
    );
    expect(await feed(`/torznab/api?t=search&q=debian&cat=2000&apikey=${member.token}`)).toEqual([]);
    // A category the site has none of (Audio) finds nothing rather than everything.
    expect(await feed(`/torznab/api?t=search&cat=3000&apikey=${member.token}`)).toEqual([]);
    // Over the maximum is cut to it.
    expect(await feed(`/torznab/api?t=search&limit=5000&apikey=${member.token}`)).toHaveLength(7);
  });

  test("tvsearch matches season and episode in titles; movie searches q", async () => {
    const tv = (query: string) =>
      feed(
        `/torznab/api?t=tvsearch&cat=5000,5030,5040&extended=1&apikey=${member.token}&offset=0&limit=100&${query}`,
      );
    expect((await tv("q=Wren%20Show&season=1&ep=2")).map((i) => i.title)).toEqual([
      "Wren.Show.S01E02.1080p.WEB.h264-GRP",
    ]);
    expect((await tv("q=Wren%20Show&season=1&ep=3")).map((i) => i.title)).toEqual(["Wren Show 1x03 720p"]);
    expect((await tv("q=Wren%20Show&season=1")).map((i) => i.title)).toEqual([
      "Wren Show Season 1 Complete",
      "Wren Show 1x03 720p",
      "Wren.Show.S01E02.1080p.WEB.h264-GRP",
    ]);
    expect((await tv("q=Wren%20Show&season=2&ep=2")).map((i) => i.title)).toEqual(["Wren.Show.S02E02.1080p"]);
    expect(await tv("season=3")).toEqual([]);
    expect((await tv("")).length).toBe(4);
    const movies = await feed(
      `/torznab/api?t=movie&cat=2000&extended=1&apikey=${member.token}&offset=0&limit=100&q=Quokka%20Sunrise`,
    );
    expect(movies.map((i) => i.title)).toEqual(["Quokka Sunrise 2026 1080p BluRay x264"]);
    expect(await feed(`/torznab/api?t=movie&q=Wren&cat=2000&apikey=${member.token}`)).toEqual([]);
    // Radarr: its RSS request, then a search by title and year, with its default categories.
    const radarr = `t=movie&cat=2000,2010,2030,2040,2045,2050,2060&extended=1&apikey=${member.token}&offset=0&limit=100`;
    expect((await feed(`/torznab/api?${radarr}`)).map((i) => i.title)).toEqual([
      "Quokka Sunrise 2026 1080p BluRay x264",
    ]);
    expect((await feed(`/torznab/api?${radarr}&q=Quokka%20Sunrise%202026`)).map((i) => i.title)).toEqual([
      "Quokka Sunrise 2026 1080p BluRay x264",
    ]);
    expect(await feed(`/torznab/api?t=music&q=Wren&apikey=${member.token}`)).toHaveLength(5);
    expect(await feed(`/torznab/api?t=book&cat=7000&apikey=${member.token}`)).toEqual([]);
  });

  test("the account page says where Torznab is and that a token is its key", async () => {
    const who = await api.login("member");
    const page = await (await api.request("/account", { cookie: who.cookie })).text();
    expect(page).toContain(`<code>${TORZNAB_PATH}</code>`);
    expect(page).toContain("Torznab indexer");
    const doc = await expectJson<{ info: { description: string } }>(await get("/api/v1/openapi.json"));
    expect(doc.info.description).toContain(`GET ${TORZNAB_PATH}?t=caps`);
  });

  test("bad, missing, revoked and disabled keys are error 100; the passkey is no key", async () => {
    expect(await error("/torznab/api?t=search", 401, 100)).toContain("Incorrect user credentials");
    await error("/torznab/api?t=caps&apikey=fw_nonsense", 401, 100);
    const [me] = await api.db.sql`select passkey, rss_key from users where id = ${member.id}`;
    await error(`/torznab/api?t=search&apikey=${me!.passkey}`, 401, 100);
    await error(`/torznab/api?t=search&apikey=${me!.rssKey}`, 401, 100);
    const other = await api.member("disabled");
    const created = await createToken(api.db.sql, other.id, "prowlarr");
    await feed(`/torznab/api?t=search&apikey=${created!.token}`);
    await api.db.sql`update users set disabled = true where id = ${other.id}`;
    await error(`/torznab/api?t=search&apikey=${created!.token}`, 401, 100);
  });

  test("unknown functions and bad parameters are Torznab's 200-series errors", async () => {
    const key = `apikey=${member.token}`;
    expect(await error(`/torznab/api?t=details&${key}`, 400, 202)).toContain("No such function");
    expect(await error(`/torznab/api?${key}`, 400, 200)).toContain("Missing parameter");
    for (const bad of [
      "limit=-1",
      "limit=ten",
      "offset=1.5",
      "offset=999999999",
      "cat=movies",
      "cat=2000;drop",
    ])
      expect(await error(`/torznab/api?t=search&${bad}&${key}`, 400, 201)).toContain("Incorrect parameter");
    await error(`/torznab/api?t=tvsearch&season=one&${key}`, 400, 201);
    await error(`/torznab/api?t=tvsearch&ep=2&${key}`, 400, 200);
    await error(`/torznab/api?t=search&q=${"x".repeat(201)}&${key}`, 400, 201);
  });

  test("hostile q is escaped: the answer always parses", async () => {
    await upload("hostile", categories.Films!, "Tom & Jerry <b>\"x\"</b> 'it' ]]> \u0001end");
    for (const q of ["<x>&amp;\"'", "]]>", "\u0001\u001f", "%FF", "<![CDATA[", "\uFFFE", "a\u0000b"]) {
      const response = await get(`/torznab/api?t=search&q=${encodeURIComponent(q)}&apikey=${member.token}`);
      expect(response.status).toBeLessThan(500);
      const text = await response.text();
      expect({ q, valid: XMLValidator.validate(text) }).toEqual({ q, valid: true });
    }
    const items = await feed(`/torznab/api?t=search&q=Tom%20Jerry&apikey=${member.token}`);
    expect(items.map((i) => i.title)).toEqual(["Tom & Jerry <b>\"x\"</b> 'it' ]]> end"]);
  });

  test("searches count against the token's API rate limit (error 500, HTTP 429)", async () => {
    const created = await createToken(api.db.sql, member.id, "busy");
    let last: Response | null = null;
    for (let i = 0; i < 121; i++) last = await get(`/torznab/api?t=caps&apikey=${created!.token}`);
    const doc = await xmlOf(last!, 429);
    expect(doc.error["@_code"]).toBe("500");
    // Prowlarr's TorznabRssParser compares this description exactly.
    expect(doc.error["@_description"]).toBe("Request limit reached");
    expect(last!.headers.get("retry-after")).toMatch(/^[0-9]+$/);
  });
});
