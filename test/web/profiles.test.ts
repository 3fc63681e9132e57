import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { renderMarkdown } from "../../src/web/markdown/service.ts";
import {
  BIO_LIMITS,
  bioProblem,
  cleanBio,
  transferVisible,
  updateProfile,
} from "../../src/web/profiles/service.ts";
import { type ApiHarness, apiHarness, expectError, expectJson } from "../helpers/api.ts";

let web: ApiHarness;
let ids: Record<"root" | "bob" | "carol" | "mod", number>;
let tokens: Record<"bob" | "carol" | "mod", string>;

beforeAll(async () => {
  web = await apiHarness();
  const root = await web.member("root");
  const bob = await web.memberWithToken("bob", ["upload"]);
  const carol = await web.memberWithToken("carol");
  const mod = await web.memberWithToken("mod", ["moderate"]);
  ids = { root: root.id, bob: bob.id, carol: carol.id, mod: mod.id };
  tokens = { bob: bob.token, carol: carol.token, mod: mod.token };
  await web.db.sql`update users set invited_by = ${root.id} where id = ${bob.id}`;
  await web.db
    .sql`update users set uploaded = ${3 * 1024 ** 3}, downloaded = ${2 * 1024 ** 3} where id = ${bob.id}`;
  const hash = Buffer.alloc(20, 7);
  const [t] = await web.db.sql`
    insert into torrents (info_hash, title, size, files, creator_id, metainfo)
    values (${hash}, ${"Bob's <b>upload</b>"}, 1024, ${web.db.sql.json([{ path: "f", length: 1024 }])}, ${bob.id}, ${Buffer.from("d4:infodee")})
    returning id
  `;
  await web.db.sql`
    insert into user_torrent_stats (user_id, torrent_id, downloaded, completed_at)
    values (${bob.id}, ${t!.id}, 10, now())
  `;
}, 60000);
afterAll(async () => {
  await web?.close();
});

const page = async (path: string, cookie?: string) => {
  const response = await web.request(path, { cookie });
  return { status: response.status, location: response.headers.get("location"), html: await response.text() };
};

async function saveBio(session: { cookie: string; csrf: string }, bio: string, hide = false) {
  const form: Record<string, string> = { _csrf: session.csrf, bio };
  if (hide) form.hide_transfer = "1";
  return web.request("/account/profile", { cookie: session.cookie, form });
}

async function storedBio(id: number): Promise<{ bio: string; hideTransfer: boolean }> {
  const [row] = await web.db.sql`select bio, hide_transfer from users where id = ${id}`;
  return row as { bio: string; hideTransfer: boolean };
}

describe("the profile page", () => {
  test("is for members: visitors are sent to log in", async () => {
    const visitor = await page("/users/bob");
    expect(visitor.status).toBe(303);
    expect(visitor.location).toBe("/login?next=%2Fusers%2Fbob");
  });

  test("shows name, join date, inviter, uploads, snatches and ratio to any member", async () => {
    const { cookie } = await web.login("carol");
    const { status, html } = await page("/users/bob", cookie);
    expect(status).toBe(200);
    expect(html).toContain("<h1>bob</h1>");
    expect(html).toMatch(/<dt>Member since<\/dt><dd><time datetime="\d{4}-/);
    expect(html).toContain('<dt>Invited by</dt><dd><a class="member" href="/users/root">root</a></dd>');
    expect(html).toContain("<dt>Uploads</dt><dd>1</dd>");
    expect(html).toContain("<dt>Snatches</dt><dd>1</dd>");
    expect(html).toContain("<dt>Ratio</dt><dd>1.50</dd>");
    expect(html).toContain("<dt>Uploaded</dt><dd>3.00 GiB</dd>");
    // The upload is listed, its title escaped.
    expect(html).toContain("Bob&#x27;s &lt;b&gt;upload&lt;/b&gt;");
    expect(html).not.toContain("<b>upload</b>");
    // Names are found in any case.
    expect((await page("/users/BOB", cookie)).html).toContain("<h1>bob</h1>");
  });

  test("an unknown or malformed name is 404", async () => {
    const { cookie } = await web.login("carol");
    expect((await page("/users/nobody", cookie)).status).toBe(404);
    expect((await page("/users/%3Cscript%3E", cookie)).status).toBe(404);
    expect((await page(`/users/${"a".repeat(80)}`, cookie)).status).toBe(404);
  });

  test("the torrent page links its uploader to the profile", async () => {
    const { cookie } = await web.login("carol");
    const [t] = await web.db.sql`select id from torrents where creator_id = ${ids.bob}`;
    const { html } = await page(`/torrents/${t!.id}`, cookie);
    expect(html).toContain('<dt>Uploader</dt><dd><a class="member" href="/users/bob">bob</a></dd>');
  });
});

describe("hidden transfer figures", () => {
  test("the rule: hidden from other members, never from oneself or staff", () => {
    const viewer = (id: number, roles: string[] = []) => ({ id, can: (r: string) => roles.includes(r) });
    const hidden = { id: 2, hideTransfer: true };
    expect(transferVisible(viewer(3), hidden)).toBe(false);
    expect(transferVisible(viewer(2), hidden)).toBe(true);
    expect(transferVisible(viewer(3, ["moderate"]), hidden)).toBe(true);
    expect(transferVisible(viewer(3, ["admin"]), hidden)).toBe(true);
    expect(transferVisible(viewer(3, ["upload", "invite"]), hidden)).toBe(false);
    expect(transferVisible(viewer(3), { id: 2, hideTransfer: false })).toBe(true);
  });

  test("a member hides them on the account page: others see neither figures nor plot, staff and they do", async () => {
    const bob = await web.login("bob");
    const saved = await saveBio(bob, "", true);
    expect(saved.status).toBe(303);
    expect(saved.headers.get("location")).toBe("/account?done=profile#profile");
    expect((await storedBio(ids.bob)).hideTransfer).toBe(true);
    // The account form shows the setting as saved.
    expect((await page("/account", bob.cookie)).html).toMatch(/name="hide_transfer" value="1" checked/);

    const carol = await page("/users/bob", (await web.login("carol")).cookie);
    expect(carol.html).toContain("Hidden by bob.");
    expect(carol.html).not.toContain("<dt>Uploaded</dt>");
    expect(carol.html).not.toContain("<dt>Ratio</dt>");
    expect(carol.html).not.toContain("<dt>Snatches</dt>");
    expect(carol.html).not.toContain("3.00 GiB");
    expect(carol.html).not.toContain("Transfer over time");

    for (const name of ["mod", "root", "bob"]) {
      const seen = await page("/users/bob", (await web.login(name)).cookie);
      expect(seen.html).toContain("<dt>Uploaded</dt><dd>3.00 GiB</dd>");
      expect(seen.html).toContain("Transfer over time");
      expect(seen.html).toMatch(/hidden from other members/i);
    }

    // Unticking shows them again.
    expect((await saveBio(bob, "")).status).toBe(303);
    expect((await storedBio(ids.bob)).hideTransfer).toBe(false);
    const again = await page("/users/bob", (await web.login("carol")).cookie);
    expect(again.html).toContain("<dt>Uploaded</dt><dd>3.00 GiB</dd>");
  });

  test("the API gives the same answer: null figures and a 403 history for other members only", async () => {
    await web.db.sql`update users set hide_transfer = true where id = ${ids.bob}`;
    try {
      const asCarol = await expectJson<{ transfer: unknown; hide_transfer: boolean; name: string }>(
        await web.call(`/api/v1/users/${ids.bob}/profile`, { as: { token: tokens.carol } }),
      );
      expect(asCarol.name).toBe("bob");
      expect(asCarol.hide_transfer).toBe(true);
      expect(asCarol.transfer).toBeNull();
      await expectError(
        await web.call(`/api/v1/users/${ids.bob}/plot`, { as: { token: tokens.carol } }),
        403,
        "forbidden",
      );
      for (const token of [tokens.mod, tokens.bob]) {
        const seen = await expectJson<{ transfer: Record<string, number> }>(
          await web.call(`/api/v1/users/${ids.bob}/profile`, { as: { token } }),
        );
        expect(seen.transfer).toEqual({
          uploaded: 3 * 1024 ** 3,
          downloaded: 2 * 1024 ** 3,
          ratio: 1.5,
          snatches: 1,
        });
        const history = await expectJson<{ plots: { title: string }[] }>(
          await web.call(`/api/v1/users/${ids.bob}/plot`, { as: { token } }),
        );
        expect(history.plots.map((p) => p.title)).toEqual([
          "Uploaded and downloaded, last 30 days",
          "Ratio, last 30 days",
        ]);
      }
      await expectError(
        await web.call("/api/v1/users/999999/profile", { as: { token: tokens.carol } }),
        404,
        "not_found",
      );
    } finally {
      await web.db.sql`update users set hide_transfer = false where id = ${ids.bob}`;
    }
  });
});

describe("the bio", () => {
  test("is Markdown shown escaped: paragraphs and line breaks, no HTML from the member", async () => {
    const bob = await web.login("bob");
    const hostile = [
      "Hello <script>alert(1)</script>",
      '"><img src=x onerror=alert(1)>',
      "",
      '[click](javascript:alert(1)) & <a href="javascript:alert(2)">x</a>',
    ].join("\r\n");
    expect((await saveBio(bob, hostile)).status).toBe(303);
    const stored = (await storedBio(ids.bob)).bio;
    expect(stored).not.toContain("\r");
    const { html } = await page("/users/bob", (await web.login("carol")).cookie);
    expect(html).not.toContain("<script>alert(1)");
    expect(html).not.toContain("<img src=x");
    expect(html).not.toContain('<a href="javascript:');
    expect(html).toContain(
      "Hello &lt;script&gt;alert(1)&lt;/script&gt;<br>\n&quot;&gt;&lt;img src=x onerror=alert(1)&gt;</p>",
    );
    expect(html).toContain(
      "<p>[click](javascript:alert(1)) &amp; &lt;a href=&quot;javascript:alert(2)&quot;&gt;x&lt;/a&gt;</p>",
    );
    // The account page gives the text back as written, escaped inside the textarea.
    const account = await page("/account", bob.cookie);
    expect(account.html).toContain("Hello &lt;script&gt;alert(1)&lt;/script&gt;\n&quot;&gt;&lt;img");
    // The API has the source and the same safe rendering.
    const api = await expectJson<{ bio: string; bio_html: string }>(
      await web.call(`/api/v1/users/${ids.bob}/profile`, { as: { token: tokens.carol } }),
    );
    expect(api.bio).toBe(stored);
    expect(api.bio_html).toBe(renderMarkdown(stored));
    expect(api.bio_html).not.toContain("<script");
  });

  test("too long, too many lines, control characters or NUL: refused next to the field, nothing changed", async () => {
    const bob = await web.login("bob");
    expect((await saveBio(bob, "Kept as it was.")).status).toBe(303);
    for (const [bio, message] of [
      ["x".repeat(BIO_LIMITS.max + 1), `at most ${BIO_LIMITS.max} characters`],
      [Array.from({ length: BIO_LIMITS.lines + 1 }, (_, i) => `line ${i}`).join("\n"), "lines"],
      ["bell \u0007 here", "control characters"],
      ["escape \u001b[31m red", "control characters"],
    ] as const) {
      const response = await saveBio(bob, bio);
      expect(response.status).toBe(422);
      const html = await response.text();
      expect(html).toContain('id="bio-error"');
      expect(html).toContain(message);
      expect((await storedBio(ids.bob)).bio).toBe("Kept as it was.");
    }
    // NUL never reaches the database: refused before the handler, unchanged.
    const nul = await saveBio(bob, "nul \u0000 byte");
    expect(nul.status).toBeGreaterThanOrEqual(400);
    expect(nul.status).toBeLessThan(500);
    expect((await storedBio(ids.bob)).bio).toBe("Kept as it was.");
    // Far past the limit: refused by the schema.
    expect((await saveBio(bob, "y".repeat(BIO_LIMITS.max * 3))).status).toBe(422);
    expect((await storedBio(ids.bob)).bio).toBe("Kept as it was.");
  });

  test("line ends sent as CRLF count once: a bio at the limit with line breaks is taken", async () => {
    const bob = await web.login("bob");
    const lines = Array.from({ length: 10 }, () => "z".repeat(99)).join("\r\n");
    expect(cleanBio(lines).length).toBe(999);
    expect((await saveBio(bob, lines)).status).toBe(303);
    expect((await storedBio(ids.bob)).bio).toBe(cleanBio(lines));
  });

  test("needs the CSRF token", async () => {
    const bob = await web.login("bob");
    const before = await storedBio(ids.bob);
    const response = await web.request("/account/profile", { cookie: bob.cookie, form: { bio: "forged" } });
    expect(response.status).toBe(403);
    expect(await storedBio(ids.bob)).toEqual(before);
  });

  test("the rules, as plain functions", () => {
    expect(cleanBio("  a \t\r\nb  \r\n\r\n")).toBe("a\nb");
    expect(bioProblem("")).toBeNull();
    expect(bioProblem("tabs\tand\nbreaks")).toBeNull();
    expect(bioProblem("x".repeat(BIO_LIMITS.max))).toBeNull();
    expect(bioProblem("x".repeat(BIO_LIMITS.max + 1))).toContain("at most");
    expect(bioProblem("\u0000")).toContain("control");
    expect(bioProblem("\u007f")).toContain("control");
  });

  test("through the API: only one's own, within the same rules", async () => {
    await expectError(
      await web.call(`/api/v1/users/${ids.bob}/profile`, {
        method: "PATCH",
        as: { token: tokens.carol },
        json: { bio: "carol was here" },
      }),
      403,
      "forbidden",
    );
    expect((await storedBio(ids.bob)).bio).not.toBe("carol was here");
    const tooLong = await expectError(
      await web.call(`/api/v1/users/${ids.carol}/profile`, {
        method: "PATCH",
        as: { token: tokens.carol },
        json: { bio: "x".repeat(BIO_LIMITS.max + 1) },
      }),
      422,
      "validation",
    );
    expect(tooLong.fields?.bio).toContain("at most");
    await expectError(
      await web.call(`/api/v1/users/${ids.carol}/profile`, {
        method: "PATCH",
        as: { token: tokens.carol },
        json: { bio: "nul\u0000" },
      }),
      422,
      "validation",
    );
    const saved = await expectJson<{ bio: string; hide_transfer: boolean; bio_html: string }>(
      await web.call(`/api/v1/users/${ids.carol}/profile`, {
        method: "PATCH",
        as: { token: tokens.carol },
        json: { bio: "I *seed*\n\nalways", hide_transfer: true },
      }),
    );
    expect(saved).toMatchObject({ bio: "I *seed*\n\nalways", hide_transfer: true });
    expect(saved.bio_html).toBe("<p>I <em>seed</em></p>\n<p>always</p>\n");
    expect(await storedBio(ids.carol)).toEqual({ bio: "I *seed*\n\nalways", hideTransfer: true });
    // The service refuses a change for someone else whatever the face.
    const other = await updateProfile(web.deps, { id: ids.mod, can: () => true }, ids.carol, { bio: "x" });
    expect(other.ok).toBe(false);
  });
});
