// Seeding bonus points with a fixed clock: the formula, one earning per member and hour however
// often the job runs (twice, concurrently, after an interrupted run), and spending over real HTTP:
// atomic under concurrency, within the ceiling of totals, and refusing hostile input unchanged.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { frontOptions, webFetch } from "../../src/web/app.tsx";
import { hitAndRunRule, lastWholeHour, runBonusHour } from "../../src/web/economy/service.ts";
import { type ApiHarness, apiHarness, expectError, expectJson } from "../helpers/api.ts";
import { history, torrent } from "./fixtures.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const GIB = 2 ** 30;
const CEILING = 2n ** 60n;
/** 12:05 UTC: the job credits 11:00 to 12:00. */
const NOW = Date.UTC(2030, 0, 1, 12, 5);
const END = Date.UTC(2030, 0, 1, 12, 0);

let h: ApiHarness;
let server: ReturnType<typeof Bun.serve>;
const ids: Record<string, number> = {};
const tokens: Record<string, string> = {};

function call(
  path: string,
  init: { token?: string; json?: unknown; body?: string; headers?: Record<string, string> } = {},
) {
  const headers: Record<string, string> = { ...init.headers };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  const hasBody = init.json !== undefined || init.body !== undefined;
  if (hasBody && !headers["content-type"]) headers["content-type"] = "application/json";
  return fetch(`http://127.0.0.1:${server.port}${path}`, {
    method: hasBody ? "POST" : "GET",
    headers,
    body: init.body ?? (init.json !== undefined ? JSON.stringify(init.json) : undefined),
  });
}

async function balance(name: string): Promise<number> {
  const [row] = await h.db.sql<{ total: string }[]>`
    select coalesce(sum(millipoints), 0)::text as total from bonus_ledger where user_id = ${ids[name]!}
  `;
  return Number(row!.total);
}

async function uploaded(name: string): Promise<bigint> {
  const [row] = await h.db.sql<
    { uploaded: string }[]
  >`select uploaded::text from users where id = ${ids[name]!}`;
  return BigInt(row!.uploaded);
}

/** Gives a member points as an earning for an hour of its own. */
async function grant(name: string, millipoints: number, hour: number) {
  await h.db.sql`
    insert into bonus_ledger (user_id, hour, millipoints, reason) values (${ids[name]!}, ${new Date(hour)}, ${millipoints}, 'seeding')
  `;
}

beforeAll(async () => {
  h = await apiHarness({ FAIRYWREN_BONUS_POINTS_PER_GIB: "1", FAIRYWREN_BONUS_INVITE_POINTS: "3" });
  for (const name of ["root", "alice", "bob", "carol", "dave", "eve", "frank", "gina"]) {
    const m = await h.memberWithToken(name);
    ids[name] = m.id;
    tokens[name] = m.token;
  }
  await h.db.sql`update users set disabled = true where id = ${ids.dave!}`;
  const front = webFetch(h.app, frontOptions(h.deps.config));
  server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (request, s) => front(request, s) });
  Object.assign(h.deps, { clock: () => new Date(NOW) });

  // 1 GiB, a year old, 4 seeders: 1 × (1 + log2 2) × 2 × 1/2 = 2 points an hour.
  const old = await torrent(h.db.sql, { size: GIB, createdAt: new Date(END - 365 * DAY), seeders: 4 });
  // 3 GiB, new, alone: 1 × (1 + log2 4) × 1 × 1 = 3 points an hour.
  const fresh = await torrent(h.db.sql, { size: 3 * GIB, createdAt: new Date(END), seeders: 1 });
  const recent = new Date(END - 10 * 60_000);
  // Each completed here: the evidence the bonus needs.
  const done = new Date(END - 2 * HOUR);
  await history(h.db.sql, ids.alice!, old, { seeding: true, last_announce_at: recent, completed_at: done });
  await history(h.db.sql, ids.alice!, fresh, { seeding: true, last_announce_at: recent, completed_at: done });
  // Bob's last announce is older than the peer timeout (45 min); Carol stopped; Dave is disabled.
  await history(h.db.sql, ids.bob!, old, { seeding: true, last_announce_at: new Date(END - 50 * 60_000) });
  await history(h.db.sql, ids.carol!, old, { seeding: false, last_announce_at: recent });
  await history(h.db.sql, ids.dave!, old, { seeding: true, last_announce_at: recent });
});

afterAll(async () => {
  server?.stop(true);
  await h?.close();
});

describe("earning", () => {
  test("one hour: points per seeding torrent by size, age and seeders, for those seeding now only", async () => {
    expect(lastWholeHour(new Date(NOW)).getTime()).toBe(END - HOUR);
    expect(await runBonusHour(h.db.sql, h.deps.config, new Date(NOW))).toEqual({
      done: "earned",
      members: 1,
      millipoints: 5000,
    });
    const rows = await h.db.sql`select user_id, hour, millipoints, seeding_torrents from bonus_ledger`;
    expect(rows.map((r) => ({ ...r }))).toEqual([
      { userId: ids.alice!, hour: new Date(END - HOUR), millipoints: 5000, seedingTorrents: 2 },
    ]);
  });

  test("the same hour again, or two runs at once, credits nothing more", async () => {
    expect(await runBonusHour(h.db.sql, h.deps.config, new Date(NOW + 50 * 60_000))).toEqual({
      done: "already",
    });
    const next = NOW + HOUR;
    // Alice still seeds at the end of the next hour.
    await h.db
      .sql`update user_torrent_stats set last_announce_at = ${new Date(END + HOUR - 60_000)} where user_id = ${ids.alice!}`;
    const both = await Promise.all([
      runBonusHour(h.db.sql, h.deps.config, new Date(next)),
      runBonusHour(h.db.sql, h.deps.config, new Date(next)),
    ]);
    expect(both.map((o) => o?.done).sort()).toEqual(["already", "earned"]);
    expect(await balance("alice")).toBe(10_000);
    const [count] = await h.db.sql<
      { n: number }[]
    >`select count(*)::int as n from bonus_ledger where user_id = ${ids.alice!}`;
    expect(count!.n).toBe(2);
  });

  test("a run that dies mid-hour leaves nothing; the next run credits that hour once", async () => {
    const next = NOW + 2 * HOUR;
    await h.db
      .sql`update user_torrent_stats set last_announce_at = ${new Date(END + 2 * HOUR - 60_000)} where user_id = ${ids.alice!}`;
    const hour = new Date(END + HOUR);
    let reached = false;
    await expect(
      runBonusHour(h.db.sql, h.deps.config, new Date(next), async () => {
        // The earnings are written inside the transaction at this point (the embedded database has
        // one connection, held by it: nothing can look from outside meanwhile).
        reached = true;
        throw new Error("died");
      }),
    ).rejects.toThrow("died");
    expect(reached).toBe(true);
    const after = await h.db
      .sql`select 1 from bonus_ledger where hour = ${hour} union all select 1 from bonus_hours where hour = ${hour}`;
    expect(after.length).toBe(0);
    expect(await runBonusHour(h.db.sql, h.deps.config, new Date(next))).toMatchObject({
      done: "earned",
      millipoints: 5001, // the new torrent is two hours old now: 3 × (1 + (2/24)/365) rounds to 3.001
    });
    expect(await runBonusHour(h.db.sql, h.deps.config, new Date(next))).toEqual({ done: "already" });
    expect(await balance("alice")).toBe(15_001);
  });

  test("the balance and ledger on the API (self or staff) and the account page", async () => {
    const body = await expectJson<{ points: number; ledger: { reason: string; points: number }[] }>(
      await call(`/api/v1/users/${ids.alice!}/bonus`, { token: tokens.alice }),
    );
    expect(body.points).toBe(15.001);
    expect(body.ledger.map((r) => [r.reason, r.points])).toEqual([
      ["seeding", 5.001],
      ["seeding", 5],
      ["seeding", 5],
    ]);
    await expectJson(await call(`/api/v1/users/${ids.alice!}/bonus`, { token: tokens.root }));
    await expectError(
      await call(`/api/v1/users/${ids.alice!}/bonus`, { token: tokens.bob }),
      403,
      "forbidden",
    );
    const login = await h.login("alice");
    const page = await fetch(`http://127.0.0.1:${server.port}/account/bonus`, {
      headers: { cookie: login.cookie },
    });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<dd id="bonus-balance">15.001</dd>');
    const account = await fetch(`http://127.0.0.1:${server.port}/account`, {
      headers: { cookie: login.cookie },
    });
    expect(await account.text()).toContain('id="account-bonus">15.001<');
  });
});

describe("spending", () => {
  test("concurrent spends never take the balance below zero, and credit exactly what was paid", async () => {
    await grant("eve", 5000, END - 100 * HOUR);
    const before = await uploaded("eve");
    const answers = await Promise.all(
      Array.from({ length: 12 }, () =>
        call("/api/v1/bonus/spend", { token: tokens.eve, json: { item: "upload_credit", gib: 1 } }),
      ),
    );
    const statuses = answers.map((r) => r.status).sort();
    expect(statuses).toEqual([...Array(5).fill(200), ...Array(7).fill(409)]);
    for (const r of answers.filter((a) => a.status === 409)) await expectError(r, 409, "conflict");
    expect(await balance("eve")).toBe(0);
    expect(await uploaded("eve")).toBe(before + 5n * BigInt(GIB));
    const spent = await h.db
      .sql`select bytes::text from bonus_ledger where user_id = ${ids.eve!} and reason = 'upload_credit'`;
    expect(spent.map((r) => r.bytes)).toEqual(Array(5).fill(String(GIB)));
  });

  test("an invite is created for the member, its link shown once", async () => {
    await grant("eve", 3000, END - 99 * HOUR);
    const body = await expectJson<{ invite: { id: number; link: string }; points: number; spent: number }>(
      await call("/api/v1/bonus/spend", { token: tokens.eve, json: { item: "invite" } }),
    );
    expect(body).toMatchObject({ points: 0, spent: 3 });
    expect(body.invite.link).toMatch(/\/register\/[A-Za-z0-9_-]+$/);
    const [invite] = await h.db
      .sql`select inviter_id, claimed_at, expires_at from invites where id = ${body.invite.id}`;
    expect(invite!.inviterId).toBe(ids.eve!);
    expect(invite!.claimedAt).toBeNull();
    expect((invite!.expiresAt as Date).getTime()).toBe(NOW + 7 * DAY);
    const register = await fetch(
      body.invite.link.replace(/^https?:\/\/[^/]+/, `http://127.0.0.1:${server.port}`),
    );
    expect(register.status).toBe(200);
    // Short of points: refused, nothing created.
    const count = async () => (await h.db.sql`select count(*)::int as n from invites`)[0]!.n;
    const invites = await count();
    await expectError(
      await call("/api/v1/bonus/spend", { token: tokens.eve, json: { item: "invite" } }),
      409,
      "conflict",
    );
    expect(await count()).toBe(invites);
  });

  test("upload credit stops at the ceiling of totals", async () => {
    await grant("frank", 10_000, END - 100 * HOUR);
    await h.db
      .sql`update users set uploaded = ${(CEILING - BigInt(GIB) + 1n).toString()}::bigint where id = ${ids.frank!}`;
    await expectError(
      await call("/api/v1/bonus/spend", { token: tokens.frank, json: { item: "upload_credit", gib: 1 } }),
      409,
      "conflict",
    );
    expect(await uploaded("frank")).toBe(CEILING - BigInt(GIB) + 1n);
    expect(await balance("frank")).toBe(10_000);
    await h.db
      .sql`update users set uploaded = ${(CEILING - BigInt(GIB)).toString()}::bigint where id = ${ids.frank!}`;
    await expectJson(
      await call("/api/v1/bonus/spend", { token: tokens.frank, json: { item: "upload_credit", gib: 1 } }),
    );
    expect(await uploaded("frank")).toBe(CEILING);
    expect(await balance("frank")).toBe(9_000);
  });

  test("hostile input is refused with the API's error and changes nothing", async () => {
    await grant("gina", 2000, END - 100 * HOUR);
    const before = { points: await balance("gina"), uploaded: await uploaded("gina") };
    const bodies: unknown[] = [
      { item: "upload_credit" },
      { item: "upload_credit", gib: 0 },
      { item: "upload_credit", gib: -1 },
      { item: "upload_credit", gib: 1.5 },
      { item: "upload_credit", gib: 1025 },
      { item: "upload_credit", gib: 1e20 },
      { item: "upload_credit", gib: "1; drop table users" },
      { item: "upload_credit", gib: null },
      { item: "gold", gib: 1 },
      { gib: 1 },
      [],
      "invite",
    ];
    for (const json of bodies) {
      const error = await expectError(
        await call("/api/v1/bonus/spend", { token: tokens.gina, json }),
        422,
        "validation",
      );
      expect(error.message).not.toContain("drop table");
    }
    await expectError(
      await call("/api/v1/bonus/spend", { token: tokens.gina, body: "{not json" }),
      400,
      "bad_request",
    );
    await expectError(
      await call("/api/v1/bonus/spend", { json: { item: "invite" } }),
      401,
      "unauthenticated",
    );
    // The session cookie without its CSRF token.
    const login = await h.login("gina");
    await expectError(
      await call("/api/v1/bonus/spend", {
        json: { item: "invite" },
        headers: { cookie: login.cookie, origin: "http://site.test" },
      }),
      403,
      "forbidden",
    );
    expect({ points: await balance("gina"), uploaded: await uploaded("gina") }).toEqual(before);
  });

  test("the page's form spends too, and shows a readable refusal", async () => {
    const login = await h.login("gina");
    const post = (form: Record<string, string>) =>
      fetch(`http://127.0.0.1:${server.port}/account/bonus/spend`, {
        method: "POST",
        headers: {
          cookie: login.cookie,
          origin: `http://127.0.0.1:${server.port}`,
          "content-type": "application/x-www-form-urlencoded",
        },
        body: new URLSearchParams({ ...form, _csrf: login.csrf }).toString(),
      });
    const bad = await post({ item: "upload_credit", gib: "abc" });
    expect(bad.status).toBe(422);
    expect(await bad.text()).toContain("Use a whole number of GiB from 1 to 1024.");
    const good = await post({ item: "upload_credit", gib: "2" });
    expect(good.status).toBe(200);
    expect(await good.text()).toContain('<dd id="bonus-balance">0</dd>');
    const broke = await post({ item: "upload_credit", gib: "1" });
    expect(broke.status).toBe(409);
    expect(await broke.text()).toContain("This costs 1 points; you have 0.");
  });
});

test("the rule's peer timeout follows the tracker's", () => {
  expect(hitAndRunRule(h.deps.config).activeSeconds).toBe(2700);
});

describe("evidence", () => {
  test("a 1 TiB torrent seeded by its uploader alone earns nothing until another member completes it", async () => {
    const at = NOW + 40 * DAY;
    const end = END + 40 * DAY;
    const uploader = await h.memberWithToken("uploader");
    const snatcher = await h.memberWithToken("snatcher");
    const idler = await h.memberWithToken("idler");
    // Declared 1 TiB, announced left=0 by its uploader: nobody, the uploader included, downloaded it.
    const huge = await torrent(h.db.sql, { size: 2 ** 40, createdAt: new Date(end - 2 * DAY), seeders: 1 });
    await h.db.sql`update torrents set creator_id = ${uploader.id} where id = ${huge}`;
    const recent = new Date(end - 10 * 60_000);
    await history(h.db.sql, uploader.id, huge, { seeding: true, last_announce_at: recent });
    // Another member seeding a torrent they never completed here earns nothing either.
    await history(h.db.sql, idler.id, huge, { seeding: true, last_announce_at: recent });
    const earned = async (id: number) =>
      (
        await h.db.sql<{ n: number }[]>`
          select count(*)::int as n from bonus_ledger where user_id = ${id} and reason = 'seeding'`
      )[0]!.n;
    expect(await runBonusHour(h.db.sql, h.deps.config, new Date(at))).toEqual({
      done: "earned",
      members: 0,
      millipoints: 0,
    });
    // Another member completes it: the uploader's seeding is evidenced, and so is the snatcher's.
    await history(h.db.sql, snatcher.id, huge, {
      seeding: true,
      last_announce_at: new Date(end + HOUR - 10 * 60_000),
      completed_at: new Date(end + 30 * 60_000),
    });
    await history(h.db.sql, uploader.id, huge, { last_announce_at: new Date(end + HOUR - 10 * 60_000) });
    await history(h.db.sql, idler.id, huge, { last_announce_at: new Date(end + HOUR - 10 * 60_000) });
    const next = await runBonusHour(h.db.sql, h.deps.config, new Date(at + HOUR));
    expect(next).toMatchObject({ done: "earned", members: 2 });
    expect([await earned(uploader.id), await earned(snatcher.id), await earned(idler.id)]).toEqual([1, 1, 0]);
  });

  test("only a connectable seeder earns: one whose probe failed or never ran earns nothing", async () => {
    const at = NOW + 50 * DAY;
    const end = END + 50 * DAY;
    const t = await torrent(h.db.sql, { size: GIB, createdAt: new Date(end - DAY), seeders: 3 });
    const recent = new Date(end - 10 * 60_000);
    const done = new Date(end - 2 * HOUR);
    const names = ["reachable", "firewalled", "unprobed"] as const;
    const member: Record<string, number> = {};
    for (const name of names) member[name] = (await h.memberWithToken(name)).id;
    await history(h.db.sql, member.reachable!, t, {
      seeding: true,
      last_announce_at: recent,
      completed_at: done,
    });
    await history(h.db.sql, member.firewalled!, t, {
      seeding: true,
      last_announce_at: recent,
      completed_at: done,
      connectable: false,
    });
    await history(h.db.sql, member.unprobed!, t, {
      seeding: true,
      last_announce_at: recent,
      completed_at: done,
      connectable: null,
    });
    expect(await runBonusHour(h.db.sql, h.deps.config, new Date(at))).toMatchObject({
      done: "earned",
      members: 1,
    });
    const earned = await h.db.sql<{ userId: number }[]>`
      select user_id as "userId" from bonus_ledger
      where hour = ${new Date(end - HOUR)} and reason = 'seeding'
    `;
    expect(earned.map((r) => Number(r.userId))).toEqual([member.reachable!]);
  });
});
