import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { NEWS_LIMITS, newsProblems } from "../../src/web/news/service.ts";
import { type ApiHarness, apiHarness, expectError, expectJson } from "../helpers/api.ts";

let web: ApiHarness;
let tokens: Record<"admin" | "mod" | "carol", string>;

beforeAll(async () => {
  web = await apiHarness();
  const admin = await web.memberWithToken("admin");
  const mod = await web.memberWithToken("mod", ["moderate", "upload", "invite"]);
  const carol = await web.memberWithToken("carol");
  tokens = { admin: admin.token, mod: mod.token, carol: carol.token };
}, 60000);
afterAll(async () => {
  await web?.close();
});

async function newsCount(): Promise<number> {
  const [row] = await web.db.sql`select count(*)::int as n from news`;
  return row!.n as number;
}

async function post(name: string, form: Record<string, string>) {
  const session = await web.login(name);
  return web.request("/news", { cookie: session.cookie, form: { _csrf: session.csrf, ...form } });
}

describe("news pages", () => {
  test("members read news; visitors are sent to log in", async () => {
    expect((await web.request("/news")).headers.get("location")).toBe("/login?next=%2Fnews");
    const { cookie } = await web.login("carol");
    const page = await (await web.request("/news", { cookie })).text();
    expect(page).toContain("<h1>News</h1>");
    expect(page).toContain("No news yet.");
    // Only administrators get the form.
    expect(page).not.toContain('action="/news"');
    const admin = await (await web.request("/news", { cookie: (await web.login("admin")).cookie })).text();
    expect(admin).toContain('action="/news"');
  });

  test("only administrators post: a member or a moderator gets 403 and nothing is stored", async () => {
    for (const name of ["carol", "mod"]) {
      const response = await post(name, { title: "Hi", body: "Not allowed" });
      expect(response.status).toBe(403);
      expect(await response.text()).toContain("the admin role");
    }
    expect(await newsCount()).toBe(0);
  });

  test("an administrator posts, edits and deletes; what members wrote is shown escaped", async () => {
    const response = await post("admin", {
      title: "<script>alert('t')</script> Maintenance",
      body: "Down <b>tonight</b>\r\n\r\n<img src=x onerror=alert(1)> & back soon",
    });
    expect(response.status).toBe(303);
    const location = response.headers.get("location")!;
    expect(location).toMatch(/^\/news\/\d+\?done=posted$/);
    const id = Number(location.split("/")[2]!.split("?")[0]);
    const { cookie } = await web.login("carol");
    const page = await (await web.request(`/news/${id}`, { cookie })).text();
    expect(page).not.toContain("<script>alert");
    expect(page).not.toContain("<b>tonight</b>");
    expect(page).not.toContain("<img src=x");
    expect(page).toContain("&lt;script&gt;alert(&#x27;t&#x27;)&lt;/script&gt; Maintenance");
    expect(page).toContain(
      "<p>Down &lt;b&gt;tonight&lt;/b&gt;</p>\n<p>&lt;img src=x onerror=alert(1)&gt; &amp; back soon</p>",
    );
    expect(page).toContain('<a class="member" href="/users/admin">admin</a>');
    // Members get no edit or delete buttons.
    expect(page).not.toContain(`/news/${id}/edit`);

    // A member cannot edit or delete, by page or form.
    expect((await web.request(`/news/${id}/edit`, { cookie })).status).toBe(403);
    const carol = await web.login("carol");
    const forgedEdit = await web.request(`/news/${id}/edit`, {
      cookie: carol.cookie,
      form: { _csrf: carol.csrf, title: "Hacked", body: "x" },
    });
    expect(forgedEdit.status).toBe(403);
    const forgedDelete = await web.request(`/news/${id}/delete`, {
      cookie: carol.cookie,
      form: { _csrf: carol.csrf },
    });
    expect(forgedDelete.status).toBe(403);
    const [still] = await web.db.sql`select title from news where id = ${id}`;
    expect(still!.title).toContain("Maintenance");

    const admin = await web.login("admin");
    const editPage = await (await web.request(`/news/${id}/edit`, { cookie: admin.cookie })).text();
    expect(editPage).toContain(`maxlength="${NEWS_LIMITS.bodyMax}"`);
    const edited = await web.request(`/news/${id}/edit`, {
      cookie: admin.cookie,
      form: { _csrf: admin.csrf, title: "Maintenance tonight", body: "From 22:00 UTC." },
    });
    expect(edited.status).toBe(303);
    const after = await (await web.request(`/news/${id}`, { cookie })).text();
    expect(after).toContain("Maintenance tonight");
    expect(after).toContain("edited");

    const deleted = await web.request(`/news/${id}/delete`, {
      cookie: admin.cookie,
      form: { _csrf: admin.csrf },
    });
    expect(deleted.status).toBe(303);
    expect(deleted.headers.get("location")).toBe("/news?done=deleted");
    expect((await web.request(`/news/${id}`, { cookie })).status).toBe(404);
    expect(await newsCount()).toBe(0);
  });

  test("empty, too long, control characters or NUL are refused next to the field and change nothing", async () => {
    for (const [form, field] of [
      [{ title: "", body: "text" }, "title"],
      [{ title: "Title", body: "   " }, "body"],
      [{ title: "x".repeat(NEWS_LIMITS.titleMax + 1), body: "text" }, "title"],
      [{ title: "Title", body: "y".repeat(NEWS_LIMITS.bodyMax + 1) }, "body"],
      [{ title: "Two\nlines", body: "text" }, "title"],
      [{ title: "Title", body: "bell \u0007" }, "body"],
    ] as const) {
      const response = await post("admin", form);
      expect(response.status).toBe(422);
      const html = await response.text();
      expect(html).toContain(`id="${field}-error"`);
    }
    const nul = await post("admin", { title: "Title", body: "nul \u0000" });
    expect(nul.status).toBeGreaterThanOrEqual(400);
    expect(nul.status).toBeLessThan(500);
    expect(await newsCount()).toBe(0);
    // Without the CSRF token: refused, nothing stored.
    const { cookie } = await web.login("admin");
    expect((await web.request("/news", { cookie, form: { title: "T", body: "B" } })).status).toBe(403);
    expect(await newsCount()).toBe(0);
  });

  test("the rules, as a plain function", () => {
    expect(newsProblems({ title: "T", body: "B" })).toEqual({});
    expect(Object.keys(newsProblems({ title: "", body: "" })).sort()).toEqual(["body", "title"]);
  });
});

describe("news API", () => {
  test("members list and read; only administrators post, edit and delete", async () => {
    await expectError(
      await web.call("/api/v1/news", { as: { token: tokens.mod }, json: { title: "T", body: "B" } }),
      403,
      "forbidden",
    );
    const created = await web.call("/api/v1/news", {
      as: { token: tokens.admin },
      json: { title: "Welcome", body: "Hello <em>everyone</em>" },
    });
    const item = await expectJson<{ id: number; body_html: string; author: { name: string } }>(created, 201);
    expect(created.headers.get("location")).toBe(`/api/v1/news/${item.id}`);
    expect(item.body_html).toBe("<p>Hello &lt;em&gt;everyone&lt;/em&gt;</p>\n");
    expect(item.author.name).toBe("admin");

    const list = await expectJson<{ items: { id: number }[]; has_next: boolean }>(
      await web.call("/api/v1/news", { as: { token: tokens.carol } }),
    );
    expect(list.items.map((i) => i.id)).toEqual([item.id]);
    expect(list.has_next).toBe(false);

    await expectError(
      await web.call(`/api/v1/news/${item.id}`, {
        method: "PATCH",
        as: { token: tokens.carol },
        json: { title: "X" },
      }),
      403,
      "forbidden",
    );
    const invalid = await expectError(
      await web.call(`/api/v1/news/${item.id}`, {
        method: "PATCH",
        as: { token: tokens.admin },
        json: { title: "" },
      }),
      422,
      "validation",
    );
    expect(invalid.fields?.title).toBe("Enter a title.");
    const patched = await expectJson<{ title: string; body: string; updated_at: string | null }>(
      await web.call(`/api/v1/news/${item.id}`, {
        method: "PATCH",
        as: { token: tokens.admin },
        json: { title: "Welcome!" },
      }),
    );
    expect(patched).toMatchObject({ title: "Welcome!", body: "Hello <em>everyone</em>" });
    expect(patched.updated_at).not.toBeNull();

    await expectError(
      await web.call(`/api/v1/news/${item.id}`, { method: "DELETE", as: { token: tokens.carol } }),
      403,
      "forbidden",
    );
    const gone = await web.call(`/api/v1/news/${item.id}`, { method: "DELETE", as: { token: tokens.admin } });
    expect(gone.status).toBe(204);
    await expectError(
      await web.call(`/api/v1/news/${item.id}`, { as: { token: tokens.carol } }),
      404,
      "not_found",
    );
    await expectError(
      await web.call(`/api/v1/news/${item.id}`, { method: "DELETE", as: { token: tokens.admin } }),
      404,
      "not_found",
    );
  });
});
