// What Markdown may make the site produce (table cells, nesting, output size), HTML rendered once
// when written and stored (comments, descriptions, news, messages), and the throttles on previews
// and edits.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { MARKDOWN_LIMITS, renderBounded, renderMarkdown } from "../../src/web/markdown/service.ts";
import { smallTorrent, uploadForm } from "../helpers/api.ts";
import { webHarness } from "../helpers/web.ts";

type Session = { cookie: string; csrf: string };
let web: Awaited<ReturnType<typeof webHarness>>;
let admin: Session;
let uploader: Session;
let alice: Session;
let torrentId: number;

/** A 32-column header and then rows of a lone pipe, to `length` characters: 65,536 cells unbounded. */
function tableBomb(length = 10000): string {
  const header = `|${"a|".repeat(32)}\n|${"-|".repeat(32)}\n`;
  return header + "|\n".repeat(Math.floor((length - header.length) / 2));
}

/** The deepest nesting of elements in an HTML fragment (void elements not counted). */
function depth(html: string): number {
  let level = 0;
  let deepest = 0;
  for (const match of html.matchAll(/<(\/?)([a-z][a-z0-9]*)[^>]*?(\/?)>/g)) {
    if (["br", "hr", "img", "input"].includes(match[2]!) || match[3]) continue;
    level += match[1] ? -1 : 1;
    deepest = Math.max(deepest, level);
  }
  return deepest;
}

async function commentIds(): Promise<number[]> {
  return (await web.db.sql<{ id: number }[]>`select id from comments order by id`).map((r) => r.id);
}

beforeAll(async () => {
  web = await webHarness({
    FAIRYWREN_COMMENTS_PER_MINUTE: "100",
    FAIRYWREN_PREVIEWS_PER_MINUTE: "4",
    FAIRYWREN_EDITS_PER_MINUTE: "2",
  });
  await web.member("admin");
  await web.member("uploader", ["upload"]);
  await web.member("alice");
  admin = await web.login("admin");
  uploader = await web.login("uploader");
  alice = await web.login("alice");
  const response = await web.request("/upload", {
    cookie: uploader.cookie,
    form: uploadForm(smallTorrent("Bounded"), { _csrf: uploader.csrf, description: "Plain **text**" }),
  });
  torrentId = Number(/torrents\/(\d+)/.exec(response.headers.get("location")!)![1]);
}, 300000);
afterAll(async () => {
  await web?.close();
});

describe("the renderer's bounds", () => {
  test("the table bomb is refused without rendering its 65,536 cells; a table of normal size renders", () => {
    const bomb = renderBounded(tableBomb());
    expect(bomb.ok).toBe(false);
    if (!bomb.ok) expect(bomb.problem).toContain(`at most ${MARKDOWN_LIMITS.tableCells} cells`);
    // What a page shows for one stored before the bounds: a notice of a few hundred bytes.
    const shown = renderMarkdown(tableBomb());
    expect(shown.length).toBeLessThan(500);
    expect(shown).toContain("This text is not shown");
    // Inside a quote the rows count the same.
    expect(renderBounded(tableBomb().replace(/^/gm, "> ")).ok).toBe(false);
    const table = `| a | b | c |\n|---|---|---|\n${"| 1 | 2 | 3 |\n".repeat(20)}`;
    const fine = renderBounded(table);
    expect(fine.ok).toBe(true);
    if (fine.ok) expect(fine.html.match(/<td/g)?.length).toBe(60);
  });

  test("a table bomb in a code block is text, not cells", () => {
    const fenced = renderBounded(`\`\`\`\n${tableBomb(3000)}\`\`\`\n`);
    expect(fenced.ok).toBe(true);
    if (fenced.ok) expect(fenced.html).not.toContain("<td");
  });

  test("nesting bombs stay within the nesting limit and small", () => {
    for (const bomb of [
      ">".repeat(10000),
      "> ".repeat(5000),
      "- ".repeat(5000),
      `${"[".repeat(5000)}x${"](a)".repeat(5000)}`,
      `${"*".repeat(5000)}x${"*".repeat(5000)}`,
      Array.from({ length: 200 }, (_, i) => `${"  ".repeat(i)}- item`).join("\n"),
    ]) {
      const html = renderMarkdown(bomb);
      expect(html.length).toBeLessThan(60000);
      expect(depth(html)).toBeLessThanOrEqual(MARKDOWN_LIMITS.nesting + 2);
    }
  });

  test("a text whose HTML would pass the size limit is refused (one reference link repeated)", () => {
    const text = `[x]: https://example.org/${"a".repeat(1500)}\n\n${"[x] ".repeat(4000)}`;
    expect(text.length).toBeLessThan(20000);
    const result = renderBounded(text);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problem).toContain("too large to show");
    expect(renderMarkdown(text).length).toBeLessThan(500);
  });
});

describe("refused when written", () => {
  test("a table-bomb comment gets the form again with the reason, and nothing is stored", async () => {
    const before = await commentIds();
    const response = await web.request(`/torrents/${torrentId}/comments`, {
      cookie: alice.cookie,
      form: { _csrf: alice.csrf, body: tableBomb() },
    });
    expect(response.status).toBe(422);
    const page = await response.text();
    expect(page).toContain("Tables may have at most 1000 cells");
    expect(page.length).toBeLessThan(100000);
    expect(await commentIds()).toEqual(before);
  });

  test("a table-bomb description is refused on edit", async () => {
    const response = await web.request(`/torrents/${torrentId}/edit`, {
      cookie: uploader.cookie,
      form: { _csrf: uploader.csrf, title: "Bounded", description: tableBomb(15000) },
    });
    expect(response.status).toBe(422);
    expect(await response.text()).toContain("Tables may have at most");
    const [row] = await web.db.sql<
      { description: string }[]
    >`select description from torrents where id = ${torrentId}`;
    expect(row!.description).toBe("Plain **text**");
  });
});

describe("stored HTML", () => {
  test("a comment is rendered once, when written: the page shows the stored HTML", async () => {
    const post = await web.request(`/torrents/${torrentId}/comments`, {
      cookie: alice.cookie,
      form: { _csrf: alice.csrf, body: "Stored **once**" },
    });
    expect(post.status).toBe(303);
    const id = (await commentIds()).at(-1)!;
    const [row] = await web.db.sql<{ html: string }[]>`select html from comments where id = ${id}`;
    expect(row!.html).toContain("<strong>once</strong>");
    // Were the page to render the body again, it would not show what the row holds.
    await web.db.sql`update comments set html = '<p>FROM-THE-ROW</p>' where id = ${id}`;
    const page = await (await web.request(`/torrents/${torrentId}`, { cookie: admin.cookie })).text();
    expect(page).toContain("FROM-THE-ROW");
    expect(page).not.toContain("Stored <strong>once</strong>");
  });

  test("a comment stored before (no HTML) is rendered on its first read and stored", async () => {
    const [torrent] = await web.db.sql<{ id: number }[]>`select id from torrents limit 1`;
    const [aliceRow] = await web.db.sql<{ id: number }[]>`select id from users where name = 'alice'`;
    const [legacy] = await web.db.sql<{ id: number }[]>`
      insert into comments (torrent_id, author_id, body) values (${torrent!.id}, ${aliceRow!.id}, 'Old _style_')
      returning id
    `;
    const page = await (await web.request(`/torrents/${torrentId}`, { cookie: admin.cookie })).text();
    expect(page).toContain("Old <em>style</em>");
    const [row] = await web.db.sql<
      { html: string | null }[]
    >`select html from comments where id = ${legacy!.id}`;
    expect(row!.html).toBe("<p>Old <em>style</em></p>\n");
  });

  test("a description is stored when written and read from the row; an old one is stored on first read", async () => {
    const [row] = await web.db.sql<{ html: string }[]>`
      select description_html as html from torrents where id = ${torrentId}
    `;
    expect(row!.html).toBe("<p>Plain <strong>text</strong></p>\n");
    await web.db.sql`update torrents set description_html = '<p>DESCRIPTION-ROW</p>' where id = ${torrentId}`;
    const page = await (await web.request(`/torrents/${torrentId}`, { cookie: admin.cookie })).text();
    expect(page).toContain("DESCRIPTION-ROW");
    await web.db.sql`update torrents set description_html = null where id = ${torrentId}`;
    const again = await (await web.request(`/torrents/${torrentId}`, { cookie: admin.cookie })).text();
    expect(again).toContain("Plain <strong>text</strong>");
    const [stored] = await web.db.sql<{ html: string | null }[]>`
      select description_html as html from torrents where id = ${torrentId}
    `;
    expect(stored!.html).toBe("<p>Plain <strong>text</strong></p>\n");
  });

  test("news is stored when written and read from the row", async () => {
    const posted = await web.request("/news", {
      cookie: admin.cookie,
      form: { _csrf: admin.csrf, title: "Stored news", body: "News **body**" },
    });
    expect(posted.status).toBe(303);
    const [row] = await web.db.sql<{ id: number; html: string }[]>`
      select id, body_html as html from news order by id desc limit 1
    `;
    expect(row!.html).toBe("<p>News <strong>body</strong></p>\n");
    await web.db.sql`update news set body_html = '<p>NEWS-ROW</p>' where id = ${row!.id}`;
    const page = await (await web.request(`/news/${row!.id}`, { cookie: alice.cookie })).text();
    expect(page).toContain("NEWS-ROW");
  });

  test("a message is stored when written and read from the row", async () => {
    const sent = await web.request("/messages", {
      cookie: alice.cookie,
      form: { _csrf: alice.csrf, to: "admin", subject: "stored", body: "Message **body**" },
    });
    expect(sent.status).toBe(303);
    const id = Number(/\/messages\/(\d+)/.exec(sent.headers.get("location")!)![1]);
    await web.db.sql`update messages set html = '<p>MESSAGE-ROW</p>' where conversation_id = ${id}`;
    const page = await (await web.request(`/messages/${id}`, { cookie: admin.cookie })).text();
    expect(page).toContain("MESSAGE-ROW");
    expect(page).not.toContain("Message <strong>body</strong>");
  });
});

describe("throttles", () => {
  test("previews: past the limit a 429 with a readable message and Retry-After", async () => {
    const preview = (text: string) =>
      web.request("/preview", { cookie: uploader.cookie, form: { _csrf: uploader.csrf, body: text } });
    for (let i = 0; i < 4; i++) {
      const ok = await preview(`**${i}**`);
      expect(ok.status).toBe(200);
      expect(await ok.text()).toContain(`<strong>${i}</strong>`);
    }
    const refused = await preview("**again**");
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    const text = await refused.text();
    expect(text).toContain("You are asking for previews too fast: at most 4 a minute. Try again in");
    expect(text).not.toContain("<strong>again</strong>");
    // Another member has their own count.
    expect(
      (await web.request("/preview", { cookie: alice.cookie, form: { _csrf: alice.csrf, body: "x" } }))
        .status,
    ).toBe(200);
  });

  test("previews of the table bomb answer with the reason, small", async () => {
    const response = await web.request("/preview", {
      cookie: admin.cookie,
      form: { _csrf: admin.csrf, body: tableBomb() },
    });
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text.length).toBeLessThan(500);
    expect(text).toContain("Tables may have at most");
  });

  test("comment edits: past the limit a 429 and the comment stays as it was", async () => {
    const post = await web.request(`/torrents/${torrentId}/comments`, {
      cookie: uploader.cookie,
      form: { _csrf: uploader.csrf, body: "v0" },
    });
    expect(post.status).toBe(303);
    const id = (await commentIds()).at(-1)!;
    const edit = (body: string) =>
      web.request(`/comments/${id}/edit`, { cookie: uploader.cookie, form: { _csrf: uploader.csrf, body } });
    expect((await edit("v1")).status).toBe(303);
    expect((await edit("v2")).status).toBe(303);
    const refused = await edit("v3");
    expect(refused.status).toBe(429);
    expect(await refused.text()).toContain("You are editing too fast: at most 2 a minute.");
    const [row] = await web.db.sql<{ body: string }[]>`select body from comments where id = ${id}`;
    expect(row!.body).toBe("v2");
  });
});
