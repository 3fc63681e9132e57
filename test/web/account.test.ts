import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { webHarness } from "../helpers/web.ts";

const TRACKER = "https://tracker.example";

let web: Awaited<ReturnType<typeof webHarness>>;
let bobId: number;

beforeAll(async () => {
  web = await webHarness({ FAIRYWREN_TRACKER_URL: TRACKER });
  const root = await web.member("root");
  const bob = await web.member("bob");
  bobId = bob.id;
  await web.db.sql`update users set invited_by = ${root.id} where id = ${bob.id}`;
  await web.member("carol");
}, 60000);
afterAll(async () => {
  await web?.close();
});

let hashByte = 0;
async function torrent(title: string, creatorId: number | null, size = 1024): Promise<number> {
  const hash = Buffer.alloc(20, ++hashByte);
  const [row] = await web.db.sql`
    insert into torrents (info_hash, title, size, files, creator_id, metainfo)
    values (${hash}, ${title}, ${size}, ${web.db.sql.json([{ path: "f", length: size }])}, ${creatorId}, ${Buffer.from("d4:infodee")})
    returning id
  `;
  return row!.id as number;
}

async function passkeyOf(id: number): Promise<string> {
  const [row] = await web.db.sql`select passkey from users where id = ${id}`;
  return row!.passkey as string;
}

describe("account page", () => {
  test("logged-out visitors are sent to log in", async () => {
    for (const [method, path] of [
      ["GET", "/account"],
      ["POST", "/account/passkey"],
      ["POST", "/account/password"],
    ] as const) {
      const form = { old: "password123", password: "newpassword1", confirm: "newpassword1" };
      const response = await web.request(path, { method, form: method === "POST" ? form : undefined });
      expect(response.status).toBe(303);
      expect(response.headers.get("location")).toBe("/login?next=%2Faccount");
    }
    const prefixed = await web.request("/account", { base: "/t" });
    expect(prefixed.headers.get("location")).toBe("/t/login?next=%2Ft%2Faccount");
  });

  test("shows totals, ratio, snatches, inviter, announce URL and own uploads", async () => {
    const { cookie } = await web.login("bob");
    let page = await (await web.request("/account", { cookie })).text();
    expect(page).toContain("<h1>bob</h1>");
    expect(page).toContain(`${TRACKER}/${await passkeyOf(bobId)}/announce`);
    expect(page).toMatch(/<dt>Ratio<\/dt><dd>—<\/dd>/);
    expect(page).toMatch(/<dt>Invited by<\/dt><dd><a class="member" href="\/users\/root">root<\/a><\/dd>/);
    expect(page).toContain("You have not uploaded any torrent.");

    const mine = await torrent("<img src=x onerror=alert(1)> Bob's upload", bobId, 3 * 1024 * 1024);
    const other = await torrent("Someone else's", null);
    await web.db.sql`update users set uploaded = ${2 * 1024 ** 3}, downloaded = 0 where id = ${bobId}`;
    await web.db.sql`
      insert into user_torrent_stats (user_id, torrent_id, downloaded, completed_at)
      values (${bobId}, ${mine}, 10, now()), (${bobId}, ${other}, 10, null)
    `;
    page = await (await web.request("/account", { cookie })).text();
    expect(page).toMatch(/<dt>Ratio<\/dt><dd>∞<\/dd>/);
    expect(page).toMatch(/<dt>Uploaded<\/dt><dd title="2,147,483,648 bytes">2\.00 GiB<\/dd>/);
    expect(page).toMatch(/<dt>Snatches<\/dt><dd>1<\/dd>/);
    expect(page).toContain(`href="/torrents/${mine}"`);
    expect(page).not.toContain(`href="/torrents/${other}"`);
    expect(page).not.toContain("<img src=x");
    expect(page).toContain("&lt;img src=x onerror=alert(1)&gt;");
    expect(page).toContain("3.00 MiB");

    await web.db.sql`update users set uploaded = 300, downloaded = 200 where id = ${bobId}`;
    page = await (await web.request("/account", { cookie })).text();
    expect(page).toMatch(/<dt>Ratio<\/dt><dd>1\.50<\/dd>/);
  });
});

describe("passkey", () => {
  test("a new passkey is stored, sent to the tracker and announced on the page", async () => {
    const { cookie, csrf } = await web.login("bob");
    const before = await passkeyOf(bobId);
    const sentBefore = web.sent.length;
    const response = await web.request("/account/passkey", { cookie, form: { _csrf: csrf } });
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/account?done=passkey");
    const after = await passkeyOf(bobId);
    expect(after).toMatch(/^[0-9a-f]{32}$/);
    expect(after).not.toBe(before);
    expect(web.sent.slice(sentBefore)).toEqual([
      {
        kind: "user-upsert",
        user: { id: bobId, passkey: after, disabled: false, downloadsPaused: false, warningsPaused: false },
      },
    ]);
    const page = await (await web.request(response.headers.get("location")!, { cookie })).text();
    expect(page).toContain("Your passkey changed: download your .torrent files again");
    expect(page).toContain(`${TRACKER}/${after}/announce`);
    expect(page).not.toContain(before);
  });

  test("without the CSRF token the passkey stays", async () => {
    const { cookie } = await web.login("bob");
    const before = await passkeyOf(bobId);
    const sentBefore = web.sent.length;
    const response = await web.request("/account/passkey", { cookie, form: {} });
    expect(response.status).toBe(403);
    expect(await passkeyOf(bobId)).toBe(before);
    expect(web.sent.length).toBe(sentBefore);
  });
});

describe("password", () => {
  const change = (s: { cookie: string; csrf: string }, old: string, password: string, confirm = password) =>
    web.request("/account/password", { cookie: s.cookie, form: { _csrf: s.csrf, old, password, confirm } });

  test("a wrong current password, a short one or a mismatch is refused next to its field", async () => {
    const session = await web.login("carol");
    const wrong = await change(session, "not my password", "newpassword1");
    expect(wrong.status).toBe(422);
    const wrongPage = await wrong.text();
    expect(wrongPage).toContain('id="old-error"');
    expect(wrongPage).toContain("not your current password");

    const short = await change(session, "password123", "short");
    expect(short.status).toBe(422);
    expect(await short.text()).toContain('id="password-error"');

    const mismatch = await change(session, "password123", "newpassword1", "newpassword2");
    expect(mismatch.status).toBe(422);
    expect(await mismatch.text()).toContain('id="confirm-error"');

    const empty = await change(session, "", "newpassword1");
    expect(empty.status).toBe(422);
    expect(await empty.text()).toContain("Enter your current password.");

    // Nothing changed: the old password still logs in.
    await web.login("carol");
  });

  test("a change ends the other sessions and keeps this one", async () => {
    const older = await web.login("carol");
    const current = await web.login("carol");
    const response = await change(current, "password123", "a brand new secret");
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/account?done=password");

    const stale = await web.request("/account", { cookie: older.cookie });
    expect(stale.status).toBe(303);
    expect(stale.headers.get("location")).toStartWith("/login");
    const kept = await web.request("/account?done=password", { cookie: current.cookie });
    expect(kept.status).toBe(200);
    expect(await kept.text()).toContain("Your password changed");

    const oldLogin = await web.request("/login", { form: { name: "carol", password: "password123" } });
    expect(oldLogin.status).toBe(401);
    await web.login("carol", "a brand new secret");
  });

  test("repeated wrong current passwords are throttled like log-ins", async () => {
    await web.member("dave");
    const session = await web.login("dave");
    for (let i = 0; i < 5; i++)
      expect((await change(session, "wrong guess", "newpassword1")).status).toBe(422);
    const throttled = await change(session, "password123", "newpassword1");
    expect(throttled.status).toBe(429);
    expect(await throttled.text()).toContain("Too many wrong passwords");
  });
});
