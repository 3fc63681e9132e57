// The web site's defences over a real socket, against the whole process on a real database: where
// a log-in may lead, the log-in throttle under concurrency and by address, the headers of every
// answer, the Origin rule, who may enable whom, oversized and malformed bodies, and the small
// things a visitor trips over. Tests stand for visitors at different addresses by connecting from
// different loopback addresses (127.0.0.0/8).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createToken } from "../../src/db/queries/tokens.ts";
import { createUser, type Role } from "../../src/db/queries/users.ts";
import { hashPassword, resolvePepper } from "../../src/shared/secrets.ts";
import { csrfToken } from "../../src/web/context.tsx";
import { smallTorrent } from "../helpers/api.ts";
import { type HttpInit, http, sessionCookieOf } from "../helpers/http.ts";
import { startTestServer } from "../helpers/server.ts";

const PASSWORD = "correct horse battery";
let server: Awaited<ReturnType<typeof startTestServer>>;
const ids: Record<string, number> = {};

async function member(name: string, roles: Role[] = []): Promise<number> {
  const pepper = resolvePepper(server.config.salt, server.config.dataDir);
  const { user } = await createUser(server.running.db.sql, {
    name,
    passwordHash: await hashPassword(PASSWORD, pepper),
    roles,
  });
  await server.running.sync.user(user.id);
  ids[name] = user.id;
  return user.id;
}

const site = (path: string, init?: HttpInit) => http(`${server.web}${path}`, init);

/** Logs in through the form (from `from`) and returns the cookie and CSRF token of the session. */
async function logIn(name: string, from = "127.0.0.1"): Promise<{ cookie: string; csrf: string }> {
  const reply = await site("/login", { form: { name, password: PASSWORD }, from });
  expect(reply.status).toBe(303);
  const cookie = sessionCookieOf(reply);
  return { cookie, csrf: csrfToken(decodeURIComponent(cookie.split("=")[1]!)) };
}

async function sessions(): Promise<number> {
  const [row] = await server.running.db.sql<{ n: number }[]>`select count(*)::int as n from sessions`;
  return row!.n;
}

beforeAll(async () => {
  server = await startTestServer();
  await member("root");
  await member("alice");
});
afterAll(async () => {
  await server?.stop();
});

describe("where a log-in leads", () => {
  // Each `next` that must not leave the site: the answer is the start page.
  const offSite = [
    "/%09/evil.example", // a tab: browsers drop it and read //evil.example
    "/%0d%0a/evil.example", // CR LF: would split the Location header
    "/%0a/evil.example",
    "//evil.example",
    "/\\evil.example", // browsers read a backslash as a slash
    "/%5Cevil.example",
    "/%2F/evil.example", // decodes to //evil.example
    "/%252F/evil.example", // decodes twice to //evil.example
    "/%2509/evil.example", // decodes twice to a tab
    "https://evil.example/",
    "evil.example",
    "javascript:alert(1)",
    " /torrents",
    "/%E0%A4%A", // malformed percent-encoding ends in a lone %: allowed only as a plain path
  ];

  test("a next that leaves the site, however encoded, goes to the start page on POST and GET", async () => {
    const { cookie } = await logIn("alice");
    for (const next of offSite.slice(0, -1)) {
      const posted = await site("/login", { form: { name: "alice", password: PASSWORD, next } });
      expect({ next, status: posted.status, location: posted.headers.get("location") }).toEqual({
        next,
        status: 303,
        location: "/",
      });
      const got = await site(`/login?next=${encodeURIComponent(next)}`, { headers: { cookie } });
      expect({ next, status: got.status, location: got.headers.get("location") }).toEqual({
        next,
        status: 303,
        location: "/",
      });
    }
  });

  test("the raw forms from the report: a tab and a CR LF in the query string, sent as typed", async () => {
    const { cookie } = await logIn("alice");
    for (const raw of ["/%09/evil.com", "/%0d%0a/evil.com"]) {
      const got = await site(`/login?next=${raw}`, { headers: { cookie } });
      expect({ raw, status: got.status, location: got.headers.get("location") }).toEqual({
        raw,
        status: 303,
        location: "/",
      });
      const before = await sessions();
      const posted = await site("/login", {
        body: `name=alice&password=${encodeURIComponent(PASSWORD)}&next=${raw}`,
        headers: { "content-type": "application/x-www-form-urlencoded" },
      });
      expect({ raw, status: posted.status, location: posted.headers.get("location") }).toEqual({
        raw,
        status: 303,
        location: "/",
      });
      expect(await sessions()).toBe(before + 1);
    }
  });

  test("a path on the site is kept, with its query", async () => {
    const kept = await site("/login", {
      form: { name: "alice", password: PASSWORD, next: "/torrents?q=deb%20book&sort=size" },
    });
    expect(kept.headers.get("location")).toBe("/torrents?q=deb%20book&sort=size");
    const percent = await site("/login", {
      form: { name: "alice", password: PASSWORD, next: "/torrents?q=100%25" },
    });
    expect(percent.headers.get("location")).toBe("/torrents?q=100%25");
  });
});

describe("log-in throttle", () => {
  test("40 wrong passwords at once for one name through the form: at most 5 are checked", async () => {
    await member("target1");
    const replies = await Promise.all(
      Array.from({ length: 40 }, () =>
        site("/login", { form: { name: "target1", password: "wrong guess" }, from: "127.0.0.21" }),
      ),
    );
    const statuses = replies.map((r) => r.status);
    expect(statuses.filter((s) => s === 401).length).toBe(5);
    expect(statuses.filter((s) => s !== 401 && s !== 429)).toEqual([]);
    const refused = replies.find((r) => r.status === 429)!;
    expect(refused.headers.get("retry-after")).toBe("900");
    expect(refused.body).toContain("Too many failed log-ins");
  });

  test("40 wrong passwords at once through the API session: at most 5 are checked", async () => {
    await member("target2");
    const replies = await Promise.all(
      Array.from({ length: 40 }, () =>
        site("/api/v1/session", { json: { name: "target2", password: "wrong guess" }, from: "127.0.0.22" }),
      ),
    );
    const statuses = replies.map((r) => r.status);
    expect(statuses.filter((s) => s === 401).length).toBe(5);
    expect(statuses.filter((s) => s !== 401 && s !== 429)).toEqual([]);
    const refused = replies.find((r) => r.status === 429)!;
    expect(JSON.parse(refused.body).error.code).toBe("rate_limited");
  });

  test("failing a member's name locks out only the address that failed it", async () => {
    await member("victim");
    for (let i = 0; i < 8; i++)
      await site("/login", { form: { name: "victim", password: "wrong" }, from: "127.0.0.31" });
    // The attacker's address is paused for this name, even with the right password...
    const attacker = await site("/login", {
      form: { name: "victim", password: PASSWORD },
      from: "127.0.0.31",
    });
    expect(attacker.status).toBe(429);
    // ...while the member logs in from their own address, on the page and through the API.
    expect(
      (await site("/login", { form: { name: "victim", password: PASSWORD }, from: "127.0.0.32" })).status,
    ).toBe(303);
    expect(
      (await site("/api/v1/session", { json: { name: "victim", password: PASSWORD }, from: "127.0.0.33" }))
        .status,
    ).toBe(200);
  });

  test("an address that fails many names is paused for every name; a right password clears a name's count", async () => {
    for (let i = 0; i < 20; i++)
      await site("/login", { form: { name: `ghost${i}`, password: "x" }, from: "127.0.0.41" });
    expect(
      (await site("/login", { form: { name: "alice", password: PASSWORD }, from: "127.0.0.41" })).status,
    ).toBe(429);
    // Four misses and a hit, twice over: the hit forgives the misses, so the fifth miss is checked.
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 4; i++)
        expect(
          (await site("/login", { form: { name: "alice", password: "nope" }, from: "127.0.0.42" })).status,
        ).toBe(401);
      expect(
        (await site("/login", { form: { name: "alice", password: PASSWORD }, from: "127.0.0.42" })).status,
      ).toBe(303);
    }
  });
});

describe("Origin: null", () => {
  test("is another site for the log-in form and the API session", async () => {
    const before = await sessions();
    const page = await site("/login", {
      form: { name: "alice", password: PASSWORD },
      headers: { origin: "null" },
    });
    expect(page.status).toBe(403);
    const api = await site("/api/v1/session", {
      json: { name: "alice", password: PASSWORD },
      headers: { origin: "null" },
    });
    expect(api.status).toBe(403);
    expect(JSON.parse(api.body).error.code).toBe("forbidden");
    expect(await sessions()).toBe(before);
    // A logged-in form from a sandboxed frame is refused too.
    const { cookie, csrf } = await logIn("alice");
    const out = await site("/logout", { form: { _csrf: csrf }, headers: { cookie, origin: "null" } });
    expect(out.status).toBe(403);
  });
});

describe("who may enable whom", () => {
  test("a moderator can neither disable an administrator nor re-enable one an administrator disabled", async () => {
    const chief = await member("chief", ["admin"]);
    await member("mod", ["moderate"]);
    const root = await logIn("root");
    const mod = await logIn("mod");
    const disabled = async () =>
      (
        await server.running.db.sql<{ disabled: boolean }[]>`select disabled from users where id = ${chief}`
      )[0]!.disabled;
    const post = (who: { cookie: string; csrf: string }, action: string) =>
      site(`/admin/users/${chief}/${action}`, {
        form: { _csrf: who.csrf },
        headers: { cookie: who.cookie, origin: server.web },
      });
    const api = (who: { cookie: string; csrf: string }, action: string) =>
      site(`/api/v1/users/${chief}/${action}`, {
        method: "POST",
        headers: { cookie: who.cookie, origin: server.web, "x-csrf-token": who.csrf },
      });

    const refusedDisable = await post(mod, "disable");
    expect(refusedDisable.status).toBe(403);
    expect(refusedDisable.body).toContain("Only an administrator can disable an administrator.");
    expect(await disabled()).toBe(false);

    expect((await post(root, "disable")).status).toBe(303);
    expect(await disabled()).toBe(true);
    const refusedPage = await post(mod, "enable");
    expect(refusedPage.status).toBe(403);
    expect(refusedPage.body).toContain("Only an administrator can enable an administrator.");
    const refusedApi = await api(mod, "enable");
    expect(refusedApi.status).toBe(403);
    expect(JSON.parse(refusedApi.body).error.code).toBe("forbidden");
    expect(await disabled()).toBe(true);
    // The moderator's page says why instead of offering the button.
    const view = await site(`/admin/users/${chief}`, { headers: { cookie: mod.cookie } });
    expect(view.body).toContain("Only an administrator can enable an administrator.");
    expect(view.body).not.toContain(`action="/admin/users/${chief}/enable"`);

    expect((await api(root, "enable")).status).toBe(200);
    expect(await disabled()).toBe(false);
  });
});

/** What in a page the Content-Security-Policy would block: inline scripts, styles, handlers, eval. */
function inlineProblems(html: string): string[] {
  return [
    ...html.matchAll(/<script(?![^>]*\ssrc=)[^>]*>/g),
    ...html.matchAll(/<style[\s>]/g),
    ...html.matchAll(/\s(style|on[a-z]+|hx-on[:-][\w:-]*)=/g),
    ...html.matchAll(/(hx-vals|hx-headers)="(js|javascript):/g),
    ...html.matchAll(/href="javascript:/g),
  ].map((match) => match[0]);
}

describe("security headers", () => {
  const expected = {
    csp: "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'",
    nosniff: "nosniff",
    referrer: "same-origin",
  };
  const headersOf = (reply: { headers: Headers }) => ({
    csp: reply.headers.get("content-security-policy"),
    nosniff: reply.headers.get("x-content-type-options"),
    referrer: reply.headers.get("referrer-policy"),
  });

  test("every page, redirect, API answer, error and file carries them", async () => {
    const { cookie, csrf } = await logIn("root");
    const replies: [string, Awaited<ReturnType<typeof site>>][] = [
      ["login page", await site("/login")],
      ["redirect to log in", await site("/torrents")],
      ["start page redirect", await site("/")],
      ["list", await site("/torrents", { headers: { cookie } })],
      ["account", await site("/account", { headers: { cookie } })],
      [
        "failed log-in",
        await site("/login", { form: { name: "root", password: "wrong" }, from: "127.0.0.51" }),
      ],
      ["not found", await site("/no/such/page")],
      ["refused change", await site("/logout", { form: {}, headers: { cookie } })],
      ["stylesheet", await site("/static/style.css")],
      ["icon", await site("/favicon.ico")],
      ["health", await site("/health")],
      ["API 401", await site("/api/v1/me")],
      ["API answer", await site("/api/v1/me", { headers: { cookie } })],
      ["API docs", await site("/api/v1/docs")],
      ["OpenAPI", await site("/api/v1/openapi.json")],
      ["API 404", await site("/api/v1/nothing")],
      ["log-out", await site("/logout", { form: { _csrf: csrf }, headers: { cookie, origin: server.web } })],
    ];
    for (const [label, reply] of replies)
      expect({ label, ...headersOf(reply) }).toEqual({ label, ...expected });
  });

  test("no page holds inline script, inline style or event-handler attributes the policy would block", async () => {
    const { cookie } = await logIn("root");
    const pages = [
      "/login",
      "/torrents",
      "/upload",
      "/account",
      "/invites",
      "/admin/users",
      `/admin/users/${ids.alice}`,
      "/admin/suspicious",
      "/admin/categories",
      "/admin/hit-and-runs",
      "/account/hit-and-runs",
      "/account/bonus",
      "/account/history",
      "/admin/freeleech",
      "/news",
      "/",
      "/users/alice",
      "/api/v1/docs",
      "/register/not-a-real-invite",
    ];
    for (const path of pages) {
      // The log-in page is seen logged out (a member is sent on from it).
      const reply = await site(path, { headers: path === "/login" ? {} : { cookie } });
      const status = path.startsWith("/register/") ? 404 : 200;
      expect({ path, status: reply.status, problems: inlineProblems(reply.body) }).toEqual({
        path,
        status,
        problems: [],
      });
    }
  });
});

describe("a body over the size limit", () => {
  const big = () => new Uint8Array(server.config.webapi.maxTorrentBytes + 2 * 1024 * 1024).fill(0x64);
  const limitKiB = () => Math.floor(server.config.webapi.maxTorrentBytes / 1024);
  const form = (extra: Record<string, string> = {}) => {
    const body = new FormData();
    body.set("file", new File([big()], "big.torrent", { type: "application/x-bittorrent" }));
    for (const [key, value] of Object.entries(extra)) body.set(key, value);
    return body;
  };
  // A body sent in chunks, with no Content-Length to refuse it by.
  const chunked = () =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 12; i++) controller.enqueue(new Uint8Array(1024 * 1024).fill(0x64));
        controller.close();
      },
    });

  test("the upload page answers with its readable message, as an HTML page", async () => {
    await member("uploader", ["upload"]);
    const { cookie, csrf } = await logIn("uploader");
    const reply = await fetch(`${server.web}/upload`, {
      method: "POST",
      body: form({ _csrf: csrf }),
      headers: { cookie, origin: server.web },
      redirect: "manual",
    });
    expect(reply.status).toBe(413);
    expect(reply.headers.get("content-type")).toStartWith("text/html");
    expect(await reply.text()).toContain(`The file is larger than ${limitKiB()} KiB.`);
    const streamed = await fetch(`${server.web}/upload`, {
      method: "POST",
      body: chunked(),
      headers: { cookie, origin: server.web, "content-type": "multipart/form-data; boundary=x" },
      redirect: "manual",
    });
    expect(streamed.status).toBe(413);
    expect(await streamed.text()).toContain(`The file is larger than ${limitKiB()} KiB.`);
  });

  test("the API answers in its one error shape, declared or chunked", async () => {
    const { cookie, csrf } = await logIn("uploader");
    const headers = { cookie, origin: server.web, "x-csrf-token": csrf };
    for (const body of [form(), chunked()]) {
      const reply = await fetch(`${server.web}/api/v1/torrents`, {
        method: "POST",
        body,
        headers:
          body instanceof FormData
            ? headers
            : { ...headers, "content-type": "multipart/form-data; boundary=x" },
      });
      expect(reply.status).toBe(413);
      expect(reply.headers.get("content-type")).toStartWith("application/json");
      expect(await reply.json()).toEqual({
        error: {
          code: "payload_too_large",
          message: `The file is larger than ${limitKiB()} KiB.`,
          fields: { file: `The file is larger than ${limitKiB()} KiB.` },
        },
      });
    }
    const json = await fetch(`${server.web}/api/v1/invites`, {
      method: "POST",
      body: JSON.stringify({ days: 1, pad: "x".repeat(12 * 1024 * 1024) }),
      headers: { ...headers, "content-type": "application/json" },
    });
    expect(json.status).toBe(413);
    expect((await json.json()).error.code).toBe("payload_too_large");
    expect(await server.running.db.sql`select 1 from torrents`).toHaveLength(0);
  });
});

describe("malformed API bodies and what validation says", () => {
  test("POST /api/v1/invites with malformed JSON or a text body is a 400 and makes no invite", async () => {
    const inviter = await member("inviter", ["invite"]);
    const { token } = (await createToken(server.running.db.sql, inviter, "script"))!;
    const invites = async () =>
      (
        await server.running.db.sql<
          { n: number }[]
        >`select count(*)::int as n from invites where inviter_id = ${inviter}`
      )[0]!.n;
    const auth = { authorization: `Bearer ${token}` };
    for (const [body, type] of [
      ["{bad", "application/json"],
      ['{"days": 3', "application/json"],
      ["days=3", "text/plain"],
      ["\u0000\u0001", "application/octet-stream"],
    ] as const) {
      const reply = await site("/api/v1/invites", { body, headers: { ...auth, "content-type": type } });
      expect({ body, status: reply.status, code: JSON.parse(reply.body).error?.code }).toEqual({
        body,
        status: 400,
        code: "bad_request",
      });
    }
    expect(await invites()).toBe(0);
    // Well-formed, and with no body at all, it still works.
    expect((await site("/api/v1/invites", { json: { days: 3 }, headers: auth })).status).toBe(201);
    expect((await site("/api/v1/invites", { method: "POST", headers: auth })).status).toBe(201);
    expect(await invites()).toBe(2);
  });

  test("API validation speaks as the pages do, never in schema text", async () => {
    const { cookie } = await logIn("alice");
    const reply = await site(`/api/v1/torrents?sort=bogus&order=up&q=${"x".repeat(300)}`, {
      headers: { cookie },
    });
    expect(reply.status).toBe(422);
    expect(JSON.parse(reply.body).error.fields).toEqual({
      q: "Use at most 200 characters.",
      sort: "Use one of: date, seeders, leechers, snatches, size, title.",
      order: "Use one of: asc, desc.",
    });
    const limit = await site("/api/v1/torrents?limit=1000", { headers: { cookie } });
    expect(JSON.parse(limit.body).error.fields).toEqual({ limit: "Use a whole number from 1 to 100." });
    const session = await site("/api/v1/session", { json: { name: 7 }, from: "127.0.0.61" });
    expect(JSON.parse(session.body).error.fields).toEqual({
      name: "Use text.",
      password: "This is required.",
    });
  });

  test("a search far over the limit names the field and the limit on the page", async () => {
    const { cookie } = await logIn("alice");
    const reply = await site(`/torrents?q=${"a".repeat(2000)}`, { headers: { cookie } });
    expect(reply.status).toBe(422);
    expect(reply.body).toContain("Search (q): Use at most 200 characters.");
  });
});

describe("small things a visitor trips over", () => {
  test("the list can be sorted from a form control, which a plain GET form carries", async () => {
    const { cookie } = await logIn("alice");
    const reply = await site("/torrents?q=x&sort=seeders&order=asc", { headers: { cookie } });
    expect(reply.status).toBe(200);
    const form = /<form class="searchbar" method="get" action="\/torrents"[\s\S]*?<\/form>/.exec(
      reply.body,
    )?.[0];
    expect(form).toBeDefined();
    expect(form).toMatch(/<select name="sort"[^>]*>[\s\S]*<option value="seeders" selected>/);
    expect(form).toMatch(/<select name="order"[^>]*>[\s\S]*<option value="asc" selected>/);
    expect(form).toContain('name="q" value="x"');
    // What the form sends with the default choices is a valid list address.
    const defaults = await site("/torrents?q=&sort=date&order=desc", { headers: { cookie } });
    expect(defaults.status).toBe(200);
  });

  test("/admin leads to the members list", async () => {
    const { cookie } = await logIn("root");
    const reply = await site("/admin", { headers: { cookie } });
    expect(reply.status).toBe(303);
    expect(reply.headers.get("location")).toBe("/admin/users");
    expect((await site("/admin/users", { headers: { cookie } })).status).toBe(200);
  });

  test("a new API token is shown once after a redirect, never in an address, and only to its session", async () => {
    const me = await logIn("alice");
    const other = await logIn("alice", "127.0.0.71");
    const made = await site("/account/tokens", {
      form: { _csrf: me.csrf, name: "my script" },
      headers: { cookie: me.cookie, origin: server.web },
    });
    expect(made.status).toBe(303);
    expect(made.headers.get("location")).toBe("/account#tokens");
    expect(made.body).not.toContain("fw_");
    // The member's other session sees no token; its read does not use the note up.
    expect((await site("/account", { headers: { cookie: other.cookie } })).body).not.toContain(
      'id="new-token"',
    );
    const shown = await site("/account", { headers: { cookie: me.cookie } });
    expect(shown.headers.get("cache-control")).toBe("no-store");
    const token = /id="new-token">(fw_[A-Za-z0-9_-]+)</.exec(shown.body)?.[1];
    expect(token).toBeDefined();
    // A reload shows it no more (and posts nothing: it is a GET).
    const reloaded = await site("/account", { headers: { cookie: me.cookie } });
    expect(reloaded.body).not.toContain(token!);
    expect(reloaded.body).toContain("my script");
    // The token works, and the database never held it in the clear.
    expect((await site("/api/v1/me", { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    const notes = await server.running.db.sql<{ n: number }[]>`
      select count(*)::int as n from session_notes where position(${Buffer.from(token!)} in sealed) > 0
    `;
    expect(notes[0]!.n).toBe(0);
  });

  test("a torrent's page, with its description and delete button, holds nothing the policy blocks", async () => {
    const { cookie } = await logIn("root");
    const token = (await createToken(server.running.db.sql, ids.root!, "uploads"))!.token;
    const body = new FormData();
    body.set("file", new File([new Uint8Array(smallTorrent("Policy Check"))], "x.torrent"));
    body.set("description", "Line one\nline <two>");
    const uploaded = await fetch(`${server.web}/api/v1/torrents`, {
      method: "POST",
      body,
      headers: { authorization: `Bearer ${token}` },
    });
    expect(uploaded.status).toBe(201);
    const { id } = (await uploaded.json()) as { id: number };
    const page = await site(`/torrents/${id}`, { headers: { cookie } });
    expect(page.body).toContain('data-confirm="Delete this torrent for everyone?"');
    expect(page.body).toMatch(/<div class="[^"]*\bdescription\b[^"]*">/);
    expect(inlineProblems(page.body)).toEqual([]);
    expect(inlineProblems((await site(`/torrents/${id}/edit`, { headers: { cookie } })).body)).toEqual([]);
  });
});
