import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { MEMBERS_PER_PAGE } from "../../src/web/members/service.ts";
import { webHarness } from "../helpers/web.ts";

let web: Awaited<ReturnType<typeof webHarness>>;
let rootId: number;
let bobId: number;
let modId: number;
let root: { cookie: string; csrf: string };
let mod: { cookie: string; csrf: string };

beforeAll(async () => {
  web = await webHarness();
  rootId = (await web.member("root")).id;
  modId = (await web.member("mod", ["moderate"])).id;
  bobId = (await web.member("bob", ["upload"])).id;
  await web.member("a_b");
  await web.member("axb");
  root = await web.login("root");
  mod = await web.login("mod");
}, 60000);
afterAll(async () => {
  await web?.close();
});

async function rolesOf(id: number): Promise<string[]> {
  const rows = await web.db.sql`select role from user_roles where user_id = ${id} order by role`;
  return rows.map((r) => r.role as string);
}

describe("member list", () => {
  test("logged out: log in first; without moderate or admin: 403", async () => {
    const out = await web.request("/admin/users");
    expect(out.status).toBe(303);
    expect(out.headers.get("location")).toBe("/login?next=%2Fadmin%2Fusers");
    const detail = await web.request(`/admin/users/${bobId}`);
    expect(detail.headers.get("location")).toBe(`/login?next=%2Fadmin%2Fusers%2F${bobId}`);
    const bob = await web.login("bob");
    for (const path of ["/admin/users", `/admin/users/${bobId}`]) {
      const response = await web.request(path, { cookie: bob.cookie });
      expect(response.status).toBe(403);
      expect(await response.text()).toContain("Not allowed");
    }
  });

  test("lists members with roles, inviter and state", async () => {
    await web.db.sql`update users set invited_by = ${rootId} where id = ${bobId}`;
    const response = await web.request("/admin/users", { cookie: mod.cookie });
    expect(response.status).toBe(200);
    const page = await response.text();
    expect(page).toContain(`href="/admin/users/${bobId}">bob</a>`);
    expect(page).toMatch(/data-label="Roles">admin, invite, moderate, trusted, upload</);
    expect(page).toMatch(
      /bob<\/a> <a class="muted" href="\/users\/bob">profile<\/a><\/td><td data-label="Roles">upload<\/td>[\s\S]*?data-label="Invited by">root</,
    );
  });

  test("search matches part of a name, with % and _ taken literally", async () => {
    const page = await (await web.request("/admin/users?q=A_B", { cookie: mod.cookie })).text();
    expect(page).toContain(">a_b</a>");
    expect(page).not.toContain(">axb</a>");
    const percent = await (await web.request("/admin/users?q=%25", { cookie: mod.cookie })).text();
    expect(percent).toContain("No member's name contains this.");
    const part = await (await web.request("/admin/users?q=O", { cookie: mod.cookie })).text();
    expect(part).toContain(">bob</a>");
    expect(part).toContain(">root</a>");
    expect(part).not.toContain(">axb</a>");
  });

  test("sorted by join date or totals, either way, with the order kept by the pager and the form", async () => {
    await web.db.sql`update users set uploaded = 500 where id = ${bobId}`;
    await web.db.sql`update users set uploaded = 10 where id = ${rootId}`;
    const names = (page: string) =>
      [...page.matchAll(/href="\/admin\/users\/\d+">([^<]+)<\/a>/g)].map((m) => m[1]);
    const byUpload = await (
      await web.request("/admin/users?sort=uploaded&order=desc", { cookie: mod.cookie })
    ).text();
    expect(names(byUpload).slice(0, 2)).toEqual(["bob", "root"]);
    expect(byUpload).toContain('<option value="uploaded" selected>Uploaded</option>');
    expect(byUpload).toContain('<option value="desc" selected>Descending</option>');
    const ascending = await (await web.request("/admin/users?sort=uploaded", { cookie: mod.cookie })).text();
    expect(names(ascending).indexOf("root")).toBeLessThan(names(ascending).indexOf("bob"));
    const joined = await (await web.request("/admin/users?sort=joined", { cookie: mod.cookie })).text();
    expect(names(joined)[0]).toBe("root");
    // An unknown order is the default one, not an error.
    const unknown = await web.request("/admin/users?sort=passkey&order=sideways", { cookie: mod.cookie });
    expect(unknown.status).toBe(200);
    expect(await unknown.text()).toContain('<option value="name" selected>Name</option>');
  });

  test("names are escaped", async () => {
    await web.db.sql`
      insert into users (name, password_hash, passkey)
      values ('<b>bold</b>', 'x', ${"f".repeat(32)})
    `;
    const page = await (await web.request("/admin/users?q=bold", { cookie: mod.cookie })).text();
    expect(page).not.toContain("<b>bold</b>");
    expect(page).toContain("&lt;b&gt;bold&lt;/b&gt;");
  });

  test(`pages of ${MEMBERS_PER_PAGE}`, async () => {
    await web.db.sql`
      insert into users (name, password_hash, passkey)
      select 'filler' || lpad(n::text, 3, '0'), 'x', md5(n::text) from generate_series(1, 60) n
    `;
    const first = await (await web.request("/admin/users?q=filler", { cookie: mod.cookie })).text();
    expect(first.match(/href="\/admin\/users\/\d+">filler/g)).toHaveLength(MEMBERS_PER_PAGE);
    expect(first).toMatch(/href="\/admin\/users\?q=filler&(amp;)?page=2"/);
    const second = await (await web.request("/admin/users?q=filler&page=2", { cookie: mod.cookie })).text();
    expect(second.match(/href="\/admin\/users\/\d+">filler/g)).toHaveLength(60 - MEMBERS_PER_PAGE);
    expect(second).toContain(">filler060</a>");
    expect(second).not.toContain("page=3");
  });

  test("a missing or malformed member id is 404", async () => {
    for (const id of ["999999", "abc", "0", "1.5"]) {
      const response = await web.request(`/admin/users/${id}`, { cookie: mod.cookie });
      expect(response.status).toBe(404);
    }
  });
});

describe("roles", () => {
  const post = (s: { cookie: string; csrf: string }, id: number | string, role: string, action: string) =>
    web.request(`/admin/users/${id}/roles`, { cookie: s.cookie, form: { _csrf: s.csrf, role, action } });

  test("an admin grants and revokes; the tracker is told each time", async () => {
    let sentBefore = web.sent.length;
    const granted = await post(root, bobId, "invite", "grant");
    expect(granted.status).toBe(303);
    expect(granted.headers.get("location")).toBe(`/admin/users/${bobId}?done=grant&role=invite`);
    expect(await rolesOf(bobId)).toEqual(["invite", "upload"]);
    expect(web.sent.slice(sentBefore)).toEqual([
      { kind: "user-upsert", user: expect.objectContaining({ id: bobId, disabled: false }) },
    ]);
    const [row] = await web.db
      .sql`select granted_by from user_roles where user_id = ${bobId} and role = 'invite'`;
    expect(row!.grantedBy).toBe(rootId);
    const page = await (await web.request(granted.headers.get("location")!, { cookie: root.cookie })).text();
    expect(page).toContain("Granted the invite role.");
    expect(page).toContain("Revoke invite");

    sentBefore = web.sent.length;
    const revoked = await post(root, bobId, "upload", "revoke");
    expect(revoked.status).toBe(303);
    expect(await rolesOf(bobId)).toEqual(["invite"]);
    expect(web.sent.slice(sentBefore)).toHaveLength(1);
    expect(web.sent.at(-1)).toMatchObject({ kind: "user-upsert", user: { id: bobId } });
    // Granting twice changes nothing and is no error.
    expect((await post(root, bobId, "invite", "grant")).status).toBe(303);
    expect(await rolesOf(bobId)).toEqual(["invite"]);
  });

  test("an admin cannot revoke their own admin role", async () => {
    const response = await post(root, rootId, "admin", "revoke");
    expect(response.status).toBe(409);
    expect(await response.text()).toContain("You cannot revoke your own admin role");
    expect(await rolesOf(rootId)).toContain("admin");
    // Other roles of their own are fine.
    expect((await post(root, rootId, "upload", "revoke")).status).toBe(303);
    expect((await post(root, rootId, "upload", "grant")).status).toBe(303);
  });

  test("a moderator, a plain member or a visitor cannot change roles", async () => {
    expect((await post(mod, bobId, "admin", "grant")).status).toBe(403);
    const bob = await web.login("bob");
    expect((await post(bob, bobId, "admin", "grant")).status).toBe(403);
    const out = await web.request(`/admin/users/${bobId}/roles`, {
      form: { role: "admin", action: "grant" },
    });
    expect(out.status).toBe(303);
    expect(out.headers.get("location")).toStartWith("/login?next=");
    expect(await rolesOf(bobId)).not.toContain("admin");
    // A moderator's page shows no role buttons.
    const page = await (await web.request(`/admin/users/${bobId}`, { cookie: mod.cookie })).text();
    expect(page).not.toContain("Grant admin");
  });

  test("an unknown role or action is 422, a missing member 404, a missing token 403", async () => {
    expect((await post(root, bobId, "superuser", "grant")).status).toBe(422);
    expect((await post(root, bobId, "upload", "toggle")).status).toBe(422);
    expect((await post(root, 999999, "upload", "grant")).status).toBe(404);
    expect((await post(root, "abc", "upload", "grant")).status).toBe(404);
    const noToken = await web.request(`/admin/users/${bobId}/roles`, {
      cookie: root.cookie,
      form: { role: "admin", action: "grant" },
    });
    expect(noToken.status).toBe(403);
    expect(await rolesOf(bobId)).not.toContain("admin");
  });
});

describe("disable and enable", () => {
  test("a moderator disables a member: sessions end, the tracker refuses them; enabling undoes it", async () => {
    await web.member("eve", ["upload"]);
    const [eve] = await web.db.sql`select id, passkey from users where name = 'eve'`;
    const eveId = eve!.id as number;
    const session = await web.login("eve");
    expect((await web.request("/account", { cookie: session.cookie })).status).toBe(200);

    let sentBefore = web.sent.length;
    const disabled = await web.request(`/admin/users/${eveId}/disable`, {
      cookie: mod.cookie,
      form: { _csrf: mod.csrf },
    });
    expect(disabled.status).toBe(303);
    expect(disabled.headers.get("location")).toBe(`/admin/users/${eveId}?done=disable`);
    const [row] = await web.db.sql`select disabled from users where id = ${eveId}`;
    expect(row!.disabled).toBe(true);
    expect(await web.db.sql`select 1 from sessions where user_id = ${eveId}`).toHaveLength(0);
    expect(web.sent.slice(sentBefore)).toEqual([
      {
        kind: "user-upsert",
        user: {
          id: eveId,
          passkey: eve!.passkey,
          disabled: true,
          downloadsPaused: false,
          warningsPaused: false,
        },
      },
    ]);
    const stale = await web.request("/account", { cookie: session.cookie });
    expect(stale.status).toBe(303);
    const page = await (await web.request(disabled.headers.get("location")!, { cookie: mod.cookie })).text();
    expect(page).toContain("Disabled:");
    expect(page).toContain("Enable this member");
    const list = await (await web.request("/admin/users?q=eve", { cookie: mod.cookie })).text();
    expect(list).toContain("disabled");

    sentBefore = web.sent.length;
    const enabled = await web.request(`/admin/users/${eveId}/enable`, {
      cookie: mod.cookie,
      form: { _csrf: mod.csrf },
    });
    expect(enabled.status).toBe(303);
    const [after] = await web.db.sql`select disabled from users where id = ${eveId}`;
    expect(after!.disabled).toBe(false);
    expect(web.sent.slice(sentBefore)).toEqual([
      {
        kind: "user-upsert",
        user: {
          id: eveId,
          passkey: eve!.passkey,
          disabled: false,
          downloadsPaused: false,
          warningsPaused: false,
        },
      },
    ]);
    await web.login("eve");
  });

  test("nobody disables themselves; a moderator cannot disable an admin", async () => {
    const self = await web.request(`/admin/users/${modId}/disable`, {
      cookie: mod.cookie,
      form: { _csrf: mod.csrf },
    });
    expect(self.status).toBe(409);
    expect(await self.text()).toContain("You cannot disable your own account.");
    const rootSelf = await web.request(`/admin/users/${rootId}/disable`, {
      cookie: root.cookie,
      form: { _csrf: root.csrf },
    });
    expect(rootSelf.status).toBe(409);
    const admin = await web.request(`/admin/users/${rootId}/disable`, {
      cookie: mod.cookie,
      form: { _csrf: mod.csrf },
    });
    expect(admin.status).toBe(403);
    expect(await admin.text()).toContain("Only an administrator can disable an administrator.");
    const [row] = await web.db
      .sql`select bool_or(disabled) as any from users where id in (${modId}, ${rootId})`;
    expect(row!.any).toBe(false);
    // The session of the one refused is untouched.
    expect((await web.request("/account", { cookie: mod.cookie })).status).toBe(200);
  });

  test("an admin disables a moderator", async () => {
    await web.member("mod2", ["moderate"]);
    const [m] = await web.db.sql`select id from users where name = 'mod2'`;
    const response = await web.request(`/admin/users/${m!.id}/disable`, {
      cookie: root.cookie,
      form: { _csrf: root.csrf },
    });
    expect(response.status).toBe(303);
    const [row] = await web.db.sql`select disabled from users where id = ${m!.id}`;
    expect(row!.disabled).toBe(true);
  });

  test("members without the role, visitors and missing ids", async () => {
    const bob = await web.login("bob");
    for (const action of ["disable", "enable"]) {
      const forbidden = await web.request(`/admin/users/${modId}/${action}`, {
        cookie: bob.cookie,
        form: { _csrf: bob.csrf },
      });
      expect(forbidden.status).toBe(403);
      const out = await web.request(`/admin/users/${bobId}/${action}`, { form: {} });
      expect(out.status).toBe(303);
      expect(out.headers.get("location")).toBe(`/login?next=%2Fadmin%2Fusers%2F${bobId}`);
      const missing = await web.request(`/admin/users/999999/${action}`, {
        cookie: mod.cookie,
        form: { _csrf: mod.csrf },
      });
      expect(missing.status).toBe(404);
    }
    const [row] = await web.db.sql`select disabled from users where id = ${modId}`;
    expect(row!.disabled).toBe(false);
  });
});
