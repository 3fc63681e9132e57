// Categories, tags and comments in the database: the triggers that keep copies and counts, and the
// filtered list in every order, checked against a plain query that sorts every match.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { insertCategory } from "../src/db/queries/categories.ts";
import { commentNotices, insertComment } from "../src/db/queries/comments.ts";
import { findTag, setTorrentTags } from "../src/db/queries/tags.ts";
import { listTorrents, SORTS, type Sort } from "../src/db/queries/torrents.ts";
import { createUser } from "../src/db/queries/users.ts";
import { normaliseTag, parseTags, tagFilter } from "../src/web/torrents/tags.ts";
import { type TestDatabase, testDatabase } from "./helpers/database.ts";

let db: TestDatabase;
const cats: number[] = [];

beforeAll(async () => {
  db = await testDatabase();
  for (const [name, icon] of [
    ["Linux", "terminal"],
    ["Music", "music"],
    ["Films", "film"],
    ["Rare", "star"],
  ] as const)
    cats.push((await insertCategory(db.sql, { name, icon, position: cats.length }))!.id);
  // 7,000 torrents: three large categories, one with 1 in 100; a tag on 6 in 7 (more than the
  // few-matches path takes), a tag on 1 in 97, a word in 1 title in 50.
  await db.sql`
    insert into torrents (info_hash, title, size, files, metainfo, snatches, category_id, created_at)
    select decode(md5('cat' || g), 'hex') || '\\x00000000'::bytea,
      'Plenty ' || case when g % 50 = 0 then 'Scarce ' else '' end || g,
      (g * 7919) % 1000, '[]', '\\x78', (g * 13) % 23,
      case when g % 100 = 0 then ${cats[3]!}::bigint else (array[${cats[0]!}, ${cats[1]!}, ${cats[2]!}]::bigint[])[1 + g % 3] end,
      now() - make_interval(secs => (8000 - g) * 60)
    from generate_series(1, 7000) g
  `;
  await db.sql`
    update torrent_counts c set seeders = (t.id * 31) % 17, leechers = (t.id * 7) % 5
    from torrents t where t.id = c.torrent_id
  `;
  await db.sql`insert into tags (name) values ('common'), ('rare')`;
  await db.sql`
    insert into torrent_tags (tag_id, torrent_id)
    select (select id from tags where name = 'common'), id from torrents where id % 7 <> 0
    union all
    select (select id from tags where name = 'rare'), id from torrents where id % 97 = 0
  `;
}, 120_000);
afterAll(async () => {
  await db?.close();
});

describe("tags, normalised", () => {
  test("lowercase, trimmed, spaces to dots, no stray dots or hyphens at the ends", () => {
    expect(normaliseTag("  Science   Fiction ")).toBe("science.fiction");
    expect(normaliseTag("..Live  CD--")).toBe("live.cd");
    expect(normaliseTag("ＡＢＣ")).toBe("abc");
    expect(normaliseTag("   ")).toBe("");
    expect(parseTags("Linux, live cd, LINUX,,  amd64 ")).toEqual({
      ok: true,
      tags: ["linux", "live.cd", "amd64"],
    });
    expect(parseTags(["Éte", "été"])).toEqual({ ok: true, tags: ["éte", "été"] });
  });

  test("wrong characters, too long or too many are refused with the reason", () => {
    const bad = parseTags("fine, <script>");
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.message).toContain("only letters, digits");
    const long = parseTags("x".repeat(33));
    expect(long.ok).toBe(false);
    if (!long.ok) expect(long.message).toContain("longer than 32");
    const many = parseTags(Array.from({ length: 11 }, (_, i) => `t${i}`).join(","));
    expect(many).toEqual({ ok: false, message: "Use at most 10 tags." });
    expect(parseTags(Array.from({ length: 10 }, (_, i) => `t${i}`)).ok).toBe(true);
    expect(tagFilter("Live CD")).toBe("live.cd");
    expect(tagFilter("a&b")).toBeNull();
  });
});

describe("triggers", () => {
  test("a tag's count follows its torrents, including deleted ones", async () => {
    expect((await findTag(db.sql, "common"))!.uses).toBe(6000);
    expect((await findTag(db.sql, "rare"))!.uses).toBe(72);
    const [extra] = await db.sql<{ id: number }[]>`
      insert into torrents (info_hash, title, size, files, metainfo)
      values (decode(md5('extra'), 'hex') || '\\x00000000'::bytea, 'Extra', 1, '[]', '\\x78') returning id
    `;
    await setTorrentTags(db.sql, extra!.id, ["rare", "fresh"]);
    expect((await findTag(db.sql, "rare"))!.uses).toBe(73);
    expect((await findTag(db.sql, "fresh"))!.uses).toBe(1);
    await setTorrentTags(db.sql, extra!.id, ["fresh"]);
    expect((await findTag(db.sql, "rare"))!.uses).toBe(72);
    await db.sql`delete from torrents where id = ${extra!.id}`;
    expect((await findTag(db.sql, "fresh"))!.uses).toBe(0);
  });

  test("torrent_counts keeps the torrent's category, at insert and on every change", async () => {
    const differ = async () =>
      (
        await db.sql<{ n: number }[]>`
          select count(*)::int as n from torrents t join torrent_counts c on c.torrent_id = t.id
          where t.category_id is distinct from c.category_id
        `
      )[0]!.n;
    expect(await differ()).toBe(0);
    const [one] = await db.sql<
      { id: number }[]
    >`select id from torrents where category_id = ${cats[0]!} limit 1`;
    await db.sql`update torrents set category_id = ${cats[1]!} where id = ${one!.id}`;
    expect(await differ()).toBe(0);
    await db.sql`update torrents set category_id = ${cats[0]!} where id = ${one!.id}`;
    expect(await differ()).toBe(0);
    // A category holding torrents cannot go without them moving first.
    await expect(db.sql`delete from categories where id = ${cats[3]!}`).rejects.toThrow();
  });
});

describe("the list filtered by category and tag", () => {
  const order = (sort: Sort) =>
    ({
      date: "t.created_at",
      seeders: "c.seeders",
      leechers: "c.leechers",
      snatches: "t.snatches",
      size: "t.size",
      title: "lower(t.title)",
    })[sort];

  /** The page as a plain query that filters and sorts every torrent gives it. */
  async function expected(where: string, sort: Sort, dir: "asc" | "desc", offset: number): Promise<number[]> {
    const rows = await db.sql.unsafe(
      `select t.id from torrents t join torrent_counts c on c.torrent_id = t.id
       where ${where}
       order by ${order(sort)} ${dir}, t.id ${dir} limit 51 offset ${offset}`,
    );
    return rows.map((r) => Number(r.id));
  }

  test("every order, each way, by category alone: the same page as sorting every match", async () => {
    for (const sort of SORTS)
      for (const dir of ["asc", "desc"] as const)
        for (const category of [cats[0]!, cats[3]!]) {
          const got = await listTorrents(db.sql, {
            categoryId: category,
            sort,
            order: dir,
            limit: 50,
            offset: 50,
          });
          expect({ sort, dir, category, ids: got.map((r) => r.id) }).toEqual({
            sort,
            dir,
            category,
            ids: await expected(`t.category_id = ${category}`, sort, dir, 50),
          });
          for (const row of got) expect(row.categoryId).toBe(category);
        }
  }, 120_000);

  test("tags common and rare, with a category and a search: the same page as sorting every match", async () => {
    const common = (await findTag(db.sql, "common"))!;
    const rare = (await findTag(db.sql, "rare"))!;
    const tagged = (id: number) =>
      `exists (select 1 from torrent_tags x where x.tag_id = ${id} and x.torrent_id = t.id)`;
    const cases: { label: string; options: Parameters<typeof listTorrents>[1]; where: string }[] = [];
    for (const sort of ["date", "seeders", "size", "title"] as const)
      for (const dir of ["asc", "desc"] as const) {
        const base = { sort, order: dir, limit: 50, offset: 50 } as const;
        cases.push(
          { label: `common ${sort} ${dir}`, options: { ...base, tag: common }, where: tagged(common.id) },
          {
            label: `rare ${sort} ${dir}`,
            options: { ...base, tag: rare, offset: 0 },
            where: tagged(rare.id),
          },
          {
            label: `common + category ${sort} ${dir}`,
            options: { ...base, tag: common, categoryId: cats[1]! },
            where: `${tagged(common.id)} and t.category_id = ${cats[1]!}`,
          },
          {
            label: `search + category ${sort} ${dir}`,
            options: { ...base, search: "plenty", categoryId: cats[2]! },
            where: `t.title like 'Plenty %' and t.category_id = ${cats[2]!}`,
          },
          {
            label: `scarce + common + category ${sort} ${dir}`,
            options: { ...base, search: "scarce", tag: common, categoryId: cats[0]!, offset: 0 },
            where: `t.title like 'Plenty Scarce %' and ${tagged(common.id)} and t.category_id = ${cats[0]!}`,
          },
        );
      }
    for (const c of cases) {
      const got = (await listTorrents(db.sql, c.options)).map((r) => r.id);
      const want = await expected(c.where, c.options.sort!, c.options.order!, c.options.offset);
      expect({ label: c.label, got }).toEqual({ label: c.label, got: want });
      expect(got.length).toBeGreaterThan(0);
    }
  }, 120_000);

  test("rows carry their category and tags", async () => {
    const common = (await findTag(db.sql, "common"))!;
    const [row] = await listTorrents(db.sql, { categoryId: cats[3]!, tag: common, limit: 5, offset: 0 });
    expect(row!.category).toBe("Rare");
    expect(row!.categoryIcon).toBe("star");
    expect(row!.tags).toEqual(["common"]);
  });
});

describe("comments", () => {
  test("a member's comments are throttled per minute; the uploader gets a notice, not the author", async () => {
    const { user: uploader } = await createUser(db.sql, { name: "uploader", passwordHash: "x" });
    const { user: talker } = await createUser(db.sql, { name: "talker", passwordHash: "x" });
    const [t] = await db.sql<{ id: number }[]>`
      insert into torrents (info_hash, title, size, files, metainfo, creator_id)
      values (decode(md5('talked'), 'hex') || '\\x00000000'::bytea, 'Talked about', 1, '[]', '\\x78', ${uploader.id})
      returning id
    `;
    const post = (authorId: number) =>
      insertComment(db.sql, {
        torrentId: t!.id,
        authorId,
        body: "hello",
        html: "<p>hello</p>\n",
        perMinute: 3,
      });
    expect(await post(uploader.id)).toHaveProperty("id");
    expect(await commentNotices(db.sql, uploader.id, 10)).toEqual([]);
    const results = await Promise.all([post(talker.id), post(talker.id), post(talker.id), post(talker.id)]);
    // Sent at once, still only three get through.
    expect(results.filter((r) => r && "id" in r)).toHaveLength(3);
    const throttled = results.find((r) => r && "throttled" in r) as { throttled: number };
    expect(throttled.throttled).toBeGreaterThanOrEqual(1);
    expect(throttled.throttled).toBeLessThanOrEqual(60);
    const [notice] = await commentNotices(db.sql, uploader.id, 10);
    expect(notice).toMatchObject({ torrentId: t!.id, title: "Talked about", unread: 3, before: 1 });
    expect(
      await insertComment(db.sql, {
        torrentId: 99999999,
        authorId: talker.id,
        body: "x",
        html: "<p>x</p>\n",
        perMinute: 99,
      }),
    ).toBeNull();
  });
});
