import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { webHarness } from "../helpers/web.ts";

let web: Awaited<ReturnType<typeof webHarness>>;
beforeAll(async () => {
  web = await webHarness();
  await web.member("admin");
  await web.member("alice");
});
afterAll(async () => {
  await web?.close();
});

describe("log in and log out", () => {
  test("the log-in page escapes what it shows back", async () => {
    const response = await web.request("/login", {
      form: { name: '"><script>x</script>', password: "nope" },
    });
    expect(response.status).toBe(401);
    const page = await response.text();
    // Kept in the name field's value, with the quote escaped so it cannot close the attribute.
    expect(page).not.toContain('"><script>x</script>');
    expect(page).toMatch(/value="(&#34;|&quot;)><script>x<\/script>"/);
    expect(page).toContain("Wrong name or password.");
  });

  test("a right password starts a session with a safe cookie; logging out ends it", async () => {
    const response = await web.request("/login", {
      form: { name: "ALICE", password: "password123", next: "/torrents" },
    });
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/torrents");
    const setCookie = response.headers.get("set-cookie")!;
    expect(setCookie).toContain("HttpOnly");
    expect(setCookie).toContain("SameSite=Lax");
    expect(setCookie).not.toContain("Secure");
    const cookie = setCookie.split(";")[0]!;
    const [row] = await web.db.sql`select count(*)::int as n from sessions`;
    expect(row!.n).toBeGreaterThan(0);
    // The token is stored hashed, never as sent.
    const token = decodeURIComponent(cookie.split("=")[1]!);
    const plain = await web.db.sql`select 1 from sessions where token_hash = ${Buffer.from(token)}`;
    expect(plain).toHaveLength(0);
    const loggedIn = await web.request("/login", { cookie });
    expect(loggedIn.status).toBe(303);
    const { csrf } = { csrf: (await import("../../src/web/context.tsx")).csrfToken(token) };
    const out = await web.request("/logout", { cookie, form: { _csrf: csrf } });
    expect(out.status).toBe(303);
    const after = await web.request("/login", { cookie });
    expect(after.status).toBe(200);
  });

  test("a session in use lives on, written at most once a minute", async () => {
    const response = await web.request("/login", { form: { name: "alice", password: "password123" } });
    const cookie = response.headers.get("set-cookie")!.split(";")[0]!;
    const token = decodeURIComponent(cookie.split("=")[1]!);
    const { hashSecret } = await import("../../src/shared/secrets.ts");
    const row = async () =>
      (
        await web.db.sql`
          select last_seen_at, expires_at from sessions where token_hash = ${hashSecret(token)}
        `
      )[0]!;
    // Fresh: pages read the session and leave it alone.
    const before = await row();
    expect((await web.request("/torrents", { cookie })).status).toBe(200);
    expect(await row()).toEqual(before);
    // Last seen two minutes ago and about to expire: the next page extends it.
    await web.db.sql`
      update sessions set last_seen_at = now() - interval '2 minutes', expires_at = now() + interval '1 hour'
      where token_hash = ${hashSecret(token)}
    `;
    expect((await web.request("/torrents", { cookie })).status).toBe(200);
    const after = await row();
    expect(Date.now() - after.lastSeenAt.getTime()).toBeLessThan(60_000);
    expect(after.expiresAt.getTime() - Date.now()).toBeGreaterThan(29 * 86400_000);
    // Expired sessions stay dead.
    await web.db
      .sql`update sessions set expires_at = now() - interval '1 second' where token_hash = ${hashSecret(token)}`;
    expect((await web.request("/torrents", { cookie })).status).toBe(303);
  });

  test("next never leads off the site", async () => {
    const response = await web.request("/login", {
      form: { name: "alice", password: "password123", next: "//evil.example/x" },
    });
    expect(response.headers.get("location")).toBe("/");
  });

  test("a state change without the CSRF token, or from another site, is refused", async () => {
    const { cookie } = await web.login("alice");
    const noToken = await web.request("/logout", { cookie, form: {} });
    expect(noToken.status).toBe(403);
    const crossSite = await web.request("/logout", {
      cookie,
      form: {},
      headers: { origin: "http://evil.example" },
    });
    expect(crossSite.status).toBe(403);
  });

  test("repeated failures for one account from one address are throttled there, even with the right password", async () => {
    await web.member("bob");
    for (let i = 0; i < 5; i++) {
      const r = await web.request("/login", {
        form: { name: "bob", password: "wrong" },
        ip: "198.51.100.1",
      });
      expect(r.status).toBe(401);
    }
    const throttled = await web.request("/login", {
      form: { name: "bob", password: "password123" },
      ip: "198.51.100.1",
    });
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get("retry-after")).toBe("900");
    expect(await throttled.text()).toContain("Too many failed log-ins");
    // The failures do not lock bob out: his right password from another address works.
    const elsewhere = await web.request("/login", {
      form: { name: "bob", password: "password123" },
      ip: "198.51.100.99",
    });
    expect(elsewhere.status).toBe(303);
  });

  test("repeated failures from one address are throttled across accounts", async () => {
    for (let i = 0; i < 20; i++)
      await web.request("/login", { form: { name: `ghost${i}`, password: "x" }, ip: "203.0.113.7" });
    const r = await web.request("/login", {
      form: { name: "alice", password: "password123" },
      ip: "203.0.113.7",
    });
    expect(r.status).toBe(429);
    const elsewhere = await web.request("/login", {
      form: { name: "alice", password: "password123" },
      ip: "203.0.113.8",
    });
    expect(elsewhere.status).toBe(303);
  });

  test("a disabled member cannot log in and existing sessions stop working", async () => {
    await web.member("carol");
    const { cookie } = await web.login("carol");
    await web.db.sql`update users set disabled = true where name = 'carol'`;
    expect((await web.request("/login", { cookie })).status).toBe(200);
    const r = await web.request("/login", { form: { name: "carol", password: "password123" } });
    expect(r.status).toBe(403);
    expect(await r.text()).toContain("disabled");
  });
});

describe("nextAfterLogIn", () => {
  test("keeps paths under the base and sends anything else to the base's start page", async () => {
    const { nextAfterLogIn } = await import("../../src/web/auth/service.ts");
    expect(nextAfterLogIn(undefined, "")).toBe("/");
    expect(nextAfterLogIn("", "/wren")).toBe("/wren/");
    expect(nextAfterLogIn("/wren/torrents?q=a", "/wren")).toBe("/wren/torrents?q=a");
    expect(nextAfterLogIn("/wren", "/wren")).toBe("/wren");
    // Another path of the same host is not this site when it sits behind a prefix.
    expect(nextAfterLogIn("/other/torrents", "/wren")).toBe("/wren/");
    expect(nextAfterLogIn("/wrenfeathers", "/wren")).toBe("/wren/");
    // Dot segments are resolved, and may not climb out of the base.
    expect(nextAfterLogIn("/wren/../evil", "/wren")).toBe("/wren/");
    expect(nextAfterLogIn("/a/./b/../c", "")).toBe("/a/c");
    // Characters the parser would encode come back encoded: the Location is what a browser follows.
    expect(nextAfterLogIn("/torrents?q=a b", "")).toBe("/torrents?q=a%20b");
    expect(nextAfterLogIn("/\t/evil.example", "")).toBe("/");
    expect(nextAfterLogIn("/\u2028", "")).toBe("/%E2%80%A8");
  });
});

describe("throttleAddress", () => {
  test("IPv4 as it is, IPv4 mapped into IPv6 as IPv4, IPv6 by its /64", async () => {
    const { throttleAddress } = await import("../../src/web/auth/service.ts");
    expect(throttleAddress("192.0.2.7")).toBe("192.0.2.7");
    expect(throttleAddress("::ffff:192.0.2.7")).toBe("192.0.2.7");
    expect(throttleAddress("2001:db8:1:2:3:4:5:6")).toBe("2001:db8:1:2::/64");
    expect(throttleAddress("2001:db8:1:2::9")).toBe("2001:db8:1:2::/64");
    expect(throttleAddress("2001:DB8:0001:0002:ffff::1")).toBe("2001:db8:1:2::/64");
    expect(throttleAddress("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(throttleAddress("::1")).toBe("0:0:0:0::/64");
    expect(throttleAddress("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
    expect(throttleAddress("64:ff9b::192.0.2.1")).toBe("64:ff9b:0:0::/64");
    expect(throttleAddress("unknown")).toBe("unknown");
  });
});
