// Account recovery through the site and the API: staff issue one-time reset links; members give
// an address and ask for a link by mail, sent through a real SMTP server (aiosmtpd) started here;
// a link works once, expires, ends the member's sessions, and no answer tells whether a name or
// an address exists.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { expectError } from "../helpers/api.ts";
import { mailText, SMTP_PYTHON, startMailSink } from "../helpers/mail.ts";
import { skipUnless } from "../helpers/skip.ts";
import { webHarness } from "../helpers/web.ts";

type Harness = Awaited<ReturnType<typeof webHarness>>;
type Sink = Awaited<ReturnType<typeof startMailSink>>;

const PASSWORD = "password123";

async function sessionsOf(web: Harness, userId: number): Promise<number> {
  const [row] = await web.db.sql<
    { n: number }[]
  >`select count(*)::int as n from sessions where user_id = ${userId}`;
  return row!.n;
}

/** A JSON request to the API as a script would send it. */
function postJson(web: Harness, path: string, body: unknown, ip = "192.0.2.30"): Promise<Response> {
  return web.app.handle(
    new Request(`http://site.test${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-fairywren-ip": ip, host: "site.test" },
      body: JSON.stringify(body),
    }),
  );
}

/** The reset link in a page or a mail. */
function linkIn(text: string): string {
  const match = /http:\/\/site\.test(\/reset\/[A-Za-z0-9_-]{20,})/.exec(text);
  if (!match) throw new Error(`no reset link in: ${text.slice(0, 400)}`);
  return match[1]!;
}

describe("reset links from staff", () => {
  let web: Harness;
  let admin: { id: number; cookie: string; csrf: string };
  let moderator: { id: number; cookie: string; csrf: string };
  let memberId: number;

  beforeAll(async () => {
    web = await webHarness();
    admin = { id: (await web.member("root", ["admin"])).id, ...(await web.login("root")) };
    moderator = { id: (await web.member("mod", ["moderate"])).id, ...(await web.login("mod")) };
    memberId = (await web.member("carol")).id;
  });
  afterAll(async () => {
    await web?.close();
  });

  test("an administrator issues one from the member's page; it sets a password once and ends every session", async () => {
    const carol = await web.login("carol");
    const page = await web.request(`/admin/users/${memberId}/reset-link`, {
      cookie: admin.cookie,
      form: { _csrf: admin.csrf },
    });
    expect(page.status).toBe(200);
    expect(page.headers.get("cache-control")).toBe("no-store");
    const path = linkIn(await page.text());
    const [row] = await web.db.sql`select created_by, expires_at - created_at as life from password_resets`;
    expect(Number(row!.createdBy)).toBe(admin.id);

    const form = await web.request(path);
    expect(form.status).toBe(200);
    expect(await form.text()).toContain("carol");
    // Too short, then two different passwords: refused, and the link still works.
    expect((await web.request(path, { form: { password: "short", confirm: "short" } })).status).toBe(422);
    expect(
      (await web.request(path, { form: { password: "a new password", confirm: "another" } })).status,
    ).toBe(422);
    expect(await sessionsOf(web, memberId)).toBe(1);

    const done = await web.request(path, { form: { password: "a new password", confirm: "a new password" } });
    expect(done.status).toBe(303);
    expect(done.headers.get("location")).toBe("/login?done=reset");
    expect(await sessionsOf(web, memberId)).toBe(0);
    expect((await web.request("/account", { cookie: carol.cookie })).status).toBe(303);
    expect((await web.request("/login", { form: { name: "carol", password: PASSWORD } })).status).toBe(401);
    await web.login("carol", "a new password");

    // Once only.
    const again = await web.request(path, {
      form: { password: "third password", confirm: "third password" },
    });
    expect(again.status).toBe(410);
    expect(await again.text()).toContain("expired or was used");
    expect((await web.request(path)).status).toBe(410);
    await web.login("carol", "a new password");
  });

  test("an expired link is refused and changes nothing", async () => {
    const page = await web.request(`/admin/users/${memberId}/reset-link`, {
      cookie: moderator.cookie,
      form: { _csrf: moderator.csrf },
    });
    expect(page.status).toBe(200);
    const path = linkIn(await page.text());
    await web.db
      .sql`update password_resets set expires_at = now() - interval '1 second' where used_at is null`;
    const sessions = await sessionsOf(web, memberId);
    expect((await web.request(path)).status).toBe(410);
    const late = await web.request(path, { form: { password: "late password", confirm: "late password" } });
    expect(late.status).toBe(410);
    expect(await sessionsOf(web, memberId)).toBe(sessions);
    await web.login("carol", "a new password");
  });

  test("a moderator cannot issue one for an administrator; a member cannot issue any", async () => {
    const refused = await web.request(`/admin/users/${admin.id}/reset-link`, {
      cookie: moderator.cookie,
      form: { _csrf: moderator.csrf },
    });
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain("Only an administrator");
    const carol = await web.login("carol", "a new password");
    const member = await web.request(`/admin/users/${admin.id}/reset-link`, {
      cookie: carol.cookie,
      form: { _csrf: carol.csrf },
    });
    expect(member.status).toBe(403);
    const [count] = await web.db
      .sql`select count(*)::int as n from password_resets where user_id = ${admin.id}`;
    expect(count!.n).toBe(0);
  });

  test("through the API (staff only), and a staff link removes the member's second factors", async () => {
    const carol = await web.login("carol", "a new password");
    await web.db
      .sql`insert into totp_secrets (user_id, secret, confirmed_at) values (${memberId}, 'JBSWY3DPEHPK3PXP', now())`;
    await web.db.sql`insert into recovery_codes (user_id, code_hash) values (${memberId}, '\\x00')`;
    const call = (id: number, who: { cookie: string; csrf: string }) =>
      web.request(`/api/v1/users/${id}/reset-link`, {
        method: "POST",
        cookie: who.cookie,
        headers: { "x-csrf-token": who.csrf },
      });
    await expectError(await call(memberId, carol), 403, "forbidden");
    const issued = await call(memberId, admin);
    expect(issued.status).toBe(201);
    const body = (await issued.json()) as { url: string; expires_at: string };
    const minutes = (Date.parse(body.expires_at) - Date.now()) / 60000;
    expect(minutes).toBeGreaterThan(55);
    expect(minutes).toBeLessThanOrEqual(60);
    const path = linkIn(body.url);
    const done = await web.request(path, {
      form: { password: "fourth password", confirm: "fourth password" },
    });
    expect(done.status).toBe(303);
    const [left] = await web.db.sql`
      select (select count(*) from totp_secrets where user_id = ${memberId})::int
        + (select count(*) from recovery_codes where user_id = ${memberId})::int as n
    `;
    expect(left!.n).toBe(0);
    await expectError(await call(999999, admin), 404, "not_found");
  });
});

describe("without mail", () => {
  let web: Harness;
  beforeAll(async () => {
    web = await webHarness();
  });
  afterAll(async () => {
    await web?.close();
  });

  test("the Forgot password page says to ask staff, and asking by mail is refused readably", async () => {
    const page = await web.request("/forgot");
    expect(page.status).toBe(200);
    const text = await page.text();
    expect(text).toContain('id="ask-staff"');
    expect(text).not.toContain('action="/forgot"');
    const sent = await web.request("/forgot", { form: { who: "anyone" } });
    expect(sent.status).toBe(409);
    expect(await sent.text()).toContain("ask a moderator or administrator");
    const api = await expectError(
      await postJson(web, "/api/v1/password-reset", { who: "anyone" }),
      409,
      "conflict",
    );
    expect(api.message).toContain("ask a moderator or administrator");
  });
});

describe.skipIf(skipUnless(SMTP_PYTHON !== null, "python3-aiosmtpd (Debian) is not installed"))(
  "reset links by mail",
  () => {
    let web: Harness;
    let sink: Sink;
    let dave: { id: number; cookie: string; csrf: string };

    beforeAll(async () => {
      sink = await startMailSink();
      web = await webHarness({
        FAIRYWREN_MAIL_HOST: "127.0.0.1",
        FAIRYWREN_MAIL_PORT: String(sink.port),
        FAIRYWREN_MAIL_FROM: "Wren <noreply@site.test>",
      });
      await web.member("root", ["admin"]);
      dave = { id: (await web.member("dave")).id, ...(await web.login("dave")) };
      await web.member("erin");
    });
    afterAll(async () => {
      await web?.close();
      await sink?.stop();
    });

    test("members give an address on their account page: validated, never shown to others", async () => {
      for (const bad of [
        "not an address",
        "a@b",
        "x@y.z\r\nBcc: evil@example.org",
        "<a@b.c>",
        `${"a".repeat(250)}@b.cd`,
      ]) {
        const refused = await web.request("/account/email", {
          cookie: dave.cookie,
          form: { _csrf: dave.csrf, email: bad },
        });
        expect(refused.status).toBe(422);
        expect(await refused.text()).toContain('id="email-error"');
      }
      const [none] = await web.db.sql`select email from users where id = ${dave.id}`;
      expect(none!.email).toBeNull();
      const saved = await web.request("/account/email", {
        cookie: dave.cookie,
        form: { _csrf: dave.csrf, email: " Dave@Example.org " },
      });
      expect(saved.status).toBe(303);
      const account = await (await web.request("/account", { cookie: dave.cookie })).text();
      expect(account).toContain('value="Dave@Example.org"');
      const erin = await web.login("erin");
      const profile = await (await web.request("/users/dave", { cookie: erin.cookie })).text();
      expect(profile).not.toContain("Example.org");
      const other = await web.request(`/api/v1/users/${dave.id}`, { cookie: erin.cookie });
      expect(await other.text()).not.toContain("Example.org");
    });

    test("a reset link by mail: asked for by name, read from the mail, used once; the answer never tells", async () => {
      const ask = (who: string, ip = "192.0.2.10") => web.request("/forgot", { form: { who }, ip });
      const known = await ask("dave");
      const unknown = await ask("nobody_here");
      const noAddress = await ask("erin");
      expect([known.status, unknown.status, noAddress.status]).toEqual([200, 200, 200]);
      const texts = [await known.text(), await unknown.text(), await noAddress.text()];
      expect(texts[1]).toBe(texts[0]!);
      expect(texts[2]).toBe(texts[0]!);
      // By address too (any case): a second mail.
      const byAddress = await ask("dave@example.ORG");
      expect(await byAddress.text()).toBe(texts[0]!);

      const mails = await sink.waitFor(2);
      expect(mails[0]!.toLowerCase()).toContain("x-envelope-to: dave@example.org");
      expect(mails[0]).toContain("From: Wren <noreply@site.test>");
      const path = linkIn(mailText(mails[0]!));
      expect((await web.request(path)).status).toBe(200);
      const done = await web.request(path, {
        form: { password: "mailed password", confirm: "mailed password" },
      });
      expect(done.status).toBe(303);
      expect((await web.request("/account", { cookie: dave.cookie })).status).toBe(303);
      await web.login("dave", "mailed password");
      expect(
        (await web.request(path, { form: { password: "again password", confirm: "again password" } })).status,
      ).toBe(410);
      // Using one link closed the other.
      const second = linkIn(mailText(mails[1]!));
      expect((await web.request(second)).status).toBe(410);
      expect(sink.messages().length).toBe(2);
    });

    test("through the API: the same 202 for any name", async () => {
      const call = (who: string) => postJson(web, "/api/v1/password-reset", { who });
      const a = await call("dave");
      const b = await call("nobody_at_all");
      expect([a.status, b.status]).toEqual([202, 202]);
      expect(await a.text()).toBe(await b.text());
      await sink.waitFor(3);
    });

    test("asking is throttled per address: refused with a readable 429, nothing sent", async () => {
      const before = sink.messages().length;
      const [rows] = await web.db.sql`select count(*)::int as n from password_resets`;
      let last: Response | null = null;
      for (let i = 0; i < 11; i++)
        last = await web.request("/forgot", { form: { who: `ghost_${i}` }, ip: "192.0.2.99" });
      expect(last!.status).toBe(429);
      expect(Number(last!.headers.get("retry-after"))).toBeGreaterThan(0);
      expect(await last!.text()).toContain("Too many requests");
      const refused = await web.request("/forgot", { form: { who: "dave" }, ip: "192.0.2.99" });
      expect(refused.status).toBe(429);
      const [after] = await web.db.sql`select count(*)::int as n from password_resets`;
      expect(after!.n).toBe(rows!.n);
      expect(sink.messages().length).toBe(before);
    });
  },
);
