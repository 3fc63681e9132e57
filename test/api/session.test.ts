import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type ApiHarness, apiHarness, cookieOf, expectError, expectJson } from "../helpers/api.ts";

const TRACKER = "https://tracker.example";
let api: ApiHarness;
let rootId: number;

beforeAll(async () => {
  api = await apiHarness({ FAIRYWREN_TRACKER_URL: TRACKER });
  rootId = (await api.member("root")).id;
  await api.member("alice", ["upload"]);
}, 60000);
afterAll(async () => {
  await api?.close();
});

interface Me {
  id: number;
  name: string;
  roles: string[];
  announce_url: string;
  auth: string;
  csrf: string | null;
  created_at: string;
  invited_by: unknown;
}

async function logIn(name: string, password = "password123", ip?: string) {
  return api.call("/api/v1/session", { json: { name, password }, ip });
}

describe("POST /api/v1/session", () => {
  test("a right password sets the same session cookie as the log-in page and returns who", async () => {
    const response = await logIn("ALICE");
    const me = await expectJson<Me>(response);
    const setCookie = response.headers.get("set-cookie")!;
    expect(setCookie).toStartWith("fw_session=");
    expect(setCookie).toContain("HttpOnly");
    expect(setCookie).toContain("SameSite=Lax");
    expect(me.name).toBe("alice");
    expect(me.roles).toEqual(["upload"]);
    expect(me.auth).toBe("session");
    expect(me.csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(new Date(me.created_at).toString()).not.toBe("Invalid Date");
    const [row] = await api.db.sql`select passkey from users where name = 'alice'`;
    expect(me.announce_url).toBe(`${TRACKER}/${row!.passkey}/announce`);
    // The cookie opens the pages too: it is the site's own session.
    const page = await api.request("/account", { cookie: cookieOf(response) });
    expect(page.status).toBe(200);
  });

  test("a form-encoded log-in works too", async () => {
    const form = new FormData();
    form.set("name", "alice");
    form.set("password", "password123");
    expect((await api.call("/api/v1/session", { form })).status).toBe(200);
  });

  test("a wrong password is 401, an unknown name too, a missing field 422 naming it", async () => {
    await expectError(await logIn("alice", "wrong password", "198.51.100.1"), 401, "unauthenticated");
    await expectError(await logIn("nobody", "password123", "198.51.100.1"), 401, "unauthenticated");
    const missing = await expectError(
      await api.call("/api/v1/session", { json: { name: "alice" } }),
      422,
      "validation",
    );
    expect(Object.keys(missing.fields!)).toEqual(["password"]);
    const empty = await expectError(await logIn("", "x"), 422, "validation");
    expect(Object.keys(empty.fields!)).toEqual(["name"]);
    await expectError(await api.call("/api/v1/session", { method: "POST" }), 422, "validation");
  });

  test("malformed JSON is 400 in the error shape", async () => {
    const response = await api.app.handle(
      new Request("http://site.test/api/v1/session", {
        method: "POST",
        headers: { host: "site.test", "content-type": "application/json" },
        body: '{"name": "alice", ',
      }),
    );
    await expectError(response, 400, "bad_request");
  });

  test("repeated failures are throttled like the log-in page: 429 with Retry-After", async () => {
    await api.member("bob");
    for (let i = 0; i < 5; i++)
      await expectError(await logIn("bob", "wrong", "198.51.100.10"), 401, "unauthenticated");
    const throttled = await logIn("bob", "password123", "198.51.100.10");
    await expectError(throttled, 429, "rate_limited");
    expect(throttled.headers.get("retry-after")).toBe("900");
    // Per name and address: bob's right password from another address still logs him in.
    expect((await logIn("bob", "password123", "198.51.100.99")).status).toBe(200);
  });

  test("a disabled member is refused with 403", async () => {
    await api.member("carol");
    await api.db.sql`update users set disabled = true where name = 'carol'`;
    await expectError(await logIn("carol"), 403, "forbidden");
  });

  test("a log-in from another site is refused", async () => {
    const response = await api.call("/api/v1/session", {
      json: { name: "alice", password: "password123" },
      headers: { origin: "http://evil.example" },
    });
    expect(response.status).toBe(403);
    expect(response.headers.get("set-cookie")).toBeNull();
  });
});

describe("GET /api/v1/me", () => {
  test("401 when not logged in; the caller with the cookie", async () => {
    await expectError(await api.call("/api/v1/me"), 401, "unauthenticated");
    const login = await logIn("root");
    const cookie = cookieOf(login);
    const me = await expectJson<Me>(await api.call("/api/v1/me", { as: { cookie } }));
    expect(me.id).toBe(rootId);
    expect(me.roles).toEqual(["admin", "invite", "moderate", "trusted", "upload"]);
    expect(me.invited_by).toBeNull();
    expect(me.csrf).toBe((await login.json()).csrf);
  });

  test("an expired or unknown session cookie is not logged in", async () => {
    await expectError(
      await api.call("/api/v1/me", { as: { cookie: "fw_session=not-a-session" } }),
      401,
      "unauthenticated",
    );
  });
});

describe("DELETE /api/v1/session", () => {
  test("needs the CSRF token with the cookie; then ends the session and clears the cookie", async () => {
    const login = await logIn("root");
    const cookie = cookieOf(login);
    const { csrf } = (await login.json()) as Me;
    await expectError(
      await api.call("/api/v1/session", { method: "DELETE", as: { cookie } }),
      403,
      "forbidden",
    );
    await expectError(
      await api.call("/api/v1/session", { method: "DELETE", as: { cookie, csrf: "x".repeat(43) } }),
      403,
      "forbidden",
    );
    // Still logged in: nothing happened.
    expect((await api.call("/api/v1/me", { as: { cookie } })).status).toBe(200);
    const crossSite = await api.call("/api/v1/session", {
      method: "DELETE",
      as: { cookie, csrf: csrf! },
      headers: { origin: "http://evil.example" },
    });
    await expectError(crossSite, 403, "forbidden");
    const out = await api.call("/api/v1/session", { method: "DELETE", as: { cookie, csrf: csrf! } });
    expect(out.status).toBe(204);
    expect(await out.text()).toBe("");
    expect(out.headers.get("set-cookie")).toContain("Max-Age=0");
    await expectError(await api.call("/api/v1/me", { as: { cookie } }), 401, "unauthenticated");
  });

  test("401 without a session; 400 with a token, which is not a session", async () => {
    await expectError(await api.call("/api/v1/session", { method: "DELETE" }), 401, "unauthenticated");
    const { token } = await api.memberWithToken("dave");
    await expectError(
      await api.call("/api/v1/session", { method: "DELETE", as: { token } }),
      400,
      "bad_request",
    );
  });
});
