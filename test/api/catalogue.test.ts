// Categories, tags, comments and the Markdown preview through the JSON API: the same rules as the
// pages, in the API's shapes.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  type ApiHarness,
  apiHarness,
  expectError,
  expectJson,
  smallTorrent,
  uploadForm,
} from "../helpers/api.ts";

let api: ApiHarness;
let admin: { token: string };
let uploader: { token: string; id: number };
let member: { token: string; id: number };
let moderator: { token: string };
const cat: Record<string, number> = {};

interface Torrent {
  id: number;
  title: string;
  category: { id: number; name: string; icon: string } | null;
  tags: string[];
  description: string;
  description_html: string;
}

beforeAll(async () => {
  api = await apiHarness({ FAIRYWREN_COMMENTS_PER_MINUTE: "3" });
  admin = await api.memberWithToken("admin");
  uploader = await api.memberWithToken("uploader", ["upload"]);
  member = await api.memberWithToken("member");
  moderator = await api.memberWithToken("moderator", ["moderate"]);
});
afterAll(async () => {
  await api?.close();
});

describe("categories", () => {
  test("administrators create, change and delete; members list", async () => {
    await expectError(
      await api.call("/api/v1/categories", { as: member, json: { name: "X", icon: "film" } }),
      403,
      "forbidden",
    );
    for (const [name, icon, position] of [
      ["Software", "software", 2],
      ["Films", "film", 1],
    ] as const) {
      const response = await api.call("/api/v1/categories", { as: admin, json: { name, icon, position } });
      const body = await expectJson<{ id: number; name: string }>(response, 201);
      expect(response.headers.get("location")).toBe(`/api/v1/categories/${body.id}`);
      cat[name] = body.id;
    }
    const taken = await expectError(
      await api.call("/api/v1/categories", { as: admin, json: { name: "FILMS", icon: "film" } }),
      409,
      "conflict",
    );
    expect(Object.keys(taken.fields!)).toEqual(["name"]);
    const icon = await expectError(
      await api.call("/api/v1/categories", { as: admin, json: { name: "Odd", icon: "unicorn" } }),
      422,
      "validation",
    );
    expect(Object.keys(icon.fields!)).toEqual(["icon"]);
    const listed = await expectJson<{ categories: { name: string; icon: string; position: number }[] }>(
      await api.call("/api/v1/categories", { as: member }),
    );
    expect(listed.categories.map((c) => c.name)).toEqual(["Films", "Software"]);
    const patched = await expectJson<{ name: string; icon: string; position: number }>(
      await api.call(`/api/v1/categories/${cat.Films}`, { as: admin, method: "PATCH", json: { icon: "tv" } }),
    );
    expect(patched).toEqual({ id: cat.Films, name: "Films", icon: "tv", position: 1 } as never);
    await expectError(
      await api.call("/api/v1/categories/99999", { as: admin, method: "PATCH", json: { name: "Y" } }),
      404,
      "not_found",
    );
  });
});

describe("uploads, edits and the list with categories and tags", () => {
  test("an upload names its category and tags; both come back in the torrent", async () => {
    const none = await expectError(
      await api.call("/api/v1/torrents", { as: uploader, form: uploadForm(smallTorrent("No cat")) }),
      422,
      "validation",
    );
    expect(Object.keys(none.fields!)).toEqual(["category_id"]);
    const badTags = await expectError(
      await api.call("/api/v1/torrents", {
        as: uploader,
        form: uploadForm(smallTorrent("Bad tags"), { category_id: String(cat.Software), tags: "a b, c/d" }),
      }),
      422,
      "validation",
    );
    expect(Object.keys(badTags.fields!)).toEqual(["tags"]);
    const made = await expectJson<Torrent>(
      await api.call("/api/v1/torrents", {
        as: uploader,
        form: uploadForm(smallTorrent("Debian Live"), {
          category_id: String(cat.Software),
          tags: "Linux, Live CD",
          description: "# About\n**Live** system, see <https://www.debian.org>",
        }),
      }),
      201,
    );
    expect(made.category).toEqual({ id: cat.Software!, name: "Software", icon: "software" });
    expect(made.tags).toEqual(["linux", "live.cd"]);
    expect(made.description_html).toContain("<h3>About</h3>");
    expect(made.description_html).toContain('<a href="https://www.debian.org" rel="nofollow noopener">');
    await api.call("/api/v1/torrents", {
      as: uploader,
      form: uploadForm(smallTorrent("Nature Film"), {
        category_id: String(cat.Films),
        tags: "linux, nature",
      }),
    });
  });

  test("the list filters by category and tag, with a search; tags are listed with counts", async () => {
    const titles = async (query: string) =>
      (
        await expectJson<{ items: Torrent[] }>(await api.call(`/api/v1/torrents?${query}`, { as: member }))
      ).items.map((t) => t.title);
    expect(await titles(`category=${cat.Software}`)).toEqual(["Debian Live"]);
    expect(await titles("tag=linux")).toEqual(["Nature Film", "Debian Live"]);
    expect(await titles("tag=Live%20CD")).toEqual(["Debian Live"]);
    expect(await titles(`tag=linux&category=${cat.Films}&q=nat&sort=title`)).toEqual(["Nature Film"]);
    expect(await titles("tag=%3Cx%3E")).toEqual([]);
    const bad = await expectError(
      await api.call("/api/v1/torrents?category=x", { as: member }),
      422,
      "validation",
    );
    expect(Object.keys(bad.fields!)).toEqual(["category"]);
    const tags = await expectJson<{ tags: { name: string; uses: number }[] }>(
      await api.call("/api/v1/tags", { as: member }),
    );
    expect(tags.tags[0]).toEqual({ name: "linux", uses: 2 });
    const prefix = await expectJson<{ tags: { name: string }[] }>(
      await api.call("/api/v1/tags?q=LI", { as: member }),
    );
    expect(prefix.tags.map((t) => t.name).sort()).toEqual(["linux", "live.cd"]);
    // "_" is a letter of a tag, not a wildcard: "li_e" does not find "live.cd".
    const underscore = await expectJson<{ tags: unknown[] }>(
      await api.call("/api/v1/tags?q=li_e", { as: member }),
    );
    expect(underscore.tags).toEqual([]);
  });

  test("PATCH changes the category and replaces the tags; a category holding torrents moves them when deleted", async () => {
    const [row] = await api.db.sql`select id from torrents where title = 'Nature Film'`;
    const changed = await expectJson<Torrent>(
      await api.call(`/api/v1/torrents/${row!.id}`, {
        as: uploader,
        method: "PATCH",
        json: { category_id: cat.Software, tags: ["Wildlife", "nature"] },
      }),
    );
    expect(changed.category!.id).toBe(cat.Software!);
    expect(changed.tags).toEqual(["nature", "wildlife"]);
    const refused = await expectError(
      await api.call(`/api/v1/torrents/${row!.id}`, {
        as: uploader,
        method: "PATCH",
        json: { category_id: null },
      }),
      422,
      "validation",
    );
    expect(Object.keys(refused.fields!)).toEqual(["category_id"]);
    await expectError(
      await api.call(`/api/v1/categories/${cat.Software}`, { as: admin, method: "DELETE" }),
      409,
      "conflict",
    );
    const deleted = await api.call(`/api/v1/categories/${cat.Software}?move_to=${cat.Films}`, {
      as: admin,
      method: "DELETE",
    });
    expect(deleted.status).toBe(204);
    const [moved] = await api.db
      .sql`select count(*)::int as n from torrents where category_id = ${cat.Films!}`;
    expect(moved!.n).toBe(2);
  });
});

describe("comments", () => {
  test("post, page, edit own, delete own or as a moderator; throttled with 429", async () => {
    const [row] = await api.db.sql`select id from torrents where title = 'Debian Live'`;
    const id = row!.id as number;
    const made = await expectJson<{ id: number; html: string; can_edit: boolean; author: { name: string } }>(
      await api.call(`/api/v1/torrents/${id}/comments`, { as: member, json: { body: "Thanks **a lot**" } }),
      201,
    );
    expect(made.html).toBe("<p>Thanks <strong>a lot</strong></p>\n");
    expect(made.can_edit).toBe(true);
    expect(made.author.name).toBe("member");
    const page = await expectJson<{
      items: { id: number; can_edit: boolean; can_delete: boolean }[];
      total: number;
    }>(await api.call(`/api/v1/torrents/${id}/comments`, { as: moderator }));
    expect(page.total).toBe(1);
    expect(page.items[0]).toMatchObject({ id: made.id, can_edit: false, can_delete: true });
    await expectError(
      await api.call(`/api/v1/comments/${made.id}`, {
        as: uploader,
        method: "PATCH",
        json: { body: "hijack" },
      }),
      403,
      "forbidden",
    );
    const edited = await expectJson<{ body: string; edited_at: string | null }>(
      await api.call(`/api/v1/comments/${made.id}`, {
        as: member,
        method: "PATCH",
        json: { body: "Thanks" },
      }),
    );
    expect(edited.body).toBe("Thanks");
    expect(edited.edited_at).not.toBeNull();
    const notices = await expectJson<{ torrents: { torrent_id: number; unread: number }[] }>(
      await api.call("/api/v1/me/new-comments", { as: uploader }),
    );
    expect(notices.torrents).toEqual([{ torrent_id: id, title: "Debian Live", unread: 1, page: 1 }] as never);
    await api.call(`/api/v1/torrents/${id}/comments`, { as: member, json: { body: "two" } });
    await api.call(`/api/v1/torrents/${id}/comments`, { as: member, json: { body: "three" } });
    const throttled = await api.call(`/api/v1/torrents/${id}/comments`, {
      as: member,
      json: { body: "four" },
    });
    const error = await expectError(throttled, 429, "rate_limited");
    expect(error.message).toContain("at most 3 comments a minute");
    expect(Number(throttled.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    await expectError(
      await api.call(`/api/v1/comments/${made.id}`, { as: uploader, method: "DELETE" }),
      403,
      "forbidden",
    );
    expect((await api.call(`/api/v1/comments/${made.id}`, { as: moderator, method: "DELETE" })).status).toBe(
      204,
    );
    await expectError(
      await api.call(`/api/v1/comments/${made.id}`, { as: member, method: "DELETE" }),
      404,
      "not_found",
    );
    await expectError(
      await api.call("/api/v1/torrents/99999/comments", { as: moderator, json: { body: "x" } }),
      404,
      "not_found",
    );
    await expectError(
      await api.call(`/api/v1/torrents/${id}/comments`, { as: moderator, json: { body: "  " } }),
      422,
      "validation",
    );
  });
});

describe("preview", () => {
  test("renders Markdown as the site shows it", async () => {
    const body = await expectJson<{ html: string }>(
      await api.call("/api/v1/preview", { as: member, json: { text: "*hi* <img src=x onerror=alert(1)>" } }),
    );
    expect(body.html).toBe("<p><em>hi</em> &lt;img src=x onerror=alert(1)&gt;</p>\n");
    await expectError(await api.call("/api/v1/preview", { json: { text: "x" } }), 401, "unauthenticated");
  });
});
