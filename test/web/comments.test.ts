// Comments through the pages: post, edit one's own, delete one's own or (moderators) any, 25 a
// page oldest first, Markdown like descriptions, a throttle per member, and the uploader's notice.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { smallTorrent, uploadForm } from "../helpers/api.ts";
import { webHarness } from "../helpers/web.ts";

let web: Awaited<ReturnType<typeof webHarness>>;
let moderator: { cookie: string; csrf: string };
let uploader: { cookie: string; csrf: string };
let alice: { cookie: string; csrf: string };
let bob: { cookie: string; csrf: string };
let torrentId: number;

function post(who: { cookie: string; csrf: string }, body: string, id = torrentId, ip = "192.0.2.1") {
  return web.request(`/torrents/${id}/comments`, { cookie: who.cookie, form: { _csrf: who.csrf, body }, ip });
}

async function commentIds(): Promise<number[]> {
  return (await web.db.sql<{ id: number }[]>`select id from comments order by id`).map((r) => r.id);
}

beforeAll(async () => {
  // A generous throttle for the paging test; the throttle test has its own harness.
  web = await webHarness({ FAIRYWREN_COMMENTS_PER_MINUTE: "100" });
  await web.member("moderator");
  await web.member("uploader", ["upload"]);
  await web.member("alice");
  await web.member("bob");
  moderator = await web.login("moderator");
  uploader = await web.login("uploader");
  alice = await web.login("alice");
  bob = await web.login("bob");
  const response = await web.request("/upload", {
    cookie: uploader.cookie,
    form: uploadForm(smallTorrent("Talked about"), { _csrf: uploader.csrf }),
  });
  torrentId = Number(/torrents\/(\d+)/.exec(response.headers.get("location")!)![1]);
});
afterAll(async () => {
  await web?.close();
});

describe("posting and reading", () => {
  test("a member's comment shows below the description, in Markdown, escaped", async () => {
    const response = await post(alice, "Works **well**. <script>alert(1)</script> [x](javascript:alert(1))");
    expect(response.status).toBe(303);
    const [id] = await commentIds();
    expect(response.headers.get("location")).toBe(`/torrents/${torrentId}#comment-${id}`);
    const page = await (await web.request(`/torrents/${torrentId}`, { cookie: bob.cookie })).text();
    expect(page).toContain("Comments (1)");
    expect(page).toContain("<strong>well</strong>");
    expect(page).toContain("&lt;script&gt;");
    expect(page).not.toContain("<script>alert");
    expect(page).not.toContain('href="javascript');
    expect(page.indexOf('id="comments"')).toBeGreaterThan(page.indexOf("<h2>Files"));
    // Bob may neither edit nor delete Alice's comment: no buttons for him.
    expect(page).not.toContain(`/comments/${id}/edit`);
    expect(page).not.toContain(`/comments/${id}/delete`);
  });

  test("empty, too long, and on a missing torrent: refused with a message, nothing stored", async () => {
    const before = await commentIds();
    const empty = await post(alice, "   \n ");
    expect(empty.status).toBe(422);
    const emptyPage = await empty.text();
    expect(emptyPage).toContain("Write something first.");
    expect(emptyPage).toContain('action="/torrents/');
    expect((await post(alice, "x".repeat(10001))).status).toBe(422);
    const missing = await post(alice, "hello", 999999);
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain("no torrent");
    const noCsrf = await web.request(`/torrents/${torrentId}/comments`, {
      cookie: alice.cookie,
      form: { body: "x" },
    });
    expect(noCsrf.status).toBe(403);
    expect(await commentIds()).toEqual(before);
  });

  test("25 a page, oldest first; the newest is on the last page, where posting leads", async () => {
    for (let i = 2; i <= 27; i++) {
      const response = await post(bob, `comment number ${i}`);
      expect(response.status).toBe(303);
      if (i === 27)
        expect(response.headers.get("location")).toMatch(
          new RegExp(`^/torrents/${torrentId}\\?cpage=2#comment-\\d+$`),
        );
    }
    const first = await (await web.request(`/torrents/${torrentId}`, { cookie: bob.cookie })).text();
    expect(first).toContain("Comments (27)");
    expect(first).toContain("Page 1 of 2");
    expect(first).toContain("comment number 25");
    expect(first).not.toContain("comment number 26");
    expect(first).toContain(`href="/torrents/${torrentId}?cpage=2#comments"`);
    const second = await (await web.request(`/torrents/${torrentId}?cpage=2`, { cookie: bob.cookie })).text();
    expect(second).toContain("comment number 26");
    expect(second).toContain("comment number 27");
    expect(second).not.toContain("comment number 25");
    // Past the end: the last page.
    expect(
      await (await web.request(`/torrents/${torrentId}?cpage=9`, { cookie: bob.cookie })).text(),
    ).toContain("comment number 27");
  });
});

describe("editing and deleting", () => {
  test("the author edits their own comment; nobody else may", async () => {
    const [id] = await commentIds();
    const form = await web.request(`/comments/${id}/edit`, { cookie: alice.cookie });
    expect(form.status).toBe(200);
    const html = await form.text();
    expect(html).toContain("&lt;script&gt;");
    expect(html).toContain("<strong>well</strong>");
    for (const other of [bob, moderator]) {
      expect((await web.request(`/comments/${id}/edit`, { cookie: other.cookie })).status).toBe(403);
      const refused = await web.request(`/comments/${id}/edit`, {
        cookie: other.cookie,
        form: { _csrf: other.csrf, body: "mine now" },
      });
      expect(refused.status).toBe(403);
    }
    const saved = await web.request(`/comments/${id}/edit`, {
      cookie: alice.cookie,
      form: { _csrf: alice.csrf, body: "Changed *text*" },
    });
    expect(saved.status).toBe(303);
    const [row] = await web.db.sql`select body, edited_at from comments where id = ${id!}`;
    expect(row!.body).toBe("Changed *text*");
    expect(row!.editedAt).not.toBeNull();
    const page = await (await web.request(`/torrents/${torrentId}`, { cookie: alice.cookie })).text();
    expect(page).toContain("<em>text</em>");
    expect(page).toContain("(edited)");
    expect(page).toContain(`/comments/${id}/edit`);
  });

  test("authors delete their own, moderators any, others none", async () => {
    const ids = await commentIds();
    const [aliceComment, bobComment] = [ids[0]!, ids[1]!];
    const del = (who: { cookie: string; csrf: string }, id: number) =>
      web.request(`/comments/${id}/delete`, { cookie: who.cookie, form: { _csrf: who.csrf } });
    expect((await del(bob, aliceComment)).status).toBe(403);
    expect((await del(uploader, aliceComment)).status).toBe(403);
    expect((await del(bob, bobComment)).status).toBe(303);
    const modPage = await (await web.request(`/torrents/${torrentId}`, { cookie: moderator.cookie })).text();
    expect(modPage).toContain(`/comments/${aliceComment}/delete`);
    expect(modPage).not.toContain(`/comments/${aliceComment}/edit`);
    expect((await del(moderator, aliceComment)).status).toBe(303);
    expect((await del(moderator, aliceComment)).status).toBe(404);
    expect(await commentIds()).toEqual(ids.slice(2));
  });
});

describe("the uploader's new comments", () => {
  test("listed on the torrent list until the uploader opens the torrent; their own comments do not count", async () => {
    const list = await (await web.request("/torrents", { cookie: uploader.cookie })).text();
    expect(list).toContain("New comments on your torrents:");
    expect(list).toMatch(new RegExp(`href="/torrents/${torrentId}#comments">Talked about</a> \\(25\\)`));
    // Nobody else sees it.
    expect(await (await web.request("/torrents", { cookie: bob.cookie })).text()).not.toContain(
      "New comments",
    );
    await web.request(`/torrents/${torrentId}`, { cookie: uploader.cookie });
    expect(await (await web.request("/torrents", { cookie: uploader.cookie })).text()).not.toContain(
      "New comments",
    );
    await post(uploader, "Thanks, all");
    expect(await (await web.request("/torrents", { cookie: uploader.cookie })).text()).not.toContain(
      "New comments",
    );
    await post(alice, "You are welcome");
    const again = await (await web.request("/torrents", { cookie: uploader.cookie })).text();
    expect(again).toMatch(
      new RegExp(`href="/torrents/${torrentId}\\?cpage=2#comments">Talked about</a> \\(1\\)`),
    );
  });
});

describe("the throttle", () => {
  test("more than N comments a minute are refused with the time to wait, the text kept", async () => {
    const slow = await webHarness({ FAIRYWREN_COMMENTS_PER_MINUTE: "2" });
    try {
      await slow.member("admin");
      await slow.member("chatty");
      const admin = await slow.login("admin");
      const chatty = await slow.login("chatty");
      const upload = await slow.request("/upload", {
        cookie: admin.cookie,
        form: uploadForm(smallTorrent("Busy"), { _csrf: admin.csrf }),
      });
      const id = Number(/torrents\/(\d+)/.exec(upload.headers.get("location")!)![1]);
      const send = (body: string) =>
        slow.request(`/torrents/${id}/comments`, {
          cookie: chatty.cookie,
          form: { _csrf: chatty.csrf, body },
        });
      expect((await send("one")).status).toBe(303);
      expect((await send("two")).status).toBe(303);
      const third = await send("three, kept");
      expect(third.status).toBe(429);
      const wait = Number(third.headers.get("retry-after"));
      expect(wait).toBeGreaterThanOrEqual(1);
      expect(wait).toBeLessThanOrEqual(60);
      const html = await third.text();
      expect(html).toContain("You are commenting too fast: at most 2 comments a minute.");
      expect(html).toContain("three, kept");
      // Another member is not held back by it.
      expect(
        (
          await slow.request(`/torrents/${id}/comments`, {
            cookie: admin.cookie,
            form: { _csrf: admin.csrf, body: "fine" },
          })
        ).status,
      ).toBe(303);
      const [count] = await slow.db.sql`select count(*)::int as n from comments`;
      expect(count!.n).toBe(3);
    } finally {
      await slow.close();
    }
  });
});
