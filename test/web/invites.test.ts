import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createInvite, MAX_PENDING_INVITES } from "../../src/db/queries/invites.ts";
import { hashSecret } from "../../src/shared/secrets.ts";
import { webHarness } from "../helpers/web.ts";

const SITE = "https://site.example";

let web: Awaited<ReturnType<typeof webHarness>>;
let inviter: { cookie: string; csrf: string };
let inviterId: number;

beforeAll(async () => {
  web = await webHarness({ FAIRYWREN_SITE_URL: SITE });
  await web.member("root");
  inviterId = (await web.member("ivy", ["invite"])).id;
  await web.member("plain");
  await web.member("alice");
  inviter = await web.login("ivy");
}, 60000);
afterAll(async () => {
  await web?.close();
});

/** Creates an invite through the page and returns its secret, read from the link shown once. */
async function newInvite(who = inviter, days = "7"): Promise<string> {
  const response = await web.request("/invites", { cookie: who.cookie, form: { _csrf: who.csrf, days } });
  expect(response.status).toBe(201);
  const match = (await response.text()).match(/https:\/\/site\.example\/register\/([A-Za-z0-9_-]{43})</);
  expect(match).not.toBeNull();
  return match![1]!;
}

let registrations = 0;
/** Each try from its own address: registration is limited per address (tested separately below). */
function register(secret: string, form: Record<string, string>, cookie?: string) {
  registrations++;
  return web.request(`/register/${secret}`, {
    cookie,
    form,
    ip: `198.18.${registrations >> 8}.${registrations & 255}`,
  });
}

function cookieOf(response: Response): string {
  return response.headers.get("set-cookie")!.split(";")[0]!;
}

describe("invites page", () => {
  test("logged-out visitors are sent to log in, members without the role get 403", async () => {
    const out = await web.request("/invites");
    expect(out.status).toBe(303);
    expect(out.headers.get("location")).toBe("/login?next=%2Finvites");
    const outPost = await web.request("/invites", { form: { days: "7" } });
    expect(outPost.status).toBe(303);
    expect(outPost.headers.get("location")).toBe("/login?next=%2Finvites");
    const plain = await web.login("plain");
    const get = await web.request("/invites", { cookie: plain.cookie });
    expect(get.status).toBe(403);
    expect(await get.text()).toContain("invite role");
    const post = await web.request("/invites", {
      cookie: plain.cookie,
      form: { _csrf: plain.csrf, days: "7" },
    });
    expect(post.status).toBe(403);
    const revoke = await web.request("/invites/1/revoke", {
      cookie: plain.cookie,
      form: { _csrf: plain.csrf },
    });
    expect(revoke.status).toBe(403);
    const [row] = await web.db.sql`select count(*)::int as n from invites`;
    expect(row!.n).toBe(0);
  });

  test("the form offers 1 to 30 days, 7 by default", async () => {
    const response = await web.request("/invites", { cookie: inviter.cookie });
    expect(response.status).toBe(200);
    const page = await response.text();
    expect(page).toContain('name="days" value="7"');
    expect(page).toContain('min="1"');
    expect(page).toContain('max="30"');
    expect(page).toContain(`name="_csrf" value="${inviter.csrf}"`);
  });

  test("a day count out of range is refused next to its field", async () => {
    for (const days of ["0", "31", "abc", "2.5", ""]) {
      const response = await web.request("/invites", {
        cookie: inviter.cookie,
        form: { _csrf: inviter.csrf, days },
      });
      expect(response.status).toBe(422);
      expect(await response.text()).toContain('id="days-error"');
    }
    const [row] = await web.db.sql`select count(*)::int as n from invites`;
    expect(row!.n).toBe(0);
  });

  test("without the CSRF token nothing is created", async () => {
    const response = await web.request("/invites", { cookie: inviter.cookie, form: { days: "7" } });
    expect(response.status).toBe(403);
    const [row] = await web.db.sql`select count(*)::int as n from invites`;
    expect(row!.n).toBe(0);
  });

  test("creating shows the whole link once; only its hash is stored", async () => {
    const secret = await newInvite(inviter, "3");
    const [row] = await web.db.sql`
      select inviter_id, secret_hash, extract(epoch from expires_at - created_at)::int as seconds from invites
    `;
    expect(row!.inviterId).toBe(inviterId);
    expect(Buffer.from(row!.secretHash).equals(hashSecret(secret))).toBe(true);
    expect(row!.seconds).toBe(3 * 86400);
    const list = await (await web.request("/invites", { cookie: inviter.cookie })).text();
    expect(list).not.toContain(secret);
    expect(list).toContain(`/invites/`);
    expect(list).toContain("Revoke");
  });

  test("the link carries the reverse-proxy prefix", async () => {
    const response = await web.request("/invites", {
      cookie: inviter.cookie,
      form: { _csrf: inviter.csrf, days: "1" },
      base: "/tracker",
    });
    expect(response.status).toBe(201);
    expect(await response.text()).toMatch(/https:\/\/site\.example\/tracker\/register\/[A-Za-z0-9_-]{43}</);
  });
});

describe("revoking", () => {
  test("revokes an own open invite, whose link then says so", async () => {
    const secret = await newInvite();
    const [row] = await web.db.sql`select id from invites where secret_hash = ${hashSecret(secret)}`;
    const response = await web.request(`/invites/${row!.id}/revoke`, {
      cookie: inviter.cookie,
      form: { _csrf: inviter.csrf },
    });
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/invites");
    const link = await web.request(`/register/${secret}`);
    expect(link.status).toBe(410);
    expect(await link.text()).toContain("revoked");
    const posted = await register(secret, { name: "late", password: "password123", confirm: "password123" });
    expect(posted.status).toBe(410);
    const again = await web.request(`/invites/${row!.id}/revoke`, {
      cookie: inviter.cookie,
      form: { _csrf: inviter.csrf },
    });
    expect(again.status).toBe(404);
  });

  test("someone else's invite, a missing one or a malformed id is 404", async () => {
    const secret = await newInvite();
    const [row] = await web.db.sql`select id from invites where secret_hash = ${hashSecret(secret)}`;
    const root = await web.login("root");
    for (const id of [String(row!.id), "999999", "abc", "0"]) {
      const response = await web.request(`/invites/${id}/revoke`, {
        cookie: root.cookie,
        form: { _csrf: root.csrf },
      });
      expect(response.status).toBe(404);
    }
    const [still] = await web.db.sql`select revoked_at from invites where id = ${row!.id}`;
    expect(still!.revokedAt).toBeNull();
    const logged = await web.request(`/invites/${row!.id}/revoke`, { form: {} });
    expect(logged.status).toBe(303);
    expect(logged.headers.get("location")).toStartWith("/login?next=");
  });
});

describe("registering", () => {
  test("full lifecycle: register, logged in, shown as used, second use refused", async () => {
    const secret = await newInvite();
    const form = await web.request(`/register/${secret}`);
    expect(form.status).toBe(200);
    const formPage = await form.text();
    expect(formPage).toContain("invited by <strong>ivy</strong>");
    expect(formPage).toContain(`action="/register/${secret}"`);

    const sentBefore = web.sent.length;
    const response = await register(secret, {
      name: "newbie",
      password: "correct horse",
      confirm: "correct horse",
    });
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/");
    const cookie = cookieOf(response);

    const [user] = await web.db.sql`
      select id, invited_by, array(select role from user_roles where user_id = users.id) as roles
      from users where name = 'newbie'
    `;
    expect(user!.invitedBy).toBe(inviterId);
    expect(user!.roles).toEqual(["upload"]);
    const [invite] = await web.db
      .sql`select invitee_id, claimed_at from invites where secret_hash = ${hashSecret(secret)}`;
    expect(invite!.inviteeId).toBe(user!.id);
    expect(invite!.claimedAt).toBeInstanceOf(Date);
    // The tracker hears of the new member at once.
    const message = web.sent.slice(sentBefore).find((m) => m.kind === "user-upsert");
    expect(message).toMatchObject({ kind: "user-upsert", user: { id: user!.id, disabled: false } });

    // The cookie is a live session.
    const account = await web.request("/account", { cookie });
    expect(account.status).toBe(200);
    expect(await account.text()).toContain("<h1>newbie</h1>");

    const list = await (await web.request("/invites", { cookie: inviter.cookie })).text();
    expect(list).toMatch(/Used invites[\s\S]*newbie/);

    const reuse = await web.request(`/register/${secret}`);
    expect(reuse.status).toBe(410);
    expect(await reuse.text()).toContain("already used");
    const repost = await register(secret, {
      name: "second",
      password: "password123",
      confirm: "password123",
    });
    expect(repost.status).toBe(410);
    expect(await repost.text()).toContain("already used");
    expect(await web.db.sql`select 1 from users where name = 'second'`).toHaveLength(0);
  });

  test("an expired link is refused", async () => {
    const secret = await newInvite();
    await web.db
      .sql`update invites set expires_at = now() - interval '1 minute' where secret_hash = ${hashSecret(secret)}`;
    const response = await web.request(`/register/${secret}`);
    expect(response.status).toBe(410);
    expect(await response.text()).toContain("expired");
    const posted = await register(secret, { name: "tardy", password: "password123", confirm: "password123" });
    expect(posted.status).toBe(410);
    expect(await web.db.sql`select 1 from users where name = 'tardy'`).toHaveLength(0);
    // Expired invites no longer count as open.
    const list = await (await web.request("/invites", { cookie: inviter.cookie })).text();
    expect(list).not.toContain("tardy");
  });

  test("an unknown link is 404", async () => {
    const response = await web.request(`/register/${"x".repeat(43)}`);
    expect(response.status).toBe(404);
    expect(await response.text()).toContain("Unknown invite");
    const long = await web.request(`/register/${"x".repeat(500)}`);
    expect(long.status).toBe(404);
    const posted = await register("nope", {
      name: "nobody",
      password: "password123",
      confirm: "password123",
    });
    expect(posted.status).toBe(404);
  });

  test("each problem is shown next to its field, and a hostile name is escaped", async () => {
    const secret = await newInvite();
    const hostile = '"><script>alert(1)</script>';
    const response = await register(secret, { name: hostile, password: "short", confirm: "other" });
    expect(response.status).toBe(422);
    const page = await response.text();
    // Kept in the name field, with the quote escaped so it cannot close the attribute.
    expect(page).not.toContain(hostile);
    expect(page).toMatch(/value="(&#34;|&quot;)><script>alert\(1\)<\/script>"/);
    expect(page).toContain('id="name-error"');
    expect(page).toContain('id="password-error"');
    expect(page).toContain("at least 8");

    const mismatch = await register(secret, {
      name: "okname",
      password: "password123",
      confirm: "password124",
    });
    expect(mismatch.status).toBe(422);
    const mismatchPage = await mismatch.text();
    expect(mismatchPage).toContain('id="confirm-error"');
    expect(mismatchPage).toContain('value="okname"');

    // A taken name, in another case.
    const taken = await register(secret, { name: "ALICE", password: "password123", confirm: "password123" });
    expect(taken.status).toBe(422);
    const takenPage = await taken.text();
    expect(takenPage).toContain("This name is taken");
    expect(takenPage).toContain('id="name-error"');

    // None of it used the invite.
    const [invite] = await web.db
      .sql`select claimed_at from invites where secret_hash = ${hashSecret(secret)}`;
    expect(invite!.claimedAt).toBeNull();
    expect((await web.request(`/register/${secret}`)).status).toBe(200);
  });

  test("two registrations through one link at once: exactly one succeeds", async () => {
    const secret = await newInvite();
    const responses = await Promise.all(
      ["racer1", "racer2", "racer3"].map((name) =>
        register(secret, { name, password: "password123", confirm: "password123" }),
      ),
    );
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).toEqual([303, 410, 410]);
    const users = await web.db.sql`select name from users where name like 'racer%'`;
    expect(users).toHaveLength(1);
    const [invite] = await web.db.sql`
      select u.name from invites i join users u on u.id = i.invitee_id where i.secret_hash = ${hashSecret(secret)}
    `;
    expect(invite!.name).toBe(users[0]!.name);
  });

  test("a logged-in member can open a link and register another account", async () => {
    const secret = await newInvite();
    const alice = await web.login("alice");
    const form = await web.request(`/register/${secret}`, { cookie: alice.cookie });
    expect(form.status).toBe(200);
    expect(await form.text()).toContain(`name="_csrf" value="${alice.csrf}"`);
    const response = await register(
      secret,
      { _csrf: alice.csrf, name: "alice2", password: "password123", confirm: "password123" },
      alice.cookie,
    );
    expect(response.status).toBe(303);
    const account = await web.request("/account", { cookie: cookieOf(response) });
    expect(await account.text()).toContain("<h1>alice2</h1>");
  });

  test(`at most ${MAX_PENDING_INVITES} open invites per member`, async () => {
    await web.member("busy", ["invite"]);
    const busy = await web.login("busy");
    const [row] = await web.db.sql`select id from users where name = 'busy'`;
    for (let i = 0; i < MAX_PENDING_INVITES - 1; i++)
      await createInvite(web.db.sql, { inviterId: row!.id, days: 7 });
    await newInvite(busy);
    const refused = await web.request("/invites", {
      cookie: busy.cookie,
      form: { _csrf: busy.csrf, days: "7" },
    });
    expect(refused.status).toBe(409);
    expect(await refused.text()).toContain("the most allowed");
    const [count] = await web.db.sql`select count(*)::int as n from invites where inviter_id = ${row!.id}`;
    expect(count!.n).toBe(MAX_PENDING_INVITES);
    // A used-up slot frees once an invite is revoked.
    const [first] = await web.db
      .sql`select id from invites where inviter_id = ${row!.id} order by id limit 1`;
    const revoked = await web.request(`/invites/${first!.id}/revoke`, {
      cookie: busy.cookie,
      form: { _csrf: busy.csrf },
    });
    expect(revoked.status).toBe(303);
    await newInvite(busy);
  });
});

describe("bootstrap invite", () => {
  test("with no members, an invite without inviter makes the first member, with every role", async () => {
    const empty = await webHarness();
    try {
      const invite = await createInvite(empty.db.sql, { inviterId: null, days: 7 });
      expect(invite.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(invite.expiresAt.getTime()).toBeGreaterThan(Date.now() + 6.9 * 86400_000);
      const form = await empty.request(`/register/${invite.secret}`);
      expect(form.status).toBe(200);
      const response = await empty.request(`/register/${invite.secret}`, {
        form: { name: "founder", password: "password123", confirm: "password123" },
      });
      expect(response.status).toBe(303);
      const [user] = await empty.db.sql`
        select invited_by, array(select role from user_roles where user_id = users.id order by role) as roles
        from users where name = 'founder'
      `;
      expect(user!.invitedBy).toBeNull();
      expect(user!.roles).toEqual(["admin", "invite", "moderate", "trusted", "upload"]);
      const admin = await empty.request("/admin/users", { cookie: cookieOf(response) });
      expect(admin.status).toBe(200);
    } finally {
      await empty.close();
    }
  });
});

describe("registration throttle", () => {
  test("an address gets 10 registration tries in 10 minutes, then 429 with Retry-After", async () => {
    const secret = await newInvite();
    const form = { name: "x", password: "short", confirm: "short" };
    for (let i = 0; i < 10; i++) {
      const response = await web.request(`/register/${secret}`, { form, ip: "203.0.113.200" });
      expect(response.status).toBe(422);
    }
    const refused = await web.request(`/register/${secret}`, { form, ip: "203.0.113.200" });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await refused.text()).toContain("Too many registration attempts");
    const other = await web.request(`/register/${secret}`, { form, ip: "203.0.113.201" });
    expect(other.status).toBe(422);
  });
});
