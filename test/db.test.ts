import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import postgres from "postgres";
import { connect } from "../src/db/client.ts";
import { migrate } from "../src/db/migrate.ts";
import { MIGRATIONS } from "../src/db/migrations.ts";
import { trackerCompletions } from "../src/db/queries/torrents.ts";
import { ALL_ROLES, createUser, NameTakenError } from "../src/db/queries/users.ts";
import { hashPassword, verifyPassword } from "../src/shared/secrets.ts";
import { SERVER_URL, type TestDatabase, testDatabase } from "./helpers/database.ts";
import { describeUnless, NEEDS_POSTGRES } from "./helpers/skip.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await testDatabase({ migrated: false });
});
afterAll(async () => {
  await db?.close();
});

describe("migrations", () => {
  test("every numbered file in sql/ is embedded, in order", () => {
    const files = readdirSync(join(import.meta.dir, "../sql"))
      .filter((f) => /^\d{3}_.*\.sql$/.test(f))
      .sort();
    expect(MIGRATIONS.map((m) => m.name)).toEqual(files);
    // Versions are the files' numbers, in order (numbers are handed out ahead, so one may be missing).
    MIGRATIONS.forEach((m, i) => {
      expect(m.version).toBe(Number(m.name.slice(0, 3)));
      if (i > 0) expect(m.version).toBeGreaterThan(MIGRATIONS[i - 1]!.version);
      expect(m.sql).toBe(readFileSync(join(import.meta.dir, "../sql", m.name), "utf8"));
    });
  });

  test("apply once, are recorded, and a second run applies nothing", async () => {
    expect(await migrate(db.sql)).toEqual(MIGRATIONS.map((m) => m.name));
    const rows = await db.sql`select version, name from schema_migrations order by version`;
    expect(rows.map((r) => r.name)).toEqual(MIGRATIONS.map((m) => m.name));
    expect(await migrate(db.sql)).toEqual([]);
  });

  test("a failing migration rolls back entirely and records nothing", async () => {
    const bad = [
      ...MIGRATIONS,
      { version: 999, name: "999_bad.sql", sql: "create table t999 (x int); select nope;" },
    ];
    await expect(migrate(db.sql, bad)).rejects.toThrow();
    const [counted] = await db.sql`select count(*)::int as n from schema_migrations where version = 999`;
    expect(counted!.n).toBe(0);
    const [found] = await db.sql`select to_regclass('t999') is not null as exists`;
    expect(found!.exists).toBe(false);
  });
});

describe("schema", () => {
  test("the first member gets every role, later ones none, names are unique ignoring case", async () => {
    const first = await createUser(db.sql, { name: "Alice", passwordHash: "x" });
    expect(first.roles.sort()).toEqual([...ALL_ROLES].sort());
    expect(first.user.passkey).toMatch(/^[0-9a-f]{32}$/);
    const second = await createUser(db.sql, { name: "bob", passwordHash: "x" });
    expect(second.roles).toEqual([]);
    await expect(createUser(db.sql, { name: "alice", passwordHash: "x" })).rejects.toBeInstanceOf(
      NameTakenError,
    );
    const roles = await db.sql`select role from user_roles where user_id = ${second.user.id}`;
    expect(roles).toHaveLength(0);
  });

  test("torrents keep 20-byte v1 hashes unique, the metainfo as bytea and a searchable title", async () => {
    const hash = Buffer.alloc(20, 7);
    const meta = Buffer.from("d4:infod4:name3:abcee");
    await db.sql`
      insert into torrents (info_hash, title, size, files, metainfo)
      values (${hash}, ${"Debian Bookworm netinst"}, ${123}, ${db.sql.json([{ path: "a", length: 123 }])}, ${meta})
    `;
    const [row] = await db.sql`
      select metainfo, size from torrents
      where search @@ to_tsquery('simple', 'bookw:*')
    `;
    expect(Buffer.compare(row!.metainfo, meta)).toBe(0);
    expect(row!.size).toBe(123);
    await expect(
      db.sql`insert into torrents (info_hash, title, size, files, metainfo) values (${hash}, 't', 1, '[]', ${meta})`,
    ).rejects.toThrow(/duplicate key/);
    await expect(
      db.sql`insert into torrents (info_hash, title, size, files, metainfo) values (${Buffer.alloc(19)}, 't', 1, '[]', ${meta})`,
    ).rejects.toThrow(/check constraint/);
  });

  test("no index of the per-torrent history covers what every announce changes (updates stay HOT)", async () => {
    // The credit write sets these on every accounted announce; an index on any of them turns each
    // update into a new entry in every index of the table (see sql/015).
    const perAnnounce = [
      "uploaded",
      "downloaded",
      "reported_uploaded",
      "reported_downloaded",
      "seed_seconds",
      "last_announce_at",
      "seeding",
      "leeching",
    ];
    const indexes = await db.sql<{ name: string; def: string }[]>`
      select indexrelid::regclass::text as name, pg_get_indexdef(indexrelid) as def
      from pg_index where indrelid = 'user_torrent_stats'::regclass
    `;
    expect(indexes.length).toBeGreaterThan(0);
    for (const { name, def } of indexes) {
      const words = new Set(def.toLowerCase().match(/[a-z_]+/g));
      expect({ name, columns: perAnnounce.filter((c) => words.has(c)) }).toEqual({ name, columns: [] });
    }
  });

  test("bigint counters come back as numbers", async () => {
    const [row] = await db.sql`select ${2 ** 40}::bigint as n`;
    expect(row!.n).toBe(2 ** 40);
  });
});

describe("passwords", () => {
  test("argon2id with a server-side pepper: a different pepper fails", async () => {
    const hash = await hashPassword("correct horse", "pepper-1");
    expect(hash).toStartWith("$argon2id$");
    expect(await verifyPassword("correct horse", hash, "pepper-1")).toBe(true);
    expect(await verifyPassword("correct horse", hash, "pepper-2")).toBe(false);
    expect(await verifyPassword("wrong horse", hash, "pepper-1")).toBe(false);
    expect(await verifyPassword("x", "not a hash", "pepper-1")).toBe(false);
  });
});

describe("completions for the tracker", () => {
  test("every completed (member, torrent) pair, none other, read in pages", async () => {
    const sql = db.sql;
    const users: number[] = [];
    for (const name of ["comp1", "comp2", "comp3"])
      users.push((await createUser(sql, { name, passwordHash: "x" })).user.id);
    const torrents: number[] = [];
    for (let i = 0; i < 3; i++) {
      const [row] = await sql`
        insert into torrents (info_hash, title, size, files, metainfo)
        values (${Buffer.alloc(20, 0x70 + i)}, ${`c${i}`}, 1, '[]', ${Buffer.from("de")})
        returning id`;
      torrents.push(row!.id as number);
    }
    const [u1, u2, u3] = users as [number, number, number];
    const [t1, t2, t3] = torrents as [number, number, number];
    const rows: [number, number, boolean][] = [
      [u1, t1, true],
      [u1, t2, false],
      [u1, t3, true],
      [u2, t2, true],
      [u3, t1, true],
      [u3, t3, false],
    ];
    for (const [user, torrent, done] of rows)
      await sql`
        insert into user_torrent_stats (user_id, torrent_id, completed_at)
        values (${user}, ${torrent}, ${done ? new Date() : null})`;
    const expected = [u1, t1, u1, t3, u2, t2, u3, t1];
    for (const pageSize of [1, 2, 3, 50_000])
      expect([...(await trackerCompletions(sql, pageSize))]).toEqual(expected);
  });
});

describeUnless(Boolean(SERVER_URL), NEEDS_POSTGRES)("roles on a real server", () => {
  test("the tracker role reads members and torrents and cannot write", async () => {
    const sql = db.sql;
    await sql.file(join(import.meta.dir, "../sql/roles.sql"));
    await sql.file(join(import.meta.dir, "../sql/permissions.sql"));
    const url = new URL(db.url!);
    url.username = "fairywren_tracker";
    url.password = "";
    const tracker = postgres(url.toString(), { max: 1, onnotice: () => {} });
    try {
      const users = await tracker`select id, passkey, disabled from users`;
      expect(users.length).toBeGreaterThan(0);
      await expect(tracker`select password_hash from users`).rejects.toThrow(/permission denied/);
      await expect(tracker`update users set disabled = true`).rejects.toThrow(/permission denied/);
      await expect(tracker`insert into roles values ('x', 'y')`).rejects.toThrow(/permission denied/);
      // Who completed which torrent, read at start; nothing else of the statistics.
      await expect(tracker`select uploaded from user_torrent_stats`).rejects.toThrow(/permission denied/);
    } finally {
      await tracker.end();
    }
    const asTracker = connect(url.toString(), 1);
    try {
      expect(await trackerCompletions(asTracker)).toBeInstanceOf(Float64Array);
    } finally {
      await asTracker.end();
    }
    url.username = "fairywren_web";
    const web = postgres(url.toString(), { max: 1, onnotice: () => {} });
    try {
      await web`update users set disabled = false where name = 'bob'`;
      const [row] = await web`select count(*)::int as n from users`;
      expect(row!.n).toBeGreaterThan(0);
    } finally {
      await web.end();
    }
  });
});
