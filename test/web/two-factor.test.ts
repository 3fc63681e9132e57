// Two factors over a real socket against the whole process: enrolling an authenticator app (codes
// computed with the otpauth library, as a phone would), the two-step log-in on the site and in the
// API, the throttle on wrong codes, recovery codes that work once, and removing a factor only with
// the password or a recovery code. Then `site.requireTwoFactorForStaff` through `app.handle`.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as OTPAuth from "otpauth";
import { createUser, type Role } from "../../src/db/queries/users.ts";
import { hashPassword, resolvePepper } from "../../src/shared/secrets.ts";
import { csrfToken } from "../../src/web/context.tsx";
import { type HttpInit, type HttpReply, http } from "../helpers/http.ts";
import { startTestServer } from "../helpers/server.ts";
import { webHarness } from "../helpers/web.ts";

const PASSWORD = "correct horse battery";
let server: Awaited<ReturnType<typeof startTestServer>>;

let passwordHash: string;
async function member(name: string, roles: Role[] = []): Promise<number> {
  passwordHash ??= await hashPassword(PASSWORD, resolvePepper(server.config.salt, server.config.dataDir));
  const { user } = await createUser(server.running.db.sql, { name, passwordHash, roles });
  return user.id;
}

const site = (path: string, init?: HttpInit) => http(`${server.web}${path}`, init);

/** The `name=value` of the cookie called `name` an answer sets, or null. */
function cookieOf(reply: HttpReply, name: string): string | null {
  for (const line of reply.headers.getSetCookie()) {
    const pair = line.split(";")[0]!;
    if (pair.startsWith(`${name}=`) && pair.length > name.length + 1) return pair;
  }
  return null;
}

interface Session {
  cookie: string;
  csrf: string;
}

function sessionOf(reply: HttpReply): Session {
  const cookie = cookieOf(reply, "fw_session");
  if (!cookie) throw new Error(`no session (HTTP ${reply.status}): ${reply.body.slice(0, 300)}`);
  return { cookie, csrf: csrfToken(decodeURIComponent(cookie.split("=")[1]!)) };
}

/** A code from the member's app, `offsetSteps` periods from now (as a phone with its clock a little off). */
function codeFor(secret: string, offsetSteps = 0): string {
  return OTPAuth.TOTP.generate({
    secret: OTPAuth.Secret.fromBase32(secret),
    timestamp: Date.now() + offsetSteps * 30_000,
  });
}

/** A code that is none of the three the server accepts now. */
function wrongCode(secret: string): string {
  const near = new Set([-1, 0, 1].map((k) => codeFor(secret, k)));
  let n = 0;
  while (near.has(String(n).padStart(6, "0"))) n++;
  return String(n).padStart(6, "0");
}

/** Enrols an authenticator app for the session's member; returns its secret and recovery codes. */
async function enrolTotp(session: Session): Promise<{ secret: string; codes: string[] }> {
  const headers = { cookie: session.cookie };
  const start = await site("/account/two-factor/totp", { headers, form: { _csrf: session.csrf } });
  expect(start.status).toBe(200);
  const secret = /id="totp-secret">([A-Z2-7]+)</.exec(start.body)![1]!;
  expect(start.body).toContain(`otpauth://totp/`);
  expect(start.body).toContain(`secret=${secret}`);
  const done = await site("/account/two-factor/totp/confirm", {
    headers,
    form: { _csrf: session.csrf, code: codeFor(secret) },
  });
  expect(done.status).toBe(200);
  const list = /id="recovery-codes">[\s\S]*?<ul class="mono">([\s\S]*?)<\/ul>/.exec(done.body)![1]!;
  const codes = [...list.matchAll(/<li>([a-z0-9-]+)<\/li>/g)].map((m) => m[1]!);
  return { secret, codes };
}

/** The first step of a log-in: the password. Returns the waiting log-in's cookie. */
async function passwordStep(name: string, from = "127.0.0.1"): Promise<string> {
  const reply = await site("/login", { form: { name, password: PASSWORD, next: "/torrents" }, from });
  expect(reply.status).toBe(303);
  expect(reply.headers.get("location")).toBe("/login/second?next=%2Ftorrents");
  expect(cookieOf(reply, "fw_session")).toBeNull();
  return cookieOf(reply, "fw_wait")!;
}

beforeAll(async () => {
  server = await startTestServer();
  await member("root");
  await member("alice");
  await member("bob");
  await member("carol");
}, 300_000);
afterAll(async () => {
  await server?.stop();
});

describe("an authenticator app", () => {
  let secret: string;
  let codes: string[];

  test("is added with a code before it takes effect; then a log-in takes the password and a code", async () => {
    const first = sessionOf(await site("/login", { form: { name: "alice", password: PASSWORD } }));
    const headers = { cookie: first.cookie };
    const start = await site("/account/two-factor/totp", { headers, form: { _csrf: first.csrf } });
    const pending = /id="totp-secret">([A-Z2-7]+)</.exec(start.body)![1]!;
    // A wrong code: refused, and the log-in still takes the password alone.
    const wrong = await site("/account/two-factor/totp/confirm", {
      headers,
      form: { _csrf: first.csrf, code: wrongCode(pending) },
    });
    expect(wrong.status).toBe(422);
    expect(wrong.body).toContain(pending);
    sessionOf(await site("/login", { form: { name: "alice", password: PASSWORD } }));

    ({ secret, codes } = await enrolTotp(first));
    expect(codes.length).toBe(10);
    expect(new Set(codes).size).toBe(10);
    const stored = await server.running.db.sql`select code_hash from recovery_codes`;
    expect(stored.length).toBe(10);
    for (const code of codes) expect(JSON.stringify(stored)).not.toContain(code);
    const page = await site("/account/two-factor", { headers });
    expect(page.body).toContain("An authenticator app is set up");
    expect(page.body).not.toContain(codes[0]!);

    const wait = await passwordStep("alice");
    const second = await site("/login/second?next=%2Ftorrents", { headers: { cookie: wait } });
    expect(second.status).toBe(200);
    expect(second.body).toContain("alice");
    // The code of the step used to confirm is spent: the next one (as a phone a little ahead) works.
    const used = await site("/login/second?next=%2Ftorrents", {
      headers: { cookie: wait },
      form: { code: codeFor(secret) },
    });
    expect(used.status).toBe(401);
    const done = await site("/login/second?next=%2Ftorrents", {
      headers: { cookie: wait },
      form: { code: codeFor(secret, 1) },
    });
    expect(done.status).toBe(303);
    expect(done.headers.get("location")).toBe("/torrents");
    const session = sessionOf(done);
    expect((await site("/account", { headers: { cookie: session.cookie } })).status).toBe(200);
    // The waiting log-in is over.
    expect((await site("/login/second", { headers: { cookie: wait } })).status).toBe(303);
  });

  test("the API's log-in says a code is needed, and takes one", async () => {
    const without = await site("/api/v1/session", {
      json: { name: "alice", password: PASSWORD },
      from: "127.0.0.2",
    });
    expect(without.status).toBe(401);
    const error = JSON.parse(without.body).error;
    expect(error.code).toBe("unauthenticated");
    expect(Object.keys(error.fields)).toEqual(["code"]);
    expect(cookieOf(without, "fw_session")).toBeNull();
    // A wrong password still says only that.
    const badPassword = await site("/api/v1/session", {
      json: { name: "alice", password: "wrong password", code: "123456" },
      from: "127.0.0.2",
    });
    expect(JSON.parse(badPassword.body).error.message).toBe("Wrong name or password.");
    const withCode = await site("/api/v1/session", {
      json: { name: "alice", password: PASSWORD, code: codes[0] },
      from: "127.0.0.2",
    });
    expect(withCode.status).toBe(200);
    expect(JSON.parse(withCode.body).name).toBe("alice");
  });

  test("a recovery code works once, in place of a code", async () => {
    const wait = await passwordStep("alice", "127.0.0.3");
    const done = await site("/login/second", {
      headers: { cookie: wait },
      form: { code: codes[1]!.toUpperCase() },
      from: "127.0.0.3",
    });
    expect(done.status).toBe(303);
    sessionOf(done);
    const again = await passwordStep("alice", "127.0.0.3");
    const refused = await site("/login/second", {
      headers: { cookie: again },
      form: { code: codes[1]! },
      from: "127.0.0.3",
    });
    expect(refused.status).toBe(401);
    expect(cookieOf(refused, "fw_session")).toBeNull();
    const page = await site("/account/two-factor", { headers: { cookie: sessionOf(done).cookie } });
    // One went on the API's log-in above, one here.
    expect(page.body).toContain("You have 8 unused recovery codes");
  });

  test("wrong codes are throttled like passwords: after five, even the right one waits", async () => {
    const from = "127.0.0.4";
    const wait = await passwordStep("alice", from);
    for (let i = 0; i < 5; i++) {
      const wrong = await site("/login/second", {
        headers: { cookie: wait },
        form: { code: wrongCode(secret) },
        from,
      });
      expect(wrong.status).toBe(401);
    }
    const throttled = await site("/login/second", {
      headers: { cookie: wait },
      form: { code: codeFor(secret, -1) },
      from,
    });
    expect(throttled.status).toBe(429);
    expect(Number(throttled.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(throttled.body).toContain("Too many wrong codes");
    expect(cookieOf(throttled, "fw_session")).toBeNull();
    // The API's log-in from there is throttled too (the same count).
    const api = await site("/api/v1/session", {
      json: { name: "alice", password: PASSWORD, code: "000000" },
      from,
    });
    expect(api.status).toBe(429);
  });

  test("removing it needs the password or a recovery code", async () => {
    const from = "127.0.0.5";
    const wait = await passwordStep("alice", from);
    const session = sessionOf(
      await site("/login/second", { headers: { cookie: wait }, form: { code: codes[2]! }, from }),
    );
    const headers = { cookie: session.cookie };
    const none = await site("/account/two-factor/totp/remove", {
      headers,
      form: { _csrf: session.csrf },
      from,
    });
    expect(none.status).toBe(422);
    const wrong = await site("/account/two-factor/totp/remove", {
      headers,
      form: { _csrf: session.csrf, password: "not my password" },
      from,
    });
    expect(wrong.status).toBe(422);
    const noCsrf = await site("/account/two-factor/totp/remove", {
      headers,
      form: { password: PASSWORD },
      from,
    });
    expect(noCsrf.status).toBe(403);
    const [still] = await server.running.db
      .sql`select count(*)::int as n from totp_secrets where confirmed_at is not null`;
    expect(still!.n).toBe(1);
    const removed = await site("/account/two-factor/totp/remove", {
      headers,
      form: { _csrf: session.csrf, recovery_code: codes[3]! },
      from,
    });
    expect(removed.status).toBe(303);
    // No factor left: the password alone logs in again, and the recovery codes went with it.
    sessionOf(await site("/login", { form: { name: "alice", password: PASSWORD }, from }));
    const [left] = await server.running.db.sql`select count(*)::int as n from recovery_codes`;
    expect(left!.n).toBe(0);
  });

  test("with the password, too; and new recovery codes replace the old ones", async () => {
    const first = sessionOf(
      await site("/login", { form: { name: "bob", password: PASSWORD }, from: "127.0.0.6" }),
    );
    const { codes: old } = await enrolTotp(first);
    const renewed = await site("/account/two-factor/recovery-codes", {
      headers: { cookie: first.cookie },
      form: { _csrf: first.csrf, password: PASSWORD },
      from: "127.0.0.6",
    });
    expect(renewed.status).toBe(200);
    const fresh = [...renewed.body.matchAll(/<li>([a-z0-9]{5}-[a-z0-9]{5})<\/li>/g)].map((m) => m[1]!);
    expect(fresh.length).toBe(10);
    const wait = await passwordStep("bob", "127.0.0.6");
    expect(
      (await site("/login/second", { headers: { cookie: wait }, form: { code: old[0]! }, from: "127.0.0.6" }))
        .status,
    ).toBe(401);
    expect(
      (
        await site("/login/second", {
          headers: { cookie: wait },
          form: { code: fresh[0]! },
          from: "127.0.0.6",
        })
      ).status,
    ).toBe(303);
    const removed = await site("/account/two-factor/totp/remove", {
      headers: { cookie: first.cookie },
      form: { _csrf: first.csrf, password: PASSWORD },
      from: "127.0.0.6",
    });
    expect(removed.status).toBe(303);
  });
});

describe("site.requireTwoFactorForStaff", () => {
  test("sends staff without a second factor to the two-factor page before any staff page", async () => {
    const web = await webHarness({ FAIRYWREN_REQUIRE_TWO_FACTOR_FOR_STAFF: "true" });
    try {
      await web.member("root", ["admin"]);
      await web.member("plain");
      const admin = await web.login("root");
      const blocked = await web.request("/admin/users", { cookie: admin.cookie });
      expect(blocked.status).toBe(303);
      expect(blocked.headers.get("location")).toBe("/account/two-factor?done=required");
      const form = await web.request("/admin/users/1/disable", {
        cookie: admin.cookie,
        form: { _csrf: admin.csrf },
      });
      expect(form.status).toBe(303);
      expect(form.headers.get("location")).toBe("/account/two-factor?done=required");
      const page = await web.request("/account/two-factor?done=required", { cookie: admin.cookie });
      expect(await page.text()).toContain("Staff must have a second factor");
      // Member pages stay open; members are not asked.
      expect((await web.request("/torrents", { cookie: admin.cookie })).status).toBe(200);
      const plain = await web.login("plain");
      expect((await web.request("/admin/users", { cookie: plain.cookie })).status).toBe(403);

      const start = await web.request("/account/two-factor/totp", {
        cookie: admin.cookie,
        form: { _csrf: admin.csrf },
      });
      const secret = /id="totp-secret">([A-Z2-7]+)</.exec(await start.text())![1]!;
      const confirmed = await web.request("/account/two-factor/totp/confirm", {
        cookie: admin.cookie,
        form: { _csrf: admin.csrf, code: codeFor(secret) },
      });
      expect(confirmed.status).toBe(200);
      expect((await web.request("/admin/users", { cookie: admin.cookie })).status).toBe(200);
    } finally {
      await web.close();
    }
  });

  test("is off by default", async () => {
    const web = await webHarness();
    try {
      await web.member("root", ["admin"]);
      const admin = await web.login("root");
      expect((await web.request("/admin/users", { cookie: admin.cookie })).status).toBe(200);
    } finally {
      await web.close();
    }
  });
});
