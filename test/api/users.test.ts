import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { verifyPassword } from "../../src/shared/secrets.ts";
import { type ApiHarness, apiHarness, expectError, expectJson } from "../helpers/api.ts";
import { PEPPER } from "../helpers/web.ts";

let api: ApiHarness;
let root: { id: number; token: string };
let mod: { id: number; token: string };
let bob: { id: number; token: string };
let eve: { id: number; token: string };

beforeAll(async () => {
  api = await apiHarness();
  root = await api.memberWithToken("root");
  mod = await api.memberWithToken("mod", ["moderate"]);
  bob = await api.memberWithToken("bob", ["upload"]);
  eve = await api.memberWithToken("eve");
  await api.db.sql`update users set invited_by = ${root.id} where id = ${bob.id}`;
}, 60000);
afterAll(async () => {
  await api?.close();
});

interface User {
  id: number;
  name: string;
  roles: string[];
  disabled: boolean;
  created_at: string;
  uploaded: number;
  downloaded: number;
  snatches: number;
  invited_by: { id: number; name: string } | null;
}

async function rolesOf(id: number): Promise<string[]> {
  const rows = await api.db.sql`select role from user_roles where user_id = ${id} order by role`;
  return rows.map((r) => r.role as string);
}

describe("GET /api/v1/users/:id", () => {
  test("a member sees themselves, with nothing secret in it", async () => {
    const user = await expectJson<User>(await api.call(`/api/v1/users/${bob.id}`, { as: bob }));
    expect(user).toEqual({
      id: bob.id,
      name: "bob",
      roles: ["upload"],
      disabled: false,
      created_at: expect.any(String),
      uploaded: 0,
      downloaded: 0,
      snatches: 0,
      invited_by: { id: root.id, name: "root" },
    });
  });

  test("staff see anyone; others get 403, even for a number nobody has", async () => {
    expect((await expectJson<User>(await api.call(`/api/v1/users/${bob.id}`, { as: mod }))).name).toBe("bob");
    await expectError(await api.call(`/api/v1/users/${bob.id}`, { as: eve }), 403, "forbidden");
    await expectError(await api.call("/api/v1/users/999999", { as: eve }), 403, "forbidden");
    await expectError(await api.call("/api/v1/users/999999", { as: mod }), 404, "not_found");
    await expectError(await api.call(`/api/v1/users/${bob.id}`), 401, "unauthenticated");
    const bad = await expectError(await api.call("/api/v1/users/abc", { as: mod }), 422, "validation");
    expect(Object.keys(bad.fields!)).toEqual(["id"]);
  });
});

describe("POST /api/v1/users", () => {
  test("an administrator creates a member with roles; the tracker hears of it", async () => {
    const before = api.sent.length;
    const response = await api.call("/api/v1/users", {
      as: root,
      json: { name: "newbie", password: "long enough", roles: ["upload", "invite"] },
    });
    const user = await expectJson<User>(response, 201);
    expect(user.name).toBe("newbie");
    expect(user.roles).toEqual(["invite", "upload"]);
    expect(response.headers.get("location")).toBe(`/api/v1/users/${user.id}`);
    expect(api.sent.slice(before).map((m) => m.kind)).toEqual(["user-upsert"]);
    const [row] = await api.db.sql`select password_hash from users where id = ${user.id}`;
    expect(await verifyPassword("long enough", row!.passwordHash, PEPPER)).toBe(true);
    const [grant] = await api.db.sql`select granted_by from user_roles where user_id = ${user.id} limit 1`;
    expect(grant!.grantedBy).toBe(root.id);
  });

  test("no roles unless asked", async () => {
    const user = await expectJson<User>(
      await api.call("/api/v1/users", { as: root, json: { name: "plain1", password: "long enough" } }),
      201,
    );
    expect(user.roles).toEqual([]);
  });

  test("a taken name is 409 (any case); bad names, passwords and roles are 422 naming the field", async () => {
    const taken = await expectError(
      await api.call("/api/v1/users", { as: root, json: { name: "BOB", password: "long enough" } }),
      409,
      "conflict",
    );
    expect(Object.keys(taken.fields!)).toEqual(["name"]);
    const bad = await expectError(
      await api.call("/api/v1/users", { as: root, json: { name: "x", password: "short" } }),
      422,
      "validation",
    );
    expect(Object.keys(bad.fields!).sort()).toEqual(["name", "password"]);
    const role = await expectError(
      await api.call("/api/v1/users", {
        as: root,
        json: { name: "okname", password: "long enough", roles: ["god"] },
      }),
      422,
      "validation",
    );
    expect(Object.keys(role.fields!)[0]).toStartWith("roles");
    const [count] = await api.db.sql`select count(*)::int as n from users where name = 'okname'`;
    expect(count!.n).toBe(0);
  });

  test("only administrators: moderators and members get 403, anonymous 401", async () => {
    const body = { name: "sneaky", password: "long enough" };
    await expectError(await api.call("/api/v1/users", { as: mod, json: body }), 403, "forbidden");
    await expectError(await api.call("/api/v1/users", { as: eve, json: body }), 403, "forbidden");
    await expectError(await api.call("/api/v1/users", { json: body }), 401, "unauthenticated");
    const [count] = await api.db.sql`select count(*)::int as n from users where name = 'sneaky'`;
    expect(count!.n).toBe(0);
  });
});

describe("PUT /api/v1/users/:id/password", () => {
  test("only one's own, with the current password; ends the other sessions, keeps tokens", async () => {
    const paula = await api.memberWithToken("paula");
    const session = await api.login("paula");
    const wrong = await expectError(
      await api.call(`/api/v1/users/${paula.id}/password`, {
        method: "PUT",
        as: paula,
        json: { old: "not it", password: "new password 1" },
      }),
      422,
      "validation",
    );
    expect(Object.keys(wrong.fields!)).toEqual(["old"]);
    const short = await expectError(
      await api.call(`/api/v1/users/${paula.id}/password`, {
        method: "PUT",
        as: paula,
        json: { old: "password123", password: "short" },
      }),
      422,
      "validation",
    );
    expect(Object.keys(short.fields!)).toEqual(["password"]);
    await expectError(
      await api.call(`/api/v1/users/${paula.id}/password`, {
        method: "PUT",
        as: root,
        json: { old: "password123", password: "new password 1" },
      }),
      403,
      "forbidden",
    );
    const ok = await api.call(`/api/v1/users/${paula.id}/password`, {
      method: "PUT",
      as: paula,
      json: { old: "password123", password: "new password 1" },
    });
    expect(ok.status).toBe(204);
    // The page session ended; the token still works; the new password logs in.
    expect((await api.request("/account", { cookie: session.cookie })).status).toBe(303);
    expect((await api.call("/api/v1/me", { as: paula })).status).toBe(200);
    await api.login("paula", "new password 1");
  });

  test("with the cookie, the calling session stays", async () => {
    await api.member("quinn");
    const other = await api.login("quinn");
    const me = await api.login("quinn");
    const [row] = await api.db.sql`select id from users where name = 'quinn'`;
    const ok = await api.call(`/api/v1/users/${row!.id}/password`, {
      method: "PUT",
      as: me,
      json: { old: "password123", password: "new password 2" },
    });
    expect(ok.status).toBe(204);
    expect((await api.call("/api/v1/me", { as: me })).status).toBe(200);
    expect((await api.call("/api/v1/me", { as: { cookie: other.cookie } })).status).toBe(401);
  });

  test("wrong current passwords are throttled like log-ins", async () => {
    const ray = await api.memberWithToken("ray");
    const change = (old: string) =>
      api.call(`/api/v1/users/${ray.id}/password`, {
        method: "PUT",
        as: ray,
        json: { old, password: "new password 3" },
      });
    for (let i = 0; i < 5; i++) await expectError(await change("wrong"), 422, "validation");
    const throttled = await change("password123");
    await expectError(throttled, 429, "rate_limited");
    expect(throttled.headers.get("retry-after")).toBe("900");
  });
});

describe("roles", () => {
  test("GET roles: one's own, or anyone's for staff", async () => {
    expect(await expectJson(await api.call(`/api/v1/users/${bob.id}/roles`, { as: bob }))).toEqual({
      roles: ["upload"],
    });
    expect(await expectJson(await api.call(`/api/v1/users/${bob.id}/roles`, { as: mod }))).toEqual({
      roles: ["upload"],
    });
    await expectError(await api.call(`/api/v1/users/${bob.id}/roles`, { as: eve }), 403, "forbidden");
    await expectError(await api.call("/api/v1/users/999999/roles", { as: root }), 404, "not_found");
  });

  test("PUT grants and DELETE revokes (administrators only), and the tracker hears of it", async () => {
    const before = api.sent.length;
    const granted = await api.call(`/api/v1/users/${eve.id}/roles/invite`, { method: "PUT", as: root });
    expect(await expectJson(granted)).toEqual({ roles: ["invite"] });
    expect(await rolesOf(eve.id)).toEqual(["invite"]);
    // Idempotent.
    expect(
      await expectJson(await api.call(`/api/v1/users/${eve.id}/roles/invite`, { method: "PUT", as: root })),
    ).toEqual({ roles: ["invite"] });
    const revoked = await api.call(`/api/v1/users/${eve.id}/roles/invite`, { method: "DELETE", as: root });
    expect(await expectJson(revoked)).toEqual({ roles: [] });
    expect(await rolesOf(eve.id)).toEqual([]);
    expect(api.sent.slice(before).every((m) => m.kind === "user-upsert")).toBe(true);
  });

  test("moderators and members get 403; unknown roles 422; unknown members 404", async () => {
    await expectError(
      await api.call(`/api/v1/users/${eve.id}/roles/admin`, { method: "PUT", as: mod }),
      403,
      "forbidden",
    );
    await expectError(
      await api.call(`/api/v1/users/${eve.id}/roles/admin`, { method: "PUT", as: eve }),
      403,
      "forbidden",
    );
    expect(await rolesOf(eve.id)).toEqual([]);
    const bad = await expectError(
      await api.call(`/api/v1/users/${eve.id}/roles/god`, { method: "PUT", as: root }),
      422,
      "validation",
    );
    expect(Object.keys(bad.fields!)).toEqual(["role"]);
    await expectError(
      await api.call("/api/v1/users/999999/roles/upload", { method: "PUT", as: root }),
      404,
      "not_found",
    );
  });

  test("an administrator cannot revoke their own admin role (409)", async () => {
    await expectError(
      await api.call(`/api/v1/users/${root.id}/roles/admin`, { method: "DELETE", as: root }),
      409,
      "conflict",
    );
    expect(await rolesOf(root.id)).toContain("admin");
  });
});

describe("disable and enable", () => {
  test("a moderator disables a member: sessions end, tokens stop, the tracker hears; enable restores", async () => {
    const vic = await api.memberWithToken("vic");
    const session = await api.login("vic");
    const before = api.sent.length;
    const disabled = await expectJson<User>(
      await api.call(`/api/v1/users/${vic.id}/disable`, { method: "POST", as: mod }),
    );
    expect(disabled.disabled).toBe(true);
    expect(api.sent.slice(before)).toEqual([
      {
        kind: "user-upsert",
        user: {
          id: vic.id,
          passkey: expect.any(String),
          disabled: true,
          downloadsPaused: false,
          warningsPaused: false,
        },
      },
    ]);
    await expectError(await api.call("/api/v1/me", { as: vic }), 401, "unauthenticated");
    await expectError(
      await api.call("/api/v1/me", { as: { cookie: session.cookie } }),
      401,
      "unauthenticated",
    );
    const enabled = await expectJson<User>(
      await api.call(`/api/v1/users/${vic.id}/enable`, { method: "POST", as: mod }),
    );
    expect(enabled.disabled).toBe(false);
    expect((await api.call("/api/v1/me", { as: vic })).status).toBe(200);
  });

  test("members get 403; not oneself (409); a moderator cannot disable an administrator", async () => {
    await expectError(
      await api.call(`/api/v1/users/${bob.id}/disable`, { method: "POST", as: eve }),
      403,
      "forbidden",
    );
    await expectError(
      await api.call(`/api/v1/users/${bob.id}/enable`, { method: "POST", as: eve }),
      403,
      "forbidden",
    );
    await expectError(
      await api.call(`/api/v1/users/${mod.id}/disable`, { method: "POST", as: mod }),
      409,
      "conflict",
    );
    await expectError(
      await api.call(`/api/v1/users/${root.id}/disable`, { method: "POST", as: mod }),
      403,
      "forbidden",
    );
    await expectError(
      await api.call("/api/v1/users/999999/disable", { method: "POST", as: mod }),
      404,
      "not_found",
    );
    await expectError(
      await api.call("/api/v1/users/999999/enable", { method: "POST", as: mod }),
      404,
      "not_found",
    );
    const [row] = await api.db.sql`select disabled from users where id = ${root.id}`;
    expect(row!.disabled).toBe(false);
  });
});
