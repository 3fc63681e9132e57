import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { decodeStrict } from "../helpers/bdecode.ts";
import { webHarness } from "../helpers/web.ts";
import { buildInfo, content, torrentBytes } from "./metainfo/fixtures.ts";

let web: Awaited<ReturnType<typeof webHarness>>;
let admin: { cookie: string; csrf: string };
let alice: { cookie: string; csrf: string };
let reader: { cookie: string; csrf: string };

/** A small single-file v1 torrent whose name (and so info hash) depends on `name`. */
function torrent(name: string, extraTop: Record<string, string> = {}): Buffer {
  const { info } = buildInfo({ kind: "v1", name, files: [{ path: [], data: content(40000, name.length) }] });
  return torrentBytes(info, { announce: "http://other.example/announce", ...extraTop });
}

async function upload(
  who: { cookie: string; csrf: string },
  file: Buffer | null,
  fields: Record<string, string> = {},
) {
  const form = new FormData();
  form.set("_csrf", who.csrf);
  if (file)
    form.set("file", new File([new Uint8Array(file)], "x.torrent", { type: "application/x-bittorrent" }));
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  return web.request("/upload", { cookie: who.cookie, form });
}

beforeAll(async () => {
  web = await webHarness({ FAIRYWREN_TRACKER_URL: "https://t.example/tr", FAIRYWREN_SITE_NAME: "Wren" });
  await web.member("admin");
  await web.member("alice", ["upload"]);
  await web.member("reader");
  admin = await web.login("admin");
  alice = await web.login("alice");
  reader = await web.login("reader");
});
afterAll(async () => {
  await web?.close();
});

describe("upload", () => {
  test("logged-out visitors are sent to log in, members without the role get 403", async () => {
    const out = await web.request("/upload");
    expect(out.status).toBe(303);
    expect(out.headers.get("location")).toBe("/login?next=%2Fupload");
    expect((await web.request("/upload", { cookie: reader.cookie })).status).toBe(403);
    expect((await upload(reader, torrent("nope"))).status).toBe(403);
  });

  test("a valid torrent is stored private with the site's source and announced to the tracker", async () => {
    const response = await upload(alice, torrent("Debian Bookworm netinst"), { description: "<b>hi</b>" });
    expect(response.status).toBe(303);
    const location = response.headers.get("location")!;
    expect(location).toMatch(/^\/torrents\/\d+\?uploaded=changed$/);
    const id = Number(/torrents\/(\d+)/.exec(location)![1]);
    const [row] = await web.db
      .sql`select title, description, size, metainfo, creator_id from torrents where id = ${id}`;
    expect(row!.title).toBe("Debian Bookworm netinst");
    expect(row!.size).toBe(40000);
    const stored = decodeStrict(row!.metainfo) as Map<string, unknown>;
    expect(stored.has("announce")).toBe(false);
    const info = stored.get("info") as Map<string, unknown>;
    expect(info.get("private")).toBe(1);
    expect(Buffer.from(info.get("source") as Uint8Array).toString()).toBe("Wren");
    const message = web.sent.at(-1)!;
    expect(message.kind).toBe("torrent-upsert");
    // The detail page escapes the description and shows the notice about the changed hash.
    const page = await (await web.request(location, { cookie: alice.cookie })).text();
    expect(page).toContain("&lt;b&gt;hi&lt;/b&gt;");
    expect(page).toContain("changed its info hash");
  });

  test("a duplicate is refused with a link to the torrent already there", async () => {
    const response = await upload(alice, torrent("Debian Bookworm netinst"));
    expect(response.status).toBe(409);
    const page = await response.text();
    expect(page).toContain("already on the site");
    expect(page).toMatch(/href="\/torrents\/\d+"/);
  });

  test("bad files get a clear message next to the file field and store nothing", async () => {
    const [before] = await web.db.sql`select count(*)::int as n from torrents`;
    const cases: [Buffer | null, number, string][] = [
      [null, 422, "Choose a .torrent file."],
      [Buffer.from("not bencode at all"), 422, ""],
      [Buffer.alloc(11 * 1024 * 1024, 0x31), 413, "larger than"],
    ];
    for (const [file, status, text] of cases) {
      const response = await upload(alice, file);
      expect(response.status).toBe(status);
      const page = await response.text();
      expect(page).toContain('class="error"');
      if (text) expect(page).toContain(text);
    }
    const [after] = await web.db.sql`select count(*)::int as n from torrents`;
    expect(after!.n).toBe(before!.n);
  });

  test("an htmx upload gets the form back on errors and HX-Redirect on success", async () => {
    const form = new FormData();
    form.set("_csrf", alice.csrf);
    form.set("file", new File([new Uint8Array(torrent("Via htmx"))], "x.torrent"));
    const response = await web.request("/upload", {
      cookie: alice.cookie,
      form,
      headers: { "hx-request": "true" },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("hx-redirect")).toMatch(/^\/torrents\/\d+\?uploaded=/);
  });
});

describe("what an upload is called and what its page says", () => {
  test("with no title typed, a single file's extension is dropped; a folder's name is kept whole", async () => {
    const single = await upload(alice, torrent("Quokka.Sunrise.2026.1080p.x264-GRP.mkv"));
    const singleId = Number(/torrents\/(\d+)/.exec(single.headers.get("location")!)![1]);
    const multi = buildInfo({
      kind: "v1",
      name: "Quokka.Album.2026.FLAC",
      files: [{ path: ["01.flac"], data: content(30000, 4) }],
    });
    const folder = await upload(alice, torrentBytes(multi.info));
    const folderId = Number(/torrents\/(\d+)/.exec(folder.headers.get("location")!)![1]);
    const typed = await upload(alice, torrent("Typed.Name.iso"), { title: "  Kept as typed.iso " });
    const typedId = Number(/torrents\/(\d+)/.exec(typed.headers.get("location")!)![1]);
    const rows = await web.db
      .sql`select id, title from torrents where id in ${web.db.sql([singleId, folderId, typedId])}`;
    const titles = Object.fromEntries(rows.map((r) => [r.id, r.title]));
    expect(titles).toEqual({
      [singleId]: "Quokka.Sunrise.2026.1080p.x264-GRP",
      [folderId]: "Quokka.Album.2026.FLAC",
      [typedId]: "Kept as typed.iso",
    });
  });

  test("a torrent that was already private is not said to have been made private", async () => {
    const { info } = buildInfo({
      kind: "v1",
      name: "Already Private",
      files: [{ path: [], data: content(30000, 9) }],
    });
    info.set("private", 1);
    const response = await upload(alice, torrentBytes(info));
    const location = response.headers.get("location")!;
    // Its hash still changes: the site adds its source tag, and the page says that instead.
    expect(location).toMatch(/^\/torrents\/\d+\?uploaded=source$/);
    const page = await (await web.request(location, { cookie: alice.cookie })).text();
    expect(page).toContain("tagged this torrent with its own source, which changed its info hash");
    expect(page).not.toContain("made this torrent private");
  });

  test("a title over the limit is named beside its field, the form kept filled, with no way back needed", async () => {
    const long = `${"Long title ".repeat(20)}end`;
    expect(long.length).toBeGreaterThan(200);
    const [before] = await web.db.sql`select count(*)::int as n from torrents`;
    const refused = await upload(alice, torrent("Long Title Upload"), { title: long, tags: "kept" });
    expect(refused.status).toBe(422);
    const form = await refused.text();
    expect(form).toContain('<span class="error" id="title-error">Use at most 200 characters.</span>');
    expect(form).toContain(`value="${long}"`);
    expect(form).toContain('value="kept"');
    expect(form).toContain('id="upload"');
    expect(form).not.toContain("Go back");
    const [after] = await web.db.sql`select count(*)::int as n from torrents`;
    expect(after!.n).toBe(before!.n);

    const [mine] = await web.db.sql`select id, title from torrents where title = 'Via htmx'`;
    const edit = await web.request(`/torrents/${mine!.id}/edit`, {
      cookie: alice.cookie,
      form: { _csrf: alice.csrf, title: long, description: "Kept *text*", tags: "" },
    });
    expect(edit.status).toBe(422);
    const edited = await edit.text();
    expect(edited).toContain('<span class="error" id="title-error">Use at most 200 characters.</span>');
    expect(edited).toContain(`value="${long}"`);
    expect(edited).toContain("Kept *text*</textarea>");
    expect(edited).not.toContain("Go back");
    const [still] = await web.db.sql`select title from torrents where id = ${mine!.id}`;
    expect(still!.title).toBe("Via htmx");
  });
});

describe("navigation", () => {
  test("a member's menu reaches bonus, history and hit-and-runs; staff get a menu of their pages", async () => {
    const member = await (await web.request("/news", { cookie: reader.cookie })).text();
    const header = (html: string) =>
      html.slice(html.indexOf('<header class="site">'), html.indexOf("</header>"));
    for (const path of ["/account", "/account/bonus", "/account/history", "/account/hit-and-runs"])
      expect(header(member)).toContain(`href="${path}"`);
    expect(header(member)).not.toContain("/admin/");
    const staff = header(await (await web.request("/news", { cookie: admin.cookie })).text());
    for (const path of ["/admin/users", "/admin/hit-and-runs", "/admin/categories", "/admin/freeleech"])
      expect(staff).toContain(`href="${path}"`);
    // Every link of the menus leads somewhere that answers.
    for (const path of [...staff.matchAll(/href="(\/(?:admin|account)[^"]*)"/g)].map((m) => m[1]!)) {
      const response = await web.request(path, { cookie: admin.cookie });
      expect({ path, status: response.status }).toEqual({ path, status: 200 });
    }
  });

  test("a search box in the header of every page but the list, which has its own", async () => {
    const [row] = await web.db.sql`select id from torrents order by id limit 1`;
    const box = '<form class="header-search" method="get" action="/torrents">';
    for (const path of ["/", "/news", "/account", `/torrents/${row!.id}`, "/users/reader"]) {
      const html = await (await web.request(path, { cookie: reader.cookie })).text();
      expect({ path, box: html.includes(box) }).toEqual({ path, box: true });
    }
    const list = await (await web.request("/torrents", { cookie: reader.cookie })).text();
    expect(list).not.toContain(box);
    expect(list.match(/name="q"/g)?.length).toBe(1);
  });
});

describe("list, search, detail, download", () => {
  test("the list shows the newest first; search finds partial words; the query stays in the links", async () => {
    await upload(alice, torrent("Ubuntu Noble Desktop"));
    await upload(alice, torrent("Arch Linux 2026.11"));
    // A title in the list may break after its dots (<wbr>): read it as one text.
    const list = (await (await web.request("/torrents", { cookie: reader.cookie })).text()).replaceAll(
      "</span><wbr/><span>",
      "",
    );
    const order = ["Arch Linux 2026.11", "Ubuntu Noble Desktop", "Debian Bookworm netinst"].map((t) =>
      list.indexOf(t),
    );
    expect(order.every((i) => i > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    const search = await (await web.request("/torrents?q=bookw%20deb", { cookie: reader.cookie })).text();
    expect(search).toContain("Debian Bookworm netinst");
    expect(search).not.toContain("Ubuntu Noble");
    expect(search).toContain('value="bookw deb"');
    const none = await (await web.request("/torrents?q=zzzz", { cookie: reader.cookie })).text();
    expect(none).toContain("No torrent matches this search.");
    const htmx = await (
      await web.request("/torrents?q=ubu", { cookie: reader.cookie, headers: { "hx-request": "true" } })
    ).text();
    expect(htmx.startsWith('<div id="results">')).toBe(true);
    expect(htmx).toContain("Ubuntu Noble Desktop");
  });

  test("every row has a link to download its .torrent, personalised", async () => {
    const list = await (await web.request("/torrents", { cookie: reader.cookie })).text();
    const rows = [
      ...list.matchAll(
        /<tr><td class="title">(?:(?!<\/td>)[\s\S])*?<a href="\/torrents\/(\d+)">[\s\S]*?<\/tr>/g,
      ),
    ];
    expect(rows.length).toBeGreaterThan(2);
    for (const [row, id] of rows) expect(row).toContain(`href="/torrents/${id}/download"`);
    const response = await web.request(`/torrents/${rows[0]![1]}/download`, { cookie: reader.cookie });
    expect(response.headers.get("content-type")).toBe("application/x-bittorrent");
  });

  test("sorting by size and by title", async () => {
    const page = await (
      await web.request("/torrents?sort=title&order=asc", { cookie: reader.cookie })
    ).text();
    expect(page.indexOf("Arch Linux")).toBeLessThan(page.indexOf("Debian Bookworm"));
    expect((await web.request("/torrents?sort=bogus", { cookie: reader.cookie })).status).toBe(422);
  });

  test("live counts from the tracker show on the list and the detail page", async () => {
    const [row] = await web.db.sql`select id from torrents where title = 'Ubuntu Noble Desktop'`;
    web.counts.apply([[row!.id, 7, 3, 2]]);
    const detail = await (await web.request(`/torrents/${row!.id}`, { cookie: reader.cookie })).text();
    expect(detail).toMatch(/data-count="seeders">7</);
    expect(detail).toMatch(/data-count="leechers">3</);
  });

  test("download is personalised with the member's passkey and has a safe file name", async () => {
    const [row] = await web.db
      .sql`select id, info_hash from torrents where title = 'Debian Bookworm netinst'`;
    const [me] = await web.db.sql`select passkey from users where name = 'reader'`;
    const response = await web.request(`/torrents/${row!.id}/download`, { cookie: reader.cookie });
    expect(response.headers.get("content-type")).toBe("application/x-bittorrent");
    expect(response.headers.get("content-disposition")).toBe(
      'attachment; filename="Debian Bookworm netinst.torrent"',
    );
    const file = decodeStrict(Buffer.from(await response.arrayBuffer())) as Map<string, unknown>;
    expect(Buffer.from(file.get("announce") as Uint8Array).toString()).toBe(
      `https://t.example/tr/${me!.passkey}/announce`,
    );
  });

  test("missing torrents are 404 pages; malformed ids are rejected", async () => {
    expect((await web.request("/torrents/999999", { cookie: reader.cookie })).status).toBe(404);
    expect((await web.request("/torrents/999999/download", { cookie: reader.cookie })).status).toBe(404);
    expect((await web.request("/torrents/abc", { cookie: reader.cookie })).status).toBe(404);
  });
});

describe("edit and delete", () => {
  test("the uploader may edit; another member may not; a moderator may delete", async () => {
    const [row] = await web.db.sql`select id from torrents where title = 'Arch Linux 2026.11'`;
    const id = row!.id;
    const edit = await web.request(`/torrents/${id}/edit`, {
      cookie: alice.cookie,
      form: { _csrf: alice.csrf, title: "Arch Linux (Nov)", description: "fresh" },
    });
    expect(edit.status).toBe(303);
    const [after] = await web.db.sql`select title from torrents where id = ${id}`;
    expect(after!.title).toBe("Arch Linux (Nov)");
    const denied = await web.request(`/torrents/${id}/edit`, {
      cookie: reader.cookie,
      form: { _csrf: reader.csrf, title: "mine", description: "" },
    });
    expect(denied.status).toBe(403);
    expect(
      (await web.request(`/torrents/${id}/delete`, { cookie: alice.cookie, form: { _csrf: alice.csrf } }))
        .status,
    ).toBe(403);
    const deleted = await web.request(`/torrents/${id}/delete`, {
      cookie: admin.cookie,
      form: { _csrf: admin.csrf },
    });
    expect(deleted.status).toBe(303);
    expect(await web.db.sql`select 1 from torrents where id = ${id}`).toHaveLength(0);
    expect(web.sent.at(-1)).toEqual({ kind: "torrent-removed", id });
  });
});

describe("behind a reverse proxy", () => {
  test("with pathDepth the prefix is stripped for routing and kept in every link", async () => {
    const { frontOptions, webFetch } = await import("../../src/web/app.tsx");
    const fetchWeb = webFetch(web.app, { ...frontOptions(web.deps.config), pathDepth: 1 });
    const server = { requestIP: () => ({ address: "192.0.2.9" }) };
    const response = await fetchWeb(
      new Request("http://site.test/wren/torrents", { headers: { cookie: reader.cookie } }),
      server,
    );
    expect(response.status).toBe(200);
    const page = await response.text();
    expect(page).toContain('href="/wren/static/style.css"');
    expect(page).toContain('href="/wren/torrents"');
    expect(page).not.toMatch(/href="\/torrents/);
    const out = await fetchWeb(new Request("http://site.test/wren/upload"), server);
    expect(out.headers.get("location")).toBe("/wren/login?next=%2Fwren%2Fupload");
    // A client cannot pretend to be behind another prefix.
    const spoofed = await fetchWeb(
      new Request("http://site.test/wren/login", { headers: { "x-fairywren-base": "https://evil.example" } }),
      server,
    );
    expect(await spoofed.text()).not.toContain("evil.example");
  });
});

describe("request ids", () => {
  test("every answer through the front of the server carries an x-request-id", async () => {
    const { frontOptions, webFetch } = await import("../../src/web/app.tsx");
    const fetchWeb = webFetch(web.app, frontOptions(web.deps.config));
    const server = { requestIP: () => ({ address: "192.0.2.9" }) };
    const a = await fetchWeb(new Request("http://site.test/login"), server);
    const b = await fetchWeb(
      new Request("http://site.test/login", { headers: { "x-request-id": "forged" } }),
      server,
    );
    expect(a.headers.get("x-request-id")).toMatch(/^[0-9a-f]{8}$/);
    expect(b.headers.get("x-request-id")).toMatch(/^[0-9a-f]{8}$/);
    expect(a.headers.get("x-request-id")).not.toBe(b.headers.get("x-request-id"));
  });
});
