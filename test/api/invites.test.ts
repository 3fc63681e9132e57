import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { MAX_PENDING_INVITES } from "../../src/db/queries/invites.ts";
import { hashSecret } from "../../src/shared/secrets.ts";
import { type ApiHarness, apiHarness, cookieOf, expectError, expectJson } from "../helpers/api.ts";

const SITE = "https://site.example";
let api: ApiHarness;
let ivy: { id: number; token: string };
let plain: { id: number; token: string };

beforeAll(async () => {
  api = await apiHarness({ FAIRYWREN_SITE_URL: SITE });
  await api.member("root");
  ivy = await api.memberWithToken("ivy", ["invite"]);
  plain = await api.memberWithToken("plain");
}, 60000);
afterAll(async () => {
  await api?.close();
});

interface NewInvite {
  id: number;
  secret: string;
  link: string;
  expires_at: string;
}

async function invite(days?: unknown): Promise<NewInvite> {
  const response = await api.call("/api/v1/invites", {
    as: ivy,
    json: days === undefined ? {} : { days },
  });
  return expectJson<NewInvite>(response, 201);
}

describe("POST /api/v1/invites", () => {
  test("makes an invite open for the days asked (7 by default); only the secret's hash is stored", async () => {
    const made = await invite();
    expect(made.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(made.link).toBe(`${SITE}/register/${made.secret}`);
    const days = (new Date(made.expires_at).getTime() - Date.now()) / 86400_000;
    expect(days).toBeGreaterThan(6.9);
    expect(days).toBeLessThan(7.1);
    const [row] = await api.db.sql`select secret_hash, inviter_id from invites where id = ${made.id}`;
    expect(Buffer.from(row!.secretHash).equals(hashSecret(made.secret))).toBe(true);
    expect(row!.inviterId).toBe(ivy.id);
    const three = await invite(3);
    const left = (new Date(three.expires_at).getTime() - Date.now()) / 86400_000;
    expect(left).toBeGreaterThan(2.9);
    expect(left).toBeLessThan(3.1);
  });

  test("a post with no body at all takes the default", async () => {
    const response = await api.call("/api/v1/invites", { method: "POST", as: ivy });
    expect(response.status).toBe(201);
  });

  test("days out of range are 422 naming the field", async () => {
    for (const days of [0, 31, 2.5, "abc", -1]) {
      const error = await expectError(
        await api.call("/api/v1/invites", { as: ivy, json: { days } }),
        422,
        "validation",
      );
      expect(Object.keys(error.fields!)).toEqual(["days"]);
    }
  });

  test("without the invite role: 403; anonymous: 401", async () => {
    await expectError(await api.call("/api/v1/invites", { as: plain, json: {} }), 403, "forbidden");
    await expectError(await api.call("/api/v1/invites", { json: {} }), 401, "unauthenticated");
    await expectError(await api.call("/api/v1/invites", { as: plain }), 403, "forbidden");
    await expectError(await api.call("/api/v1/invites"), 401, "unauthenticated");
  });

  test(`at most ${MAX_PENDING_INVITES} open invites: then 409`, async () => {
    const holder = await api.memberWithToken("holder", ["invite"]);
    for (let i = 0; i < MAX_PENDING_INVITES; i++)
      expect((await api.call("/api/v1/invites", { as: holder, json: {} })).status).toBe(201);
    await expectError(await api.call("/api/v1/invites", { as: holder, json: {} }), 409, "conflict");
  });
});

describe("GET /api/v1/invites", () => {
  test("lists one's own open and used invites", async () => {
    const lister = await api.memberWithToken("lister", ["invite"]);
    const mine = await expectJson<NewInvite>(
      await api.call("/api/v1/invites", { as: lister, json: {} }),
      201,
    );
    const used = await expectJson<NewInvite>(
      await api.call("/api/v1/invites", { as: lister, json: {} }),
      201,
    );
    await api.call(`/api/v1/invites/${used.secret}/claim`, {
      json: { name: "joiner", password: "password123" },
    });
    const list = await expectJson<{
      pending: { id: number }[];
      used: { id: number; invitee: { name: string } | null; created_at: string; claimed_at: string }[];
    }>(await api.call("/api/v1/invites", { as: lister }));
    expect(list.pending.map((i) => i.id)).toEqual([mine.id]);
    expect(list.used).toEqual([
      {
        id: used.id,
        created_at: expect.any(String),
        claimed_at: expect.any(String),
        invitee: expect.anything(),
      },
    ]);
    expect(list.used[0]!.invitee!.name).toBe("joiner");
    // Nobody else's.
    const ivyList = await expectJson<{ pending: { id: number }[] }>(
      await api.call("/api/v1/invites", { as: ivy }),
    );
    expect(ivyList.pending.map((i) => i.id)).not.toContain(mine.id);
  });
});

describe("GET /api/v1/invites/:invite", () => {
  test("open, used, revoked, expired, unknown — no log-in needed", async () => {
    const open = await invite();
    expect(await expectJson(await api.call(`/api/v1/invites/${open.secret}`))).toEqual({
      state: "open",
      inviter: "ivy",
    });
    const revoked = await invite();
    await api.call(`/api/v1/invites/${revoked.id}`, { method: "DELETE", as: ivy });
    expect(await expectJson(await api.call(`/api/v1/invites/${revoked.secret}`))).toEqual({
      state: "revoked",
      inviter: null,
    });
    const expired = await invite();
    await api.db.sql`update invites set expires_at = now() - interval '1 second' where id = ${expired.id}`;
    expect(
      (await expectJson<{ state: string }>(await api.call(`/api/v1/invites/${expired.secret}`))).state,
    ).toBe("expired");
    await expectError(await api.call(`/api/v1/invites/${"A".repeat(43)}`), 404, "not_found");
    await expectError(await api.call(`/api/v1/invites/${"A".repeat(150)}`), 404, "not_found");
  });
});

describe("POST /api/v1/invites/:invite/claim", () => {
  test("registers, uses the invite up, logs in and tells the tracker", async () => {
    const made = await invite();
    const before = api.sent.length;
    const response = await api.call(`/api/v1/invites/${made.secret}/claim`, {
      json: { name: "newcomer", password: "password123" },
    });
    const me = await expectJson<{
      id: number;
      name: string;
      roles: string[];
      invited_by: unknown;
      csrf: string;
    }>(response, 201);
    expect(me.name).toBe("newcomer");
    expect(me.roles).toEqual(["upload"]);
    expect(me.invited_by).toEqual({ id: ivy.id, name: "ivy" });
    expect(response.headers.get("location")).toBe(`/api/v1/users/${me.id}`);
    expect(api.sent.slice(before).map((m) => m.kind)).toEqual(["user-upsert"]);
    const cookie = cookieOf(response);
    expect((await expectJson<{ name: string }>(await api.call("/api/v1/me", { as: { cookie } }))).name).toBe(
      "newcomer",
    );
    // Used: 410 now.
    await expectError(
      await api.call(`/api/v1/invites/${made.secret}/claim`, {
        json: { name: "second", password: "password123" },
      }),
      410,
      "gone",
    );
    expect(await expectJson(await api.call(`/api/v1/invites/${made.secret}`))).toEqual({
      state: "used",
      inviter: null,
    });
  });

  test("bad fields are 422 naming them, a taken name 409; the invite stays open", async () => {
    const made = await invite();
    const bad = await expectError(
      await api.call(`/api/v1/invites/${made.secret}/claim`, { json: { name: "a b", password: "short" } }),
      422,
      "validation",
    );
    expect(Object.keys(bad.fields!).sort()).toEqual(["name", "password"]);
    const missing = await expectError(
      await api.call(`/api/v1/invites/${made.secret}/claim`, { json: { name: "okay" } }),
      422,
      "validation",
    );
    expect(Object.keys(missing.fields!)).toEqual(["password"]);
    const taken = await expectError(
      await api.call(`/api/v1/invites/${made.secret}/claim`, {
        json: { name: "IVY", password: "password123" },
      }),
      409,
      "conflict",
    );
    expect(Object.keys(taken.fields!)).toEqual(["name"]);
    expect(
      (await expectJson<{ state: string }>(await api.call(`/api/v1/invites/${made.secret}`))).state,
    ).toBe("open");
  });

  test("unknown secrets are 404, revoked and expired ones 410", async () => {
    const body = { json: { name: "someone", password: "password123" } };
    await expectError(await api.call(`/api/v1/invites/${"B".repeat(43)}/claim`, body), 404, "not_found");
    const revoked = await invite();
    await api.call(`/api/v1/invites/${revoked.id}`, { method: "DELETE", as: ivy });
    await expectError(await api.call(`/api/v1/invites/${revoked.secret}/claim`, body), 410, "gone");
    const [count] = await api.db.sql`select count(*)::int as n from users where name = 'someone'`;
    expect(count!.n).toBe(0);
  });
});

describe("DELETE /api/v1/invites/:invite", () => {
  test("revokes one's own open invite; anybody else's, or a used one, is 404", async () => {
    const made = await invite();
    const other = await api.memberWithToken("other", ["invite"]);
    await expectError(
      await api.call(`/api/v1/invites/${made.id}`, { method: "DELETE", as: other }),
      404,
      "not_found",
    );
    await expectError(
      await api.call(`/api/v1/invites/${made.id}`, { method: "DELETE", as: plain }),
      403,
      "forbidden",
    );
    await expectError(
      await api.call(`/api/v1/invites/${made.id}`, { method: "DELETE" }),
      401,
      "unauthenticated",
    );
    const response = await api.call(`/api/v1/invites/${made.id}`, { method: "DELETE", as: ivy });
    expect(response.status).toBe(204);
    const [row] = await api.db.sql`select revoked_at from invites where id = ${made.id}`;
    expect(row!.revokedAt).not.toBeNull();
    await expectError(
      await api.call(`/api/v1/invites/${made.id}`, { method: "DELETE", as: ivy }),
      404,
      "not_found",
    );
    const bad = await expectError(
      await api.call("/api/v1/invites/abc", { method: "DELETE", as: ivy }),
      422,
      "validation",
    );
    expect(Object.keys(bad.fields!)).toEqual(["invite"]);
  });
});
