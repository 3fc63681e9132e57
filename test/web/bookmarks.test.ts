// Bookmarks: the htmx toggle on a torrent's page and in the list (and its plain-form fallback), the
// member's own bookmarks page, the API, and the bookmarks RSS feed under the member's RSS key whose
// enclosures download the member's personalised .torrent. Nobody sees another member's bookmarks.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { type ApiHarness, apiHarness, expectJson, smallTorrent, uploadForm } from "../helpers/api.ts";
import { decodeStrict } from "../helpers/bdecode.ts";

const SITE = "https://site.example";
const TRACKER = "https://tracker.example";

let api: ApiHarness;
let uploader: { id: number; token: string };
let ann: { cookie: string; csrf: string; id: number };
let ben: { cookie: string; csrf: string; id: number };
let first: number;
let second: number;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "@_",
  parseTagValue: false,
  isArray: (name) => name === "item",
});

async function upload(name: string): Promise<number> {
  const response = await api.call("/api/v1/torrents", { as: uploader, form: uploadForm(smallTorrent(name)) });
  return (await expectJson<{ id: number }>(response, 201)).id;
}

function toggle(who: { cookie: string; csrf: string }, id: number | string, on: boolean, htmx = true) {
  return api.request(`/torrents/${id}/bookmark`, {
    cookie: who.cookie,
    form: { _csrf: who.csrf, bookmarked: on ? "1" : "0" },
    headers: htmx ? { "hx-request": "true" } : {},
  });
}

async function bookmarkIds(userId: number): Promise<number[]> {
  return (
    await api.db.sql<
      { torrentId: number }[]
    >`select torrent_id from bookmarks where user_id = ${userId} order by torrent_id`
  ).map((r) => Number(r.torrentId));
}

beforeAll(async () => {
  api = await apiHarness({ FAIRYWREN_SITE_URL: SITE, FAIRYWREN_TRACKER_URL: TRACKER });
  await api.member("root");
  uploader = await api.memberWithToken("uploader", ["upload"]);
  ann = { ...(await api.login((await api.member("ann")).name)), id: 0 };
  ann.id = (await api.db.sql<{ id: number }[]>`select id from users where name = 'ann'`)[0]!.id;
  ben = { ...(await api.login((await api.member("ben")).name)), id: 0 };
  ben.id = (await api.db.sql<{ id: number }[]>`select id from users where name = 'ben'`)[0]!.id;
  first = await upload("Bookmarked first");
  second = await upload("Bookmarked <second>");
}, 120_000);
afterAll(async () => {
  await api?.close();
});

describe("the toggle", () => {
  test("htmx swaps the button on a torrent's page; saying it twice changes nothing", async () => {
    const page = await (await api.request(`/torrents/${first}`, { cookie: ann.cookie })).text();
    expect(page).toContain(`id="bookmark-${first}"`);
    expect(page).toContain(`hx-post="/torrents/${first}/bookmark"`);
    expect(page).toContain("☆ Bookmark");
    const on = await toggle(ann, first, true);
    expect(on.status).toBe(200);
    const fragment = await on.text();
    expect(fragment).toStartWith(`<form class="inline bookmark" id="bookmark-${first}"`);
    expect(fragment).toContain("★ Bookmarked");
    expect(fragment).toContain('name="bookmarked" value="0"');
    expect((await toggle(ann, first, true)).status).toBe(200);
    expect(await bookmarkIds(ann.id)).toEqual([first]);
    expect(await (await api.request(`/torrents/${first}`, { cookie: ann.cookie })).text()).toContain(
      "★ Bookmarked",
    );
    // Ben's view of the same torrent is his own.
    expect(await (await api.request(`/torrents/${first}`, { cookie: ben.cookie })).text()).toContain(
      "☆ Bookmark",
    );
  });

  test("without htmx the form posts and comes back to the torrent; off removes it", async () => {
    const on = await toggle(ann, second, true, false);
    expect(on.status).toBe(303);
    expect(on.headers.get("location")).toBe(`/torrents/${second}`);
    expect(await bookmarkIds(ann.id)).toEqual([first, second]);
    const list = await (await api.request("/torrents", { cookie: ann.cookie })).text();
    expect(list).toContain(`id="bookmark-${first}"`);
    expect(list.match(/★ Bookmarked/g)?.length).toBe(2);
    const off = await toggle(ann, second, false);
    expect(await off.text()).toContain("☆ Bookmark");
    expect(await bookmarkIds(ann.id)).toEqual([first]);
  });

  test("a missing torrent, a bad value or no CSRF token is refused and changes nothing", async () => {
    const missing = await toggle(ann, 999999, true);
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain("There is no torrent with this number");
    const bad = await api.request(`/torrents/${second}/bookmark`, {
      cookie: ann.cookie,
      form: { _csrf: ann.csrf, bookmarked: "yes" },
    });
    expect(bad.status).toBe(422);
    const forged = await api.request(`/torrents/${second}/bookmark`, {
      cookie: ann.cookie,
      form: { bookmarked: "1" },
    });
    expect(forged.status).toBe(403);
    const nobody = await api.request(`/torrents/${second}/bookmark`, { form: { bookmarked: "1" } });
    expect(nobody.status).toBe(303);
    expect(nobody.headers.get("location")).toStartWith("/login");
    expect(await bookmarkIds(ann.id)).toEqual([first]);
  });
});

describe("the bookmarks page, API and feed", () => {
  test("the page lists the member's own bookmarks, escaped, and nobody else's", async () => {
    expect((await toggle(ann, second, true)).status).toBe(200);
    const mine = await (await api.request("/bookmarks", { cookie: ann.cookie })).text();
    expect(mine).toContain("Bookmarked &lt;second&gt;");
    expect(mine).toContain(`href="/torrents/${first}"`);
    expect(mine.indexOf(`/torrents/${second}"`)).toBeLessThan(mine.indexOf(`/torrents/${first}"`));
    const his = await (await api.request("/bookmarks", { cookie: ben.cookie })).text();
    expect(his).toContain("No bookmarks yet");
    expect(his).not.toContain(`href="/torrents/${first}"`);
  });

  test("the API lists, adds and removes the caller's own bookmarks", async () => {
    const ben2 = await api.memberWithToken("ben2");
    const empty = await expectJson<{ items: unknown[] }>(await api.call("/api/v1/bookmarks", { as: ben2 }));
    expect(empty.items).toEqual([]);
    const put = await expectJson(await api.call(`/api/v1/bookmarks/${second}`, { as: ben2, method: "PUT" }));
    expect(put).toEqual({ torrent_id: second, bookmarked: true });
    const listed = await expectJson<{ items: { torrent: { id: number; title: string } }[] }>(
      await api.call("/api/v1/bookmarks", { as: ben2 }),
    );
    expect(listed.items.map((i) => i.torrent.id)).toEqual([second]);
    expect((await api.call("/api/v1/bookmarks/999999", { as: ben2, method: "PUT" })).status).toBe(404);
    const del = await expectJson(
      await api.call(`/api/v1/bookmarks/${second}`, { as: ben2, method: "DELETE" }),
    );
    expect(del).toEqual({ torrent_id: second, bookmarked: false });
    expect((await api.call("/api/v1/bookmarks")).status).toBe(401);
    // Ann's stay as they were.
    expect(await bookmarkIds(ann.id)).toEqual([first, second]);
  });

  test("the feed under the RSS key lists the bookmarks; its enclosures are the member's .torrent", async () => {
    const page = await (await api.request("/bookmarks", { cookie: ann.cookie })).text();
    const [me] = await api.db.sql`select passkey, rss_key from users where id = ${ann.id}`;
    const url = `${SITE}/rss/${me!.rssKey}/bookmarks`;
    expect(page).toContain(url);
    const response = await api.app.handle(
      new Request(`http://site.test/rss/${me!.rssKey}/bookmarks`, { headers: { host: "site.test" } }),
    );
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/rss+xml; charset=utf-8");
    const xml = await response.text();
    expect(XMLValidator.validate(xml)).toBe(true);
    expect(xml).not.toContain(me!.passkey);
    const items = (
      parser.parse(xml) as {
        rss: { channel: { item: { title: string; enclosure: { "@_url": string; "@_length": string } }[] } };
      }
    ).rss.channel.item;
    expect(items.map((i) => i.title)).toEqual(["Bookmarked <second>", "Bookmarked first"]);
    const enclosure = items[1]!.enclosure["@_url"];
    expect(enclosure).toBe(`${SITE}/rss/${me!.rssKey}/download/${first}`);
    const download = await api.app.handle(
      new Request(`http://site.test${enclosure.slice(SITE.length)}`, { headers: { host: "site.test" } }),
    );
    expect(download.status).toBe(200);
    const bytes = Buffer.from(await download.arrayBuffer());
    expect(Number(items[1]!.enclosure["@_length"])).toBe(bytes.length);
    const torrent = decodeStrict(bytes) as Map<string, unknown>;
    expect(Buffer.from(torrent.get("announce") as Uint8Array).toString()).toBe(
      `${TRACKER}/${me!.passkey}/announce`,
    );
    // Another key opens another member's bookmarks; a wrong one opens nothing.
    const [his] = await api.db.sql`select rss_key from users where id = ${ben.id}`;
    const theirs = await (
      await api.app.handle(
        new Request(`http://site.test/rss/${his!.rssKey}/bookmarks`, { headers: { host: "site.test" } }),
      )
    ).text();
    expect(theirs).not.toContain("<item>");
    const wrong = await api.app.handle(
      new Request(`http://site.test/rss/${"0".repeat(32)}/bookmarks`, { headers: { host: "site.test" } }),
    );
    expect(wrong.status).toBe(404);
  });
});
