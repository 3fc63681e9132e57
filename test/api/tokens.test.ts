import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { LAST_USED_RESOLUTION_SECONDS, MAX_TOKENS } from "../../src/db/queries/tokens.ts";
import { hashSecret } from "../../src/shared/secrets.ts";
import { type ApiHarness, apiHarness, expectError, expectJson } from "../helpers/api.ts";

let api: ApiHarness;
let tess: { cookie: string; csrf: string };
let tessId: number;

beforeAll(async () => {
  api = await apiHarness();
  await api.member("root");
  tessId = (await api.member("tess", ["upload"])).id;
  tess = await api.login("tess");
}, 60000);
afterAll(async () => {
  await api?.close();
});

/**
 * Creates a token on the account page, as a member would, and reads it from the account page the
 * form leads to (after a redirect, so a reload posts nothing again), where it is shown once.
 */
async function createOnPage(who: { cookie: string; csrf: string }, name: string): Promise<string> {
  const response = await api.request("/account/tokens", {
    cookie: who.cookie,
    form: { _csrf: who.csrf, name },
  });
  expect(response.status).toBe(303);
  expect(response.headers.get("location")).toBe("/account#tokens");
  const shown = await api.request("/account", { cookie: who.cookie });
  expect(shown.headers.get("cache-control")).toBe("no-store");
  const page = await shown.text();
  const match = page.match(/id="new-token">(fw_[A-Za-z0-9_-]+)</);
  expect(match).not.toBeNull();
  return match![1]!;
}

async function tokenRow(name: string) {
  const [row] = await api.db.sql`
    select id, token_hash, last_used_at from api_tokens where user_id = ${tessId} and name = ${name}
  `;
  return row as { id: number; tokenHash: Buffer; lastUsedAt: Date | null } | undefined;
}

describe("tokens on the account page", () => {
  test("create: shown once, stored only as a hash, listed with created and last used", async () => {
    const token = await createOnPage(tess, "  my <script> client ");
    const row = await tokenRow("my <script> client");
    expect(row).toBeDefined();
    expect(Buffer.from(row!.tokenHash).equals(hashSecret(token))).toBe(true);
    const [plain] = await api.db
      .sql`select count(*)::int as n from api_tokens where token_hash = ${Buffer.from(token)}`;
    expect(plain!.n).toBe(0);
    const page = await (await api.request("/account", { cookie: tess.cookie })).text();
    expect(page).not.toContain(token);
    expect(page).toContain("my &lt;script&gt; client");
    expect(page).not.toContain("<script> client");
    expect(page).toMatch(/id="token-list"[\s\S]*my &lt;script&gt; client[\s\S]*never/);
    expect(page).toContain(`action="/account/tokens/${row!.id}/revoke"`);
  });

  test("a name is required and at most 64 characters: 422 next to the field", async () => {
    // (A NUL character is refused before the route by the site-wide text guard, also with 422.)
    const nul = await api.request("/account/tokens", {
      cookie: tess.cookie,
      form: { _csrf: tess.csrf, name: "a\u0000b" },
    });
    expect(nul.status).toBe(422);
    for (const name of ["", "   ", "n".repeat(65), "tab\there"]) {
      const response = await api.request("/account/tokens", {
        cookie: tess.cookie,
        form: { _csrf: tess.csrf, name },
      });
      expect(response.status).toBe(422);
      expect(await response.text()).toContain('id="token_name-error"');
    }
  });

  test("needs the CSRF token and a log-in", async () => {
    const [before] = await api.db.sql`select count(*)::int as n from api_tokens`;
    expect((await api.request("/account/tokens", { cookie: tess.cookie, form: { name: "x" } })).status).toBe(
      403,
    );
    const out = await api.request("/account/tokens", { form: { name: "x" } });
    expect(out.status).toBe(303);
    expect(out.headers.get("location")).toBe("/login?next=%2Faccount");
    const [after] = await api.db.sql`select count(*)::int as n from api_tokens`;
    expect(after!.n).toBe(before!.n);
  });

  test(`at most ${MAX_TOKENS} tokens`, async () => {
    const many = await api.member("many");
    await api.db.sql`
      insert into api_tokens (user_id, name, token_hash)
      select ${many.id}, 'bulk ' || n, sha256(('bulk' || n)::bytea) from generate_series(1, ${MAX_TOKENS}) n
    `;
    const who = await api.login("many");
    const response = await api.request("/account/tokens", {
      cookie: who.cookie,
      form: { _csrf: who.csrf, name: "one more" },
    });
    expect(response.status).toBe(409);
    expect(await response.text()).toContain('id="tokens-error"');
  });

  test("revoke: refused at once afterwards (401); another member's token is 404", async () => {
    const token = await createOnPage(tess, "to revoke");
    expect((await api.call("/api/v1/me", { as: { token } })).status).toBe(200);
    const row = await tokenRow("to revoke");
    const other = await api.member("other");
    const otherSession = await api.login("other");
    const foreign = await api.request(`/account/tokens/${row!.id}/revoke`, {
      cookie: otherSession.cookie,
      form: { _csrf: otherSession.csrf },
    });
    expect(foreign.status).toBe(404);
    expect(other.id).not.toBe(tessId);
    expect((await api.call("/api/v1/me", { as: { token } })).status).toBe(200);
    const revoked = await api.request(`/account/tokens/${row!.id}/revoke`, {
      cookie: tess.cookie,
      form: { _csrf: tess.csrf },
    });
    expect(revoked.status).toBe(303);
    expect(revoked.headers.get("location")).toBe("/account?done=token");
    await expectError(await api.call("/api/v1/me", { as: { token } }), 401, "unauthenticated");
    expect(await tokenRow("to revoke")).toBeUndefined();
    const page = await (await api.request("/account?done=token", { cookie: tess.cookie })).text();
    expect(page).toContain("The token was revoked");
    expect(
      (await api.request("/account/tokens/abc/revoke", { cookie: tess.cookie, form: { _csrf: tess.csrf } }))
        .status,
    ).toBe(404);
  });
});

describe("authenticating with a token", () => {
  test("last use is recorded, at most once a minute", async () => {
    const token = await createOnPage(tess, "timed");
    expect((await tokenRow("timed"))!.lastUsedAt).toBeNull();
    await api.call("/api/v1/me", { as: { token } });
    const first = (await tokenRow("timed"))!.lastUsedAt!;
    expect(first).toBeInstanceOf(Date);
    // A second call within the minute writes nothing.
    await api.call("/api/v1/me", { as: { token } });
    expect((await tokenRow("timed"))!.lastUsedAt!.getTime()).toBe(first.getTime());
    // Once the recorded use is older than the resolution, the next call records again.
    await api.db.sql`
      update api_tokens set last_used_at = now() - make_interval(secs => ${LAST_USED_RESOLUTION_SECONDS + 5})
      where name = 'timed'
    `;
    const aged = (await tokenRow("timed"))!.lastUsedAt!;
    await api.call("/api/v1/me", { as: { token } });
    expect((await tokenRow("timed"))!.lastUsedAt!.getTime()).toBeGreaterThan(aged.getTime());
    const page = await (await api.request("/account", { cookie: tess.cookie })).text();
    expect(page).toMatch(
      /timed<\/td><td data-label="Created"><time[^>]*>[^<]+<\/time><\/td><td data-label="Last used"><time/,
    );
  });

  test("a token can do what its owner can and nothing more", async () => {
    const token = await createOnPage(tess, "scoped");
    const me = await expectJson<{ id: number; auth: string; csrf: string | null; roles: string[] }>(
      await api.call("/api/v1/me", { as: { token } }),
    );
    expect(me).toMatchObject({ id: tessId, auth: "token", csrf: null, roles: ["upload"] });
    // Owner's rights: read torrents, look at themselves.
    expect((await api.call("/api/v1/torrents", { as: { token } })).status).toBe(200);
    expect((await api.call(`/api/v1/users/${tessId}`, { as: { token } })).status).toBe(200);
    // Not more: admin, moderator and invite endpoints are 403.
    const [root] = await api.db.sql`select id from users where name = 'root'`;
    for (const [method, path, json] of [
      ["POST", "/api/v1/users", { name: "viatoken", password: "long enough" }],
      ["PUT", `/api/v1/users/${tessId}/roles/admin`, undefined],
      ["DELETE", `/api/v1/users/${root!.id}/roles/upload`, undefined],
      ["POST", `/api/v1/users/${root!.id}/disable`, undefined],
      ["GET", `/api/v1/users/${root!.id}`, undefined],
      ["POST", "/api/v1/invites", {}],
      ["GET", "/api/v1/invites", undefined],
    ] as const) {
      await expectError(await api.call(path, { method, as: { token }, json }), 403, "forbidden");
    }
    expect(
      (await api.db.sql`select role from user_roles where user_id = ${tessId}`).map((r) => r.role),
    ).toEqual(["upload"]);
    // Granting the owner a role gives it to the token at once, too.
    await api.db.sql`insert into user_roles (user_id, role) values (${tessId}, 'invite')`;
    expect((await api.call("/api/v1/invites", { as: { token } })).status).toBe(200);
  });

  test("changes with a token need no CSRF token and no Origin; malformed or unknown tokens are 401", async () => {
    const token = await createOnPage(tess, "changes");
    const response = await api.call("/api/v1/invites", { as: { token }, json: { days: 2 } });
    expect(response.status).toBe(201);
    for (const authorization of [
      "Bearer",
      "Bearer ",
      "Bearer nonsense",
      `Bearer ${token}x`,
      "Basic dGVzczpwYXNz",
      `Bearer  ${token} extra`,
    ]) {
      await expectError(await api.call("/api/v1/me", { headers: { authorization } }), 401, "unauthenticated");
    }
  });

  test("a bad token is refused even with a valid session cookie; no CSRF bypass through the cookie", async () => {
    await expectError(
      await api.call("/api/v1/me", {
        headers: { authorization: "Bearer fw_revoked_or_wrong_token_000000", cookie: tess.cookie },
      }),
      401,
      "unauthenticated",
    );
    // A page change with a Bearer header is not logged in by its cookie, so it changes nothing.
    const [before] = await api.db.sql`select passkey from users where id = ${tessId}`;
    const page = await api.request("/account/passkey", {
      cookie: tess.cookie,
      form: {},
      headers: { authorization: "Bearer whatever" },
    });
    expect(page.status).toBe(303);
    expect(page.headers.get("location")).toStartWith("/login");
    const [after] = await api.db.sql`select passkey from users where id = ${tessId}`;
    expect(after!.passkey).toBe(before!.passkey);
  });

  test("a cookie-authenticated API change still needs same origin and X-CSRF-Token", async () => {
    await api.db
      .sql`insert into user_roles (user_id, role) values (${tessId}, 'invite') on conflict do nothing`;
    await expectError(
      await api.call("/api/v1/invites", { as: { cookie: tess.cookie }, json: {} }),
      403,
      "forbidden",
    );
    await expectError(
      await api.call("/api/v1/invites", {
        as: { cookie: tess.cookie, csrf: tess.csrf },
        json: {},
        headers: { origin: "http://evil.example" },
      }),
      403,
      "forbidden",
    );
    await expectError(
      await api.call("/api/v1/invites", {
        as: { cookie: tess.cookie, csrf: tess.csrf },
        json: {},
        headers: { "sec-fetch-site": "cross-site" },
      }),
      403,
      "forbidden",
    );
    expect(
      (await api.call("/api/v1/invites", { as: { cookie: tess.cookie, csrf: tess.csrf }, json: {} })).status,
    ).toBe(201);
  });

  test("a disabled owner's tokens are refused", async () => {
    const dora = await api.memberWithToken("dora");
    expect((await api.call("/api/v1/me", { as: dora })).status).toBe(200);
    await api.db.sql`update users set disabled = true where id = ${dora.id}`;
    await expectError(await api.call("/api/v1/me", { as: dora }), 401, "unauthenticated");
  });

  test("a token does not log in to the pages", async () => {
    const { token } = await api.memberWithToken("pagey");
    const response = await api.request("/account", { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(303);
  });
});
