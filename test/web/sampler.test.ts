import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { LiveCounts } from "../../src/bridge/counts.ts";
import { sampleCounts } from "../../src/db/queries/samples.ts";
import { createUser } from "../../src/db/queries/users.ts";
import { SAMPLING, Sampler, type SamplingPolicy, type SeriesPolicy } from "../../src/web/plots/sampler.ts";
import { type TestDatabase, testDatabase } from "../helpers/database.ts";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** A Monday, 00:00:10 UTC: ten seconds into a period of every length used here. */
const START = Date.UTC(2026, 0, 5, 0, 0, 10);

let db: TestDatabase;
let torrents: number[];
let members: number[];

beforeAll(async () => {
  db = await testDatabase();
  members = [];
  for (const name of ["ann", "ben", "cat"])
    members.push((await createUser(db.sql, { name, passwordHash: "x" })).user.id);
  torrents = [];
  for (let i = 1; i <= 5; i++) {
    const [row] = await db.sql`
      insert into torrents (info_hash, title, size, files, metainfo)
      values (${Buffer.alloc(20, i)}, ${`t${i}`}, 1, ${db.sql.json([])}, ${Buffer.from("d4:infodee")})
      returning id
    `;
    torrents.push(row!.id as number);
  }
}, 60000);
afterAll(async () => {
  await db?.close();
});
beforeEach(async () => {
  await db.sql`delete from site_samples`;
  await db.sql`delete from torrent_samples`;
  await db.sql`delete from member_samples`;
  await db.sql`update users set uploaded = 0, downloaded = 0`;
});

/** A sampler on a clock the test moves. */
function sampler(policy?: SamplingPolicy) {
  const clock = { now: START };
  const counts = new LiveCounts();
  const s = new Sampler(db.sql, counts, { now: () => clock.now, policy });
  return { clock, counts, s };
}

async function siteTimes(): Promise<number[]> {
  const rows = await db.sql`select at from site_samples order by at`;
  return rows.map((r) => (r.at as Date).getTime());
}

describe("sampling", () => {
  test("each series is sampled once per period, at the period's start, however often ticked", async () => {
    const { clock, counts, s } = sampler();
    await db.sql`update users set uploaded = 100 where id = ${members[0]!}`;
    counts.apply([[torrents[0]!, 2, 1, 0]]);
    expect(await s.tick()).toMatchObject({ site: 1, torrents: 1, members: 1 });
    expect(await siteTimes()).toEqual([START - 10_000]);
    // Again at once, and later within the same periods: nothing.
    expect(await s.tick()).toMatchObject({ site: 0, torrents: 0, members: 0 });
    clock.now += 4 * MINUTE;
    counts.apply([[torrents[0]!, 3, 1, 0]]);
    expect(await s.tick()).toMatchObject({ site: 0, torrents: 0, members: 0 });
    // The next 5-minute period: site and torrents; members wait for the next hour.
    clock.now += MINUTE;
    await db.sql`update users set uploaded = 200 where id = ${members[0]!}`;
    expect(await s.tick()).toMatchObject({ site: 1, torrents: 1, members: 0 });
    expect(await siteTimes()).toEqual([START - 10_000, START - 10_000 + 5 * MINUTE]);
    clock.now = START + HOUR;
    expect((await s.tick()).members).toBe(1);
    const memberRows = await db.sql`select at, uploaded from member_samples order by at`;
    expect(memberRows.map((r) => [(r.at as Date).getTime(), r.uploaded])).toEqual([
      [START - 10_000, 100],
      [START - 10_000 + HOUR, 200],
    ]);
    await s.stop();
  });

  test("two web processes sampling the same period write one row", async () => {
    const a = sampler();
    const b = sampler();
    a.counts.apply([[torrents[1]!, 5, 0, 0]]);
    b.counts.apply([[torrents[1]!, 5, 0, 0]]);
    await Promise.all([a.s.tick(), b.s.tick()]);
    expect(await sampleCounts(db.sql)).toMatchObject({ site_samples: 1, torrent_samples: 1 });
    await a.s.stop();
    await b.s.stop();
  });

  test("a torrent's counts are written only when they changed since its last sample", async () => {
    const { clock, counts, s } = sampler();
    const id = torrents[2]!;
    const next = async () => {
      clock.now += 5 * MINUTE;
      return (await s.tick()).torrents;
    };
    counts.apply([[id, 4, 2, 0]]);
    expect((await s.tick()).torrents).toBe(1);
    // No report: nothing to write.
    expect(await next()).toBe(0);
    // Reports that end where the last sample is: nothing either.
    counts.apply([[id, 5, 2, 0]]);
    counts.apply([[id, 4, 2, 0]]);
    expect(await next()).toBe(0);
    counts.apply([[id, 4, 3, 0]]);
    expect(await next()).toBe(1);
    // A torrent deleted while waiting is dropped, not an error.
    counts.apply([[999_999, 1, 1, 0]]);
    expect(await next()).toBe(0);
    expect(s.pendingTorrents).toBe(0);
    const rows =
      await db.sql`select seeders, leechers from torrent_samples where torrent_id = ${id} order by at`;
    expect(rows.map((r) => [r.seeders, r.leechers])).toEqual([
      [4, 2],
      [4, 3],
    ]);
    await s.stop();
  });

  test("at most maxPerPeriod torrents a period, oldest change first; the rest wait for the next", async () => {
    const policy: SamplingPolicy = { ...SAMPLING, torrents: { ...SAMPLING.torrents, maxPerPeriod: 2 } };
    const { clock, counts, s } = sampler(policy);
    counts.apply(torrents.map((id, i) => [id, i + 1, 0, 0] as [number, number, number, number]));
    // A newer report for the first torrent keeps its place and brings its latest counts.
    counts.apply([[torrents[0]!, 9, 9, 0]]);
    const written: number[] = [];
    for (let i = 0; i < 3; i++) {
      written.push((await s.tick()).torrents);
      clock.now += 5 * MINUTE;
    }
    expect(written).toEqual([2, 2, 1]);
    expect(s.pendingTorrents).toBe(0);
    const rows = await db.sql`select torrent_id, seeders from torrent_samples order by at, torrent_id`;
    expect(rows.map((r) => r.torrentId)).toEqual(torrents);
    expect(rows[0]!.seeders).toBe(9);
    await s.stop();
  });

  test("start() samples on its own timer until stopped", async () => {
    const counts = new LiveCounts();
    const s = new Sampler(db.sql, counts, { checkEveryMs: 20 }).start();
    const deadline = Date.now() + 10_000;
    while ((await sampleCounts(db.sql)).site_samples === 0 && Date.now() < deadline) await Bun.sleep(20);
    await s.stop();
    expect((await sampleCounts(db.sql)).site_samples).toBeGreaterThanOrEqual(1);
  });
});

describe("retention", () => {
  // Scaled down so a few hundred ticks cover several retention windows.
  const series: SeriesPolicy = {
    periodMs: 5 * MINUTE,
    fullMs: 30 * MINUTE,
    coarseMs: 15 * MINUTE,
    keepMs: 2 * HOUR,
    maxPerPeriod: 2,
  };
  const policy: SamplingPolicy = { site: { ...series, maxPerPeriod: 1 }, torrents: series, members: series };
  // Rows a series may hold per owner: every period back to the cutoff (full resolution, plus up to
  // a bucket more, as the cutoff falls on a bucket's start), then one a bucket back to the oldest.
  const fullPeriods = (series.fullMs + series.coarseMs) / series.periodMs + 1;
  const buckets = (series.keepMs - series.fullMs) / series.coarseMs + 1;
  const perOwner = fullPeriods + buckets;

  test("old samples are thinned to the last of each bucket, then deleted; the tables stay bounded", async () => {
    const { clock, counts, s } = sampler(policy);
    let thinned = 0;
    let deleted = 0;
    const ticks = 96; // 8 hours of 5-minute periods
    const peak = { site: 0, torrents: 0, members: 0 };
    for (let i = 0; i < ticks; i++) {
      // Everything changes every period: the worst case for the size of the tables.
      await db.sql`update users set uploaded = ${i + 1}, downloaded = ${i}`;
      counts.apply(torrents.map((id) => [id, i, i % 3, 0] as [number, number, number, number]));
      const report = await s.tick();
      thinned += report.thinned;
      deleted += report.deleted;
      const sizes = await sampleCounts(db.sql);
      peak.site = Math.max(peak.site, sizes.site_samples);
      peak.torrents = Math.max(peak.torrents, sizes.torrent_samples);
      peak.members = Math.max(peak.members, sizes.member_samples);
      if (i < ticks - 1) clock.now += 5 * MINUTE;
    }
    expect(thinned).toBeGreaterThan(0);
    expect(deleted).toBeGreaterThan(0);
    const slot = Math.floor(clock.now / series.periodMs) * series.periodMs;
    const cutoff = Math.floor((slot - series.fullMs) / series.coarseMs) * series.coarseMs;

    // Site: every period at full resolution; before the cutoff only the last of each bucket.
    const times = await siteTimes();
    expect(times[0]!).toBeGreaterThanOrEqual(slot - series.keepMs);
    const recent = times.filter((t) => t >= cutoff);
    const old = times.filter((t) => t < cutoff);
    expect(recent).toEqual(
      Array.from({ length: (slot - cutoff) / series.periodMs + 1 }, (_, i) => cutoff + i * series.periodMs),
    );
    expect(old.length).toBeGreaterThan(2);
    for (const t of old) expect(t % series.coarseMs).toBe(series.coarseMs - series.periodMs);
    expect(new Set(old.map((t) => Math.floor(t / series.coarseMs))).size).toBe(old.length);
    // The kept sample holds the bucket's last value (each of 3 members had uploaded i + 1 at tick i).
    const [kept] = await db.sql`select uploaded from site_samples where at = ${new Date(old[0]!)}`;
    expect(kept!.uploaded).toBe(3 * ((old[0]! - (START - 10_000)) / series.periodMs + 1));

    // Bounded: a site row, and per torrent and member, never more than the policy allows.
    expect(peak.site).toBeLessThanOrEqual(perOwner);
    const perTorrent = await db.sql`select count(*)::int as n from torrent_samples group by torrent_id`;
    for (const row of perTorrent) expect(row.n).toBeLessThanOrEqual(perOwner);
    const perMember = await db.sql`select count(*)::int as n from member_samples group by user_id`;
    for (const row of perMember) expect(row.n).toBeLessThanOrEqual(perOwner);
    // At most maxPerPeriod rows a period, whatever changed: full-resolution periods hold that many,
    // each older bucket at most a bucket's periods' worth.
    const bound =
      fullPeriods * series.maxPerPeriod + buckets * series.maxPerPeriod * (series.coarseMs / series.periodMs);
    expect(bound).toBeLessThan(torrents.length * perOwner);
    expect(peak.torrents).toBeLessThanOrEqual(bound);
    expect(peak.members).toBeLessThanOrEqual(bound);
    const old2 = await db.sql`select min(at) as at from torrent_samples`;
    expect((old2[0]!.at as Date).getTime()).toBeGreaterThanOrEqual(slot - series.keepMs);
    await s.stop();
  }, 120_000);

  test("the policy the site runs with keeps every table bounded", () => {
    for (const p of Object.values(SAMPLING)) {
      expect(p.coarseMs % p.periodMs).toBe(0);
      expect(p.fullMs).toBeLessThan(p.keepMs);
      expect(p.maxPerPeriod).toBeGreaterThan(0);
    }
    const rows = (p: SeriesPolicy) => p.fullMs / p.periodMs + (p.keepMs - p.fullMs) / p.coarseMs;
    expect(rows(SAMPLING.site)).toBeLessThan(5000);
    expect(rows(SAMPLING.torrents)).toBeLessThan(500);
    expect(rows(SAMPLING.members)).toBeLessThan(200);
  });
});
