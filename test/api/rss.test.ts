import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { type ApiHarness, apiHarness, expectJson, smallTorrent, uploadForm } from "../helpers/api.ts";
import { decodeStrict } from "../helpers/bdecode.ts";

const SITE = "https://site.example";
const TRACKER = "https://tracker.example";

let api: ApiHarness;
let alice: { id: number; token: string };
let reader: { cookie: string; csrf: string };
let readerId: number;

interface Item {
  title: string;
  link: string;
  guid: { "#text": string; "@_isPermaLink": string };
  pubDate: string;
  description: string;
  enclosure: { "@_url": string; "@_length": string; "@_type": string };
}
interface Feed {
  rss: {
    "@_version": string;
    channel: { title: string; link: string; description: string; item?: Item[] };
  };
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "@_",
  parseTagValue: false,
  parseAttributeValue: false,
  isArray: (name) => name === "item",
});

/** Fetches a URL the way a feed reader or BitTorrent client would: no cookie, no session. */
async function fetchAsReader(url: string): Promise<Response> {
  expect(url.startsWith(SITE)).toBe(true);
  return api.app.handle(
    new Request(`http://site.test${url.slice(SITE.length)}`, { headers: { host: "site.test" } }),
  );
}

/** Reads a feed: well-formed XML, RSS 2.0, parsed. */
async function readFeed(url: string): Promise<{ feed: Feed; xml: string }> {
  const response = await fetchAsReader(url);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toBe("application/rss+xml; charset=utf-8");
  const xml = await response.text();
  expect(XMLValidator.validate(xml)).toBe(true);
  const feed = parser.parse(xml) as Feed;
  expect(feed.rss["@_version"]).toBe("2.0");
  return { feed, xml };
}

async function feedUrl(who: { cookie: string }): Promise<string> {
  const page = await (await api.request("/account", { cookie: who.cookie })).text();
  const match = page.match(/id="rss-url">([^<]+)</);
  expect(match).not.toBeNull();
  return match![1]!;
}

async function upload(name: string, title?: string): Promise<number> {
  const response = await api.call("/api/v1/torrents", {
    as: alice,
    form: uploadForm(smallTorrent(name), title ? { title } : {}),
  });
  return (await expectJson<{ id: number }>(response, 201)).id;
}

beforeAll(async () => {
  api = await apiHarness({
    FAIRYWREN_SITE_URL: SITE,
    FAIRYWREN_TRACKER_URL: TRACKER,
    FAIRYWREN_SITE_NAME: "Wren",
  });
  await api.member("root");
  alice = await api.memberWithToken("alice", ["upload"]);
  readerId = (await api.member("reader")).id;
  reader = await api.login("reader");
}, 60000);
afterAll(async () => {
  await api?.close();
});

describe("the RSS feed", () => {
  test("a feed reader gets valid items and downloads a working .torrent from the enclosure", async () => {
    const first = await upload("Debian Bookworm netinst");
    const second = await upload("Arch Linux 2026.11");
    const url = await feedUrl(reader);
    const [me] = await api.db.sql`select passkey, rss_key from users where id = ${readerId}`;
    expect(url).toBe(`${SITE}/rss/${me!.rssKey}`);
    expect(me!.rssKey).toMatch(/^[0-9a-f]{32}$/);
    expect(me!.rssKey).not.toBe(me!.passkey);

    const { feed, xml } = await readFeed(url);
    expect(xml).not.toContain(me!.passkey);
    expect(feed.rss.channel.title).toBe("Wren: new torrents");
    expect(feed.rss.channel.link).toBe(`${SITE}/torrents`);
    const items = feed.rss.channel.item!;
    expect(items.map((i) => i.title)).toEqual(["Arch Linux 2026.11", "Debian Bookworm netinst"]);
    for (const [item, id] of [
      [items[0]!, second],
      [items[1]!, first],
    ] as const) {
      expect(item.link).toBe(`${SITE}/torrents/${id}`);
      expect(item.guid["#text"]).toBe(item.link);
      expect(item.guid["@_isPermaLink"]).toBe("true");
      expect(item.pubDate).toMatch(/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
      expect(Math.abs(Date.parse(item.pubDate) - Date.now())).toBeLessThan(120_000);
      expect(item.description).toContain("39.06 KiB");
      expect(item.description).toContain("uploaded by alice");
      expect(item.enclosure["@_type"]).toBe("application/x-bittorrent");
      expect(item.enclosure["@_url"]).toBe(`${SITE}/rss/${me!.rssKey}/download/${id}`);

      // The enclosure works without a session, and is the member's own .torrent.
      const download = await fetchAsReader(item.enclosure["@_url"]);
      expect(download.status).toBe(200);
      expect(download.headers.get("content-type")).toBe("application/x-bittorrent");
      const bytes = Buffer.from(await download.arrayBuffer());
      expect(Number(item.enclosure["@_length"])).toBe(bytes.length);
      const torrent = decodeStrict(bytes) as Map<string, unknown>;
      expect(Buffer.from(torrent.get("announce") as Uint8Array).toString()).toBe(
        `${TRACKER}/${me!.passkey}/announce`,
      );
      const info = torrent.get("info") as Map<string, unknown>;
      expect(info.get("private")).toBe(1);
    }
  });

  test("everything in the XML is escaped; characters XML cannot carry are dropped", async () => {
    const id = await upload("escape me", "Tom & Jerry <b>\"quoted\"</b> 'it' ]]> \u0001end");
    const { feed, xml } = await readFeed(await feedUrl(reader));
    expect(xml).not.toContain("<b>");
    expect(xml).not.toContain("\u0001");
    expect(xml).toContain("Tom &amp; Jerry &lt;b&gt;&quot;quoted&quot;&lt;/b&gt; &apos;it&apos; ]]&gt; end");
    const item = feed.rss.channel.item!.find((i) => i.link.endsWith(`/torrents/${id}`))!;
    expect(item.title).toBe("Tom & Jerry <b>\"quoted\"</b> 'it' ]]> end");
  });

  test("?q= follows a search, escaped in the channel too", async () => {
    const url = await feedUrl(reader);
    const { feed } = await readFeed(`${url}?q=${encodeURIComponent("deb <x>")}`);
    expect(feed.rss.channel.title).toBe("Wren: new torrents matching “deb <x>”");
    expect(feed.rss.channel.item).toBeUndefined();
    const { feed: found } = await readFeed(`${url}?q=deb`);
    expect(found.rss.channel.item!.map((i) => i.title)).toEqual(["Debian Bookworm netinst"]);
    expect(found.rss.channel.link).toBe(`${SITE}/torrents?q=deb`);
  });

  test("a new RSS key from the account page: the old address stops working", async () => {
    const old = await feedUrl(reader);
    const [before] = await api.db.sql`select passkey from users where id = ${readerId}`;
    const response = await api.request("/account/rss", {
      cookie: reader.cookie,
      form: { _csrf: reader.csrf },
    });
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/account?done=rss");
    const page = await (await api.request("/account?done=rss", { cookie: reader.cookie })).text();
    expect(page).toContain("Your feed has a new address");
    const fresh = await feedUrl(reader);
    expect(fresh).not.toBe(old);
    expect((await fetchAsReader(old)).status).toBe(404);
    const [id] = (await readFeed(fresh)).feed.rss.channel.item!;
    expect((await fetchAsReader(id!.enclosure["@_url"].replace(fresh, old))).status).toBe(404);
    // The passkey did not change.
    const [after] = await api.db.sql`select passkey from users where id = ${readerId}`;
    expect(after!.passkey).toBe(before!.passkey);
    // Rotating needs the CSRF token.
    expect((await api.request("/account/rss", { cookie: reader.cookie, form: {} })).status).toBe(403);
    expect(await feedUrl(reader)).toBe(fresh);
  });

  test("unknown keys, the passkey, a disabled member and a deleted torrent are 404", async () => {
    const [me] = await api.db.sql`select passkey, rss_key from users where id = ${readerId}`;
    for (const key of ["0".repeat(32), me!.passkey, "not-a-key", "A".repeat(64)])
      expect((await fetchAsReader(`${SITE}/rss/${key}`)).status).toBe(404);
    expect((await fetchAsReader(`${SITE}/rss/${me!.passkey}/download/1`)).status).toBe(404);
    expect((await fetchAsReader(`${SITE}/rss/${me!.rssKey}/download/999999`)).status).toBe(404);
    const gone = await upload("short lived");
    await api.db.sql`delete from torrents where id = ${gone}`;
    expect((await fetchAsReader(`${SITE}/rss/${me!.rssKey}/download/${gone}`)).status).toBe(404);
    await api.db.sql`update users set disabled = true where id = ${readerId}`;
    expect((await fetchAsReader(`${SITE}/rss/${me!.rssKey}`)).status).toBe(404);
    expect((await fetchAsReader(`${SITE}/rss/${me!.rssKey}/download/1`)).status).toBe(404);
    await api.db.sql`update users set disabled = false where id = ${readerId}`;
    expect((await fetchAsReader(`${SITE}/rss/${me!.rssKey}`)).status).toBe(200);
  });

  test("hostile ids and keys get a 4xx, never a 5xx", async () => {
    const [me] = await api.db.sql`select rss_key from users where id = ${readerId}`;
    const paths = [
      ...["1.5", "0.5", "1e-7", "9007199254740993", "-1", "abc", "%FF"].map(
        (id) => `/rss/${me!.rssKey}/download/${id}`,
      ),
      ...["%FF", "%C3", "%00", "a%E2%82", "%ED%A0%80"].flatMap((key) => [
        `/rss/${key}`,
        `/rss/${key}/download/1`,
      ]),
      `/rss/${me!.rssKey}?q=%00%FF`,
    ];
    for (const path of paths) {
      const response = await api.app.handle(
        new Request(`http://site.test${path}`, { headers: { host: "site.test" } }),
      );
      expect({ path, status: response.status < 500 }).toEqual({ path, status: true });
      expect(await response.text()).not.toMatch(/at .*\.(ts|js):\d+/);
    }
  });

  test("every member has their own key, from the migration's default", async () => {
    const rows = await api.db.sql`select rss_key from users`;
    const keys = rows.map((r) => r.rssKey as string);
    expect(keys.every((k) => /^[0-9a-f]{32}$/.test(k))).toBe(true);
    expect(new Set(keys).size).toBe(keys.length);
  });
});
