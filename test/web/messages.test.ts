// Private messages through the pages: conversations between members, the staff inbox any staff
// member reads and answers (the member sees "Staff (name)"), system messages, the header's unread
// count, marking read on view, htmx replies, limits, and who may read what.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sendSystemMessage } from "../../src/web/messages/service.ts";
import { webHarness } from "../helpers/web.ts";

type Session = { cookie: string; csrf: string };
let web: Awaited<ReturnType<typeof webHarness>>;
let admin: Session;
let moderator: Session;
let alice: Session;
let bob: Session;
let carol: Session;
let aliceId: number;
let bobId: number;

function send(who: Session, form: Record<string, string>) {
  return web.request("/messages", { cookie: who.cookie, form: { _csrf: who.csrf, ...form } });
}

function reply(who: Session, id: number, body: string, htmx = false) {
  return web.request(`/messages/${id}/reply`, {
    cookie: who.cookie,
    form: { _csrf: who.csrf, body },
    headers: htmx ? { "hx-request": "true" } : {},
  });
}

async function page(who: Session, path: string): Promise<{ status: number; text: string }> {
  const response = await web.request(path, { cookie: who.cookie });
  return { status: response.status, text: await response.text() };
}

/** The header's unread count on a page, or 0 when the badge is absent. */
function headerCount(html: string): number {
  const match = /id="unread-count"[^>]*>(\d+)</.exec(html);
  return match ? Number(match[1]) : 0;
}

function conversationOf(response: Response): number {
  return Number(/\/messages\/(\d+)/.exec(response.headers.get("location") ?? "")![1]);
}

async function rowCounts() {
  const [row] = await web.db.sql<{ conversations: number; messages: number }[]>`
    select (select count(*)::int from conversations) as conversations,
      (select count(*)::int from messages) as messages
  `;
  return row!;
}

beforeAll(async () => {
  web = await webHarness({ FAIRYWREN_MESSAGES_PER_MINUTE: "100", FAIRYWREN_CONVERSATIONS_PER_DAY: "100" });
  await web.member("admin");
  await web.member("moderator", ["moderate"]);
  aliceId = (await web.member("alice")).id;
  bobId = (await web.member("bob")).id;
  await web.member("carol");
  admin = await web.login("admin");
  moderator = await web.login("moderator");
  alice = await web.login("alice");
  bob = await web.login("bob");
  carol = await web.login("carol");
}, 300000);
afterAll(async () => {
  await web?.close();
});

describe("between members", () => {
  test("alice writes to bob: his header counts it, reading it clears the count, the reply counts for her", async () => {
    expect(headerCount((await page(bob, "/torrents")).text)).toBe(0);
    const sent = await send(alice, { to: "BOB", subject: "Hello <b>bob</b>", body: "Nice **upload**." });
    expect(sent.status).toBe(303);
    const id = conversationOf(sent);
    // Every page's header shows the count.
    expect(headerCount((await page(bob, "/torrents")).text)).toBe(1);
    expect(headerCount((await page(bob, "/account")).text)).toBe(1);
    const list = await page(bob, "/messages");
    expect(list.text).toContain("Hello &lt;b&gt;bob&lt;/b&gt;");
    expect(list.text).toContain("1 new");
    expect(list.text).toContain(">alice<");
    const opened = await page(bob, `/messages/${id}`);
    expect(opened.status).toBe(200);
    expect(opened.text).toContain("<strong>upload</strong>");
    expect(opened.text).not.toContain("<b>bob</b>");
    // Opening it marked it read.
    expect(headerCount((await page(bob, "/torrents")).text)).toBe(0);
    expect(headerCount((await page(alice, "/torrents")).text)).toBe(0);
    const answered = await reply(bob, id, "Thanks!");
    expect(answered.status).toBe(303);
    expect(answered.headers.get("location")).toStartWith(`/messages/${id}#message-`);
    expect(headerCount((await page(alice, "/torrents")).text)).toBe(1);
    const thread = await page(alice, `/messages/${id}`);
    expect(thread.text.indexOf("Nice <strong>upload</strong>")).toBeLessThan(thread.text.indexOf("Thanks!"));
  });

  test("an htmx reply answers with the new message alone", async () => {
    const id = conversationOf(await send(alice, { to: "bob", subject: "htmx", body: "first" }));
    const response = await reply(bob, id, "second _one_", true);
    expect(response.status).toBe(200);
    const fragment = await response.text();
    expect(fragment).toStartWith('<article class="message card"');
    expect(fragment).toContain("<em>one</em>");
    expect(fragment).not.toContain("<html");
  });

  test("nobody else reads or answers a conversation: 404, as for one that does not exist", async () => {
    const id = conversationOf(await send(alice, { to: "bob", subject: "Private", body: "just us" }));
    const before = await rowCounts();
    for (const who of [carol, moderator, admin]) {
      const read = await page(who, `/messages/${id}`);
      expect(read.status).toBe(404);
      expect(read.text).not.toContain("just us");
      expect((await reply(who, id, "intruding")).status).toBe(404);
    }
    expect((await page(carol, "/messages/99999999")).status).toBe(404);
    expect(await rowCounts()).toEqual(before);
    expect((await page(carol, "/messages")).text).not.toContain("Private");
  });

  test("bad input is refused with the form again and changes nothing", async () => {
    const before = await rowCounts();
    const cases: [Record<string, string>, string][] = [
      [{ to: "nobody_here", subject: "s", body: "b" }, "There is no member with this name."],
      [{ to: "alice", subject: "s", body: "b" }, "Write to someone else"],
      [{ to: "bob", subject: "", body: "b" }, "Give the conversation a subject."],
      [{ to: "bob", subject: "s", body: "   " }, "Write a message first."],
      [{ to: "bob", subject: "two\tlines", body: "b" }, "Use one line without control characters."],
    ];
    for (const [form, message] of cases) {
      const response = await send(alice, form);
      expect(response.status).toBe(422);
      expect(await response.text()).toContain(message);
    }
    const long = await send(alice, { to: "bob", subject: "s", body: "x".repeat(10001) });
    expect(long.status).toBe(422);
    expect(await rowCounts()).toEqual(before);
  });

  test("without the CSRF token nothing is sent", async () => {
    const before = await rowCounts();
    const response = await web.request("/messages", {
      cookie: alice.cookie,
      form: { to: "bob", subject: "s", body: "b" },
    });
    expect(response.status).toBe(403);
    expect(await rowCounts()).toEqual(before);
  });
});

describe("the staff inbox", () => {
  test("any staff member reads and answers; the member sees Staff and the name", async () => {
    const sent = await send(carol, { staff: "1", subject: "A question", body: "How do I **seed**?" });
    expect(sent.status).toBe(303);
    const id = conversationOf(sent);
    // Staff see it waiting in their header and inbox; members do not see the inbox.
    expect(headerCount((await page(moderator, "/torrents")).text)).toBeGreaterThanOrEqual(1);
    const inbox = await page(admin, "/messages/staff");
    expect(inbox.status).toBe(200);
    expect(inbox.text).toContain("A question");
    expect(inbox.text).toContain(">carol<");
    const refused = await page(bob, "/messages/staff");
    expect(refused.status).toBe(403);
    expect(refused.text).toContain("Only moderators and administrators read the staff inbox.");
    // The moderator reads it (the staff's count goes), then answers.
    const read = await page(moderator, `/messages/${id}`);
    expect(read.status).toBe(200);
    expect(read.text).toContain("Staff inbox: a conversation with");
    const [waiting] = await web.db.sql<
      { n: number }[]
    >`select staff_unread as n from conversations where id = ${id}`;
    expect(waiting!.n).toBe(0);
    expect((await reply(moderator, id, "Keep your client open.")).status).toBe(303);
    const seen = await page(carol, `/messages/${id}`);
    expect(seen.text).toContain("Staff (moderator)");
    expect(seen.text).toContain("Keep your client open.");
    // Another staff member reads the same conversation; other members do not.
    expect((await page(admin, `/messages/${id}`)).text).toContain("Staff (moderator)");
    expect((await page(bob, `/messages/${id}`)).status).toBe(404);
    // Carol's answer waits for the staff again.
    expect((await reply(carol, id, "Thanks")).status).toBe(303);
    const [again] = await web.db.sql<
      { n: number }[]
    >`select staff_unread as n from conversations where id = ${id}`;
    expect(again!.n).toBe(1);
  });

  test("a system message reaches the member as from System, and they may answer the staff", async () => {
    const id = await sendSystemMessage(web.db.sql, {
      toUserId: bobId,
      subject: "A warning",
      body: "Please **seed** what you download.",
    });
    const before = headerCount((await page(bob, "/torrents")).text);
    expect(before).toBeGreaterThanOrEqual(1);
    const opened = await page(bob, `/messages/${id}`);
    expect(opened.text).toContain(">System<");
    expect(opened.text).toContain("<strong>seed</strong>");
    expect(headerCount((await page(bob, "/torrents")).text)).toBe(before - 1);
    expect((await reply(bob, id, "Sorry, I will.")).status).toBe(303);
    expect((await page(admin, "/messages/staff")).text).toContain("A warning");
  });

  test("granting a role sends the member a system message", async () => {
    const [target] = await web.db.sql<{ id: number }[]>`select id from users where name = 'alice'`;
    const before = await web.db.sql`select id from conversations where kind = 'staff'`;
    const granted = await web.request(`/admin/users/${aliceId}/roles`, {
      cookie: admin.cookie,
      form: { _csrf: admin.csrf, role: "upload", action: "grant" },
    });
    expect(granted.status).toBeLessThan(400);
    const [held] = await web.db
      .sql`select 1 from user_roles where user_id = ${target!.id} and role = 'upload'`;
    expect(held).toBeDefined();
    const after = await web.db.sql<{ id: number }[]>`
      select c.id from conversations c join conversation_members m on m.conversation_id = c.id
      where c.kind = 'staff' and m.user_id = ${aliceId} and c.subject = 'You now hold the upload role'
    `;
    expect(after.length).toBe(1);
    expect((await web.db.sql`select id from conversations where kind = 'staff'`).length).toBe(
      before.length + 1,
    );
    const list = await page(alice, "/messages");
    expect(list.text).toContain("You now hold the upload role");
  });
});

describe("limits", () => {
  test("members are throttled per minute (429 with the time to wait); nothing is stored", async () => {
    const slow = await webHarness({
      FAIRYWREN_MESSAGES_PER_MINUTE: "2",
      FAIRYWREN_CONVERSATIONS_PER_DAY: "2",
    });
    try {
      await slow.member("root");
      await slow.member("dave");
      await slow.member("erin");
      const dave = await slow.login("dave");
      const go = (subject: string) =>
        slow.request("/messages", {
          cookie: dave.cookie,
          form: { _csrf: dave.csrf, to: "erin", subject, body: "hi" },
        });
      expect((await go("one")).status).toBe(303);
      expect((await go("two")).status).toBe(303);
      const third = await go("three");
      expect(third.status).toBe(429);
      expect(Number(third.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect(await third.text()).toContain("You are sending messages too fast: at most 2 a minute.");
      const [n] = await slow.db.sql<{ n: number }[]>`select count(*)::int as n from conversations`;
      expect(n!.n).toBe(2);
      // The day's limit: two conversations already started today (the minute's messages moved back).
      await slow.db.sql`update messages set created_at = created_at - interval '2 minutes'`;
      const day = await go("four");
      expect(day.status).toBe(429);
      expect(await day.text()).toContain("You started 2 conversations today, the most allowed");
    } finally {
      await slow.close();
    }
  });
});
