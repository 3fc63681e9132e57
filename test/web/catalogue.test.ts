// Categories and tags through the pages: administrators manage categories, uploads choose one and
// add tags, the list filters by both with search and sorting kept in its links, edits change them,
// feeds follow the same filters.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { CATEGORY_ICON_NAMES } from "../../src/web/categories/icons.ts";
import { DRAWN_ICONS } from "../../views/categories/icons.tsx";
import { smallTorrent, uploadForm } from "../helpers/api.ts";
import { webHarness } from "../helpers/web.ts";

let web: Awaited<ReturnType<typeof webHarness>>;
let admin: { cookie: string; csrf: string };
let uploader: { cookie: string; csrf: string };
let reader: { cookie: string; csrf: string };
const ids: Record<string, number> = {};

async function upload(who: { cookie: string; csrf: string }, name: string, fields: Record<string, string>) {
  const form = uploadForm(smallTorrent(name), { _csrf: who.csrf, ...fields });
  return web.request("/upload", { cookie: who.cookie, form });
}

async function page(path: string, who = reader): Promise<string> {
  const response = await web.request(path, { cookie: who.cookie });
  expect({ path, status: response.status }).toEqual({ path, status: 200 });
  return response.text();
}

async function addCategory(name: string, icon: string, position: string) {
  return web.request("/admin/categories", {
    cookie: admin.cookie,
    form: { _csrf: admin.csrf, name, icon, position },
  });
}

beforeAll(async () => {
  web = await webHarness({ FAIRYWREN_SITE_NAME: "Wren" });
  await web.member("admin");
  await web.member("uploader", ["upload"]);
  await web.member("reader");
  admin = await web.login("admin");
  uploader = await web.login("uploader");
  reader = await web.login("reader");
});
afterAll(async () => {
  await web?.close();
});

test("every icon a category may take is drawn, and every drawing may be taken", () => {
  expect([...DRAWN_ICONS].sort()).toEqual([...CATEGORY_ICON_NAMES].sort());
});

describe("categories, managed by administrators", () => {
  test("before any category exists, uploads need none", async () => {
    const response = await upload(uploader, "Before categories", { tags: "old" });
    expect(response.status).toBe(303);
    ids.before = Number(/torrents\/(\d+)/.exec(response.headers.get("location")!)![1]);
    // The form says why there is no category field, and shows an administrator where to add them.
    const form = await page("/upload", uploader);
    expect(form).not.toContain('name="category"');
    expect(form).toContain("This site has no categories yet, so an upload needs none.");
    expect(form).not.toContain('href="/admin/categories"');
    const adminForm = await page("/upload", admin);
    expect(adminForm).toContain('<a href="/admin/categories">Add categories</a>');
  });

  test("only administrators reach the page; they add categories with an icon and a place", async () => {
    expect((await web.request("/admin/categories", { cookie: reader.cookie })).status).toBe(403);
    expect((await web.request("/admin/categories")).status).toBe(303);
    const refused = await web.request("/admin/categories", {
      cookie: reader.cookie,
      form: { _csrf: reader.csrf, name: "Nope", icon: "film", position: "1" },
    });
    expect(refused.status).toBe(403);
    for (const [name, icon, position] of [
      ["Software", "software", "20"],
      ["Films", "film", "10"],
      ["Music", "music", "30"],
    ]) {
      const response = await addCategory(name!, icon!, position!);
      expect(response.status).toBe(303);
      expect(response.headers.get("location")).toMatch(/^\/admin\/categories\?done=added#category-\d+$/);
    }
    const [films] = await web.db.sql`select id from categories where name = 'Films'`;
    const [software] = await web.db.sql`select id from categories where name = 'Software'`;
    const [music] = await web.db.sql`select id from categories where name = 'Music'`;
    ids.films = films!.id;
    ids.software = software!.id;
    ids.music = music!.id;
    const html = await page("/admin/categories", admin);
    // In their order, each with its drawn icon; the page links from the navigation.
    expect(html.indexOf("Films")).toBeLessThan(html.indexOf("Software"));
    expect(html.indexOf("Software")).toBeLessThan(html.indexOf("Music"));
    expect(html).toContain('<svg class="icon"');
    expect(html).toContain('href="/admin/categories"');
    // A compact table: one row each, its edit form folded inside the row; the icon picker with a
    // drawing of every icon only in the form that adds one.
    expect(html.match(/<tr id="category-\d+">/g)?.length).toBe(3);
    expect(html.match(/<details class="category-edit">/g)?.length).toBe(3);
    expect(html.match(/<fieldset class="icon-choice">/g)?.length).toBe(1);
  });

  test("bad names, icons and positions get a message by the field and change nothing", async () => {
    const [before] = await web.db.sql`select count(*)::int as n from categories`;
    const cases: [Record<string, string>, number, string][] = [
      [{ name: "  ", icon: "film", position: "1" }, 422, "Name the category."],
      [{ name: "films", icon: "film", position: "1" }, 409, "Another category has this name."],
      [{ name: "New", icon: "nope", position: "1" }, 422, "Choose one of the icons"],
      [{ name: "New", icon: "film", position: "1.5" }, 422, "Use a whole number"],
      [{ name: "New", icon: "film", position: "99999" }, 422, "Use a whole number"],
      [{ name: '"><script>x</script>', icon: "<script>", position: "1" }, 422, "Choose one of the icons"],
    ];
    for (const [form, status, message] of cases) {
      const response = await web.request("/admin/categories", {
        cookie: admin.cookie,
        form: { _csrf: admin.csrf, ...form },
      });
      const html = await response.text();
      expect({ form, status: response.status }).toEqual({ form, status });
      expect(html).toContain(message);
      // Shown back inside the quoted value, its quote escaped: it cannot close the attribute.
      expect(html).not.toContain('"><script>');
    }
    const [after] = await web.db.sql`select count(*)::int as n from categories`;
    expect(after!.n).toBe(before!.n);
  });

  test("renaming and re-ordering", async () => {
    const response = await web.request(`/admin/categories/${ids.music}`, {
      cookie: admin.cookie,
      form: { _csrf: admin.csrf, name: "Music & Audio", icon: "microphone", position: "5" },
    });
    expect(response.status).toBe(303);
    // A refused edit opens its row again, with the message beside the field and the values sent.
    const refused = await web.request(`/admin/categories/${ids.music}`, {
      cookie: admin.cookie,
      form: { _csrf: admin.csrf, name: "Films", icon: "film", position: "5" },
    });
    expect(refused.status).toBe(409);
    const again = await refused.text();
    const row = again.slice(again.indexOf(`<tr id="category-${ids.music}">`));
    expect(row).toStartWith(`<tr id="category-${ids.music}"><td`);
    expect(row.slice(0, row.indexOf("</tr>"))).toContain('<details class="category-edit" open>');
    expect(row.slice(0, row.indexOf("</tr>"))).toContain("Another category has this name.");
    expect(again.match(/<details class="category-edit" open>/g)?.length).toBe(1);
    const html = await page("/admin/categories", admin);
    expect(html).toContain("Music &amp; Audio");
    expect(html.indexOf("Music &amp; Audio")).toBeLessThan(html.indexOf("Films"));
    const missing = await web.request("/admin/categories/999999", {
      cookie: admin.cookie,
      form: { _csrf: admin.csrf, name: "X", icon: "film", position: "1" },
    });
    expect(missing.status).toBe(404);
  });
});

describe("upload with a category and tags", () => {
  test("once categories exist, an upload must choose one; tags are normalised", async () => {
    const none = await upload(uploader, "No category", {});
    expect(none.status).toBe(422);
    expect(await none.text()).toContain("Choose a category.");
    const unknown = await upload(uploader, "No category", { category: "999999" });
    expect(unknown.status).toBe(422);
    const badTags = await upload(uploader, "Bad tags", { category: String(ids.films), tags: "ok, <b>" });
    expect(badTags.status).toBe(422);
    const kept = await badTags.text();
    expect(kept).toContain("only letters, digits");
    // The form comes back with the category still chosen and the tags as typed (escaped).
    expect(kept).toMatch(new RegExp(`<option value="${ids.films}" selected`));
    expect(kept).toContain('value="ok, <b>"');
    expect(kept).toContain("The tag “&lt;b&gt;” may hold only");
    const [count] = await web.db.sql`select count(*)::int as n from torrents`;
    expect(count!.n).toBe(1);

    const uploads: [string, number, string][] = [
      ["Debian Live", ids.software!, "Linux, Live CD, amd64"],
      ["Debian Server", ids.software!, "linux, server"],
      ["Nature Film", ids.films!, "documentary, 1080p"],
      ["Linux Talk", ids.films!, "linux, talk"],
      ["Quiet Album", ids.music!, "flac"],
    ];
    for (const [title, category, tags] of uploads) {
      const response = await upload(uploader, title, { category: String(category), tags });
      expect({ title, status: response.status }).toEqual({ title, status: 303 });
      ids[title] = Number(/torrents\/(\d+)/.exec(response.headers.get("location")!)![1]);
    }
    const detail = await page(`/torrents/${ids["Debian Live"]}`);
    expect(detail).toContain('href="/torrents?category=');
    expect(detail).toContain(">Software</span>");
    for (const tag of ["amd64", "linux", "live.cd"]) expect(detail).toContain(`href="/torrents?tag=${tag}"`);
  });

  test("the upload form offers the categories and shows the tag rules", async () => {
    const html = await page("/upload", uploader);
    expect(html).toContain('<select name="category" required>');
    expect(html).toContain("Music &amp; Audio");
    expect(html).toContain('name="tags"');
    expect(html).toContain('hx-post="/preview"');
  });
});

describe("the list filtered by category and tag", () => {
  const titlesOf = (html: string) =>
    [...html.matchAll(/<td class="title">(?:(?!<\/td>)[\s\S])*?<a href="\/torrents\/\d+">(.*?)<\/a>/g)].map(
      (m) => m[1]!.replace(/<[^>]*>/g, ""),
    );

  test("by category, by tag, and both, with counts on the tags", async () => {
    expect(titlesOf(await page(`/torrents?category=${ids.software}`)).sort()).toEqual([
      "Debian Live",
      "Debian Server",
    ]);
    expect(titlesOf(await page("/torrents?tag=linux")).sort()).toEqual([
      "Debian Live",
      "Debian Server",
      "Linux Talk",
    ]);
    expect(titlesOf(await page("/torrents?tag=Live%20CD"))).toEqual(["Debian Live"]);
    expect(titlesOf(await page(`/torrents?tag=linux&category=${ids.films}`))).toEqual(["Linux Talk"]);
    const none = await page("/torrents?tag=nothing.here");
    expect(titlesOf(none)).toEqual([]);
    expect(none).toContain("No torrent matches these filters.");
    expect(titlesOf(await page("/torrents?tag=%3Cscript%3E"))).toEqual([]);
    expect((await web.request("/torrents?category=abc", { cookie: reader.cookie })).status).toBe(422);
    const all = await page("/torrents");
    expect(all).toMatch(
      /<a class="tag" href="\/torrents\?tag=linux"><span>linux<\/span> <span class="count">3<\/span><\/a>/,
    );
    // Under a category the tags offered, and their counts, are that category's.
    const tagsOf = (html: string) =>
      Object.fromEntries(
        [...html.matchAll(/<span>([^<]+)<\/span> <span class="count">(\d+)<\/span>/g)].map((m) => [
          m[1],
          Number(m[2]),
        ]),
      );
    expect(tagsOf(await page(`/torrents?category=${ids.films}`))).toEqual({
      "1080p": 1,
      documentary: 1,
      linux: 1,
      talk: 1,
    });
    expect(tagsOf(await page(`/torrents?category=${ids.software}`))).toEqual({
      amd64: 1,
      linux: 2,
      "live.cd": 1,
      server: 1,
    });
  });

  test("with a search and a sort, every link keeps the rest of the state", async () => {
    const html = await page(`/torrents?q=debian&category=${ids.software}&tag=linux&sort=title&order=asc`);
    expect(titlesOf(html)).toEqual(["Debian Live", "Debian Server"]);
    // Sort headers keep the search and filters; filter links keep the search and the sort.
    expect(html).toContain(`href="/torrents?q=debian&category=${ids.software}&tag=linux&sort=size"`);
    expect(html).toContain(`href="/torrents?q=debian&category=${ids.films}&tag=linux&sort=title&order=asc"`);
    expect(html).toContain('href="/torrents?q=debian&tag=linux&sort=title&order=asc"');
    // The live search sends the whole form (hidden filters and the sort) along with what is typed.
    expect(html).toMatch(/<form class="searchbar" method="get" action="\/torrents" hx-get="\/torrents"/);
    expect(html).toContain(`<input type="hidden" name="category" value="${ids.software}"`);
    expect(html).toContain('<input type="hidden" name="tag" value="linux"');
    const live = await web.request(`/torrents?q=serv&category=${ids.software}&tag=linux`, {
      cookie: reader.cookie,
      headers: { "hx-request": "true" },
    });
    const fragment = await live.text();
    expect(fragment.startsWith('<div id="results">')).toBe(true);
    expect(titlesOf(fragment)).toEqual(["Debian Server"]);
    expect(fragment).toContain(`href="/torrents?q=serv&category=${ids.software}"`);
  });
});

describe("editing a torrent's category and tags", () => {
  test("the uploader moves a torrent and replaces its tags; counts follow", async () => {
    const id = ids["Linux Talk"]!;
    const form = await page(`/torrents/${id}/edit`, uploader);
    expect(form).toMatch(new RegExp(`<option value="${ids.films}" selected`));
    expect(form).toContain('value="linux, talk"');
    const response = await web.request(`/torrents/${id}/edit`, {
      cookie: uploader.cookie,
      form: {
        _csrf: uploader.csrf,
        title: "Linux Talk",
        description: "A **talk**",
        category: String(ids.software),
        tags: "Conference Talk",
      },
    });
    expect(response.status).toBe(303);
    const [row] = await web.db.sql`select category_id from torrents where id = ${id}`;
    expect(row!.categoryId).toBe(ids.software);
    const [linux] = await web.db.sql`select uses from tags where name = 'linux'`;
    expect(linux!.uses).toBe(2);
    expect((await page(`/torrents/${id}`)).includes("<strong>talk</strong>")).toBe(true);
    const bad = await web.request(`/torrents/${id}/edit`, {
      cookie: uploader.cookie,
      form: { _csrf: uploader.csrf, title: "Linux Talk", description: "", category: "", tags: "" },
    });
    expect(bad.status).toBe(422);
    expect(await bad.text()).toContain("Choose a category.");
  });

  test("deleting a category needs somewhere for its torrents to go", async () => {
    const held = await web.request(`/admin/categories/${ids.music}/delete`, {
      cookie: admin.cookie,
      form: { _csrf: admin.csrf },
    });
    expect(held.status).toBe(409);
    expect(await held.text()).toContain("holds 1 torrent");
    const moved = await web.request(`/admin/categories/${ids.music}/delete`, {
      cookie: admin.cookie,
      form: { _csrf: admin.csrf, move_to: String(ids.films) },
    });
    expect(moved.status).toBe(303);
    expect(moved.headers.get("location")).toBe("/admin/categories?done=moved");
    const [row] = await web.db.sql`select category_id from torrents where id = ${ids["Quiet Album"]!}`;
    expect(row!.categoryId).toBe(ids.films);
    const [gone] = await web.db.sql`select count(*)::int as n from categories where id = ${ids.music!}`;
    expect(gone!.n).toBe(0);
  });
});

describe("feeds filter the same way", () => {
  test("RSS with a category and a tag lists only those, and says so", async () => {
    const [me] = await web.db.sql`select rss_key from users where name = 'reader'`;
    const response = await web.request(`/rss/${me!.rssKey}?category=${ids.software}&tag=linux`);
    expect(response.status).toBe(200);
    const xml = await response.text();
    const titles = [...xml.matchAll(/<item>\n<title>([^<]+)<\/title>/g)].map((m) => m[1]);
    expect(titles.sort()).toEqual(["Debian Live", "Debian Server"]);
    expect(xml).toContain("new torrents in Software, tagged linux");
    expect(xml).toContain("<category>Software</category>");
    expect(xml).toContain(`/rss/${me!.rssKey}?category=${ids.software}&amp;tag=linux`);
    const none = await (await web.request(`/rss/${me!.rssKey}?category=999999`)).text();
    expect(none).not.toContain("<item>");
  });
});
