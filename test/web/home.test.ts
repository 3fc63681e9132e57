import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { recordSiteSample } from "../../src/db/queries/samples.ts";
import { FEW_SEEDERS, HOME_LIMITS, needsSeeding, siteStatistics } from "../../src/web/home/service.ts";
import { type ApiHarness, apiHarness, expectError, expectJson } from "../helpers/api.ts";

const GIB = 1024 ** 3;
const DAY = 86_400_000;

let web: ApiHarness;
let ids: Record<"admin" | "bob" | "carol", number>;
let carolToken: string;
let hashByte = 0;

async function torrent(title: string, creatorId: number | null, seeders = 0, leechers = 0): Promise<number> {
  const [row] = await web.db.sql`
    insert into torrents (info_hash, title, size, files, creator_id, metainfo)
    values (${Buffer.alloc(20, ++hashByte)}, ${title}, ${GIB}, ${web.db.sql.json([{ path: "f", length: GIB }])}, ${creatorId}, ${Buffer.from("d4:infodee")})
    returning id
  `;
  const id = row!.id as number;
  await web.db
    .sql`update torrent_counts set seeders = ${seeders}, leechers = ${leechers} where torrent_id = ${id}`;
  return id;
}

beforeAll(async () => {
  web = await apiHarness();
  const admin = await web.member("admin");
  const bob = await web.member("bob", ["upload"]);
  const carol = await web.memberWithToken("carol");
  ids = { admin: admin.id, bob: bob.id, carol: carol.id };
  carolToken = carol.token;
  await web.member("gone");
  await web.db.sql`update users set disabled = true where name = 'gone'`;
}, 60000);
afterAll(async () => {
  await web?.close();
});
beforeEach(async () => {
  await web.db.sql`delete from site_samples`;
});

describe("the home page", () => {
  test("visitors are sent to log in; members get their home page", async () => {
    const visitor = await web.request("/");
    expect(visitor.status).toBe(303);
    expect(visitor.headers.get("location")).toBe("/login?next=%2F");
    const { cookie } = await web.login("carol");
    const response = await web.request("/", { cookie });
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain("<h1>Hello, carol</h1>");
    expect(html).toContain("No news yet.");
    // Logging in leads here.
    const login = await web.request("/login", { form: { name: "carol", password: "password123" } });
    expect(login.headers.get("location")).toBe("/");
  });

  test("latest torrents, newest first, with live counts and uploader links; news with the latest three", async () => {
    const first = await torrent("Older <i>one</i>", ids.bob);
    const second = await torrent("Newer one", ids.bob);
    web.counts.apply([[second, 7, 3, 2]]);
    for (let i = 1; i <= 4; i++)
      await web.db.sql`insert into news (title, body, author_id, created_at)
        values (${`Item ${i}`}, ${`Body ${i} <script>x</script>`}, ${ids.admin}, now() - ${`${10 - i} minutes`}::interval)`;
    const { cookie } = await web.login("carol");
    const html = await (await web.request("/", { cookie })).text();
    const newer = html.indexOf(`/torrents/${second}"`);
    const older = html.indexOf(`/torrents/${first}"`);
    expect(newer).toBeGreaterThan(0);
    expect(older).toBeGreaterThan(newer);
    expect(html).toContain("Older &lt;i&gt;one&lt;/i&gt;");
    expect(html).toContain(`<span data-torrent-id="${second}" data-count="seeders">7</span>`);
    expect(html).toContain('<a class="member" href="/users/bob">bob</a>');
    // The page follows the live counts.
    expect(html).toContain('data-live-url="/events/counts"');
    expect(html).toContain("Item 4");
    expect(html).toContain("Item 2");
    expect(html).not.toContain("Item 1<");
    expect(html).not.toContain("<script>x</script>");
    expect(html).toContain("Body 4 &lt;script&gt;x&lt;/script&gt;");
    await web.db.sql`delete from news`;
  });

  test("the member's own ratio and totals", async () => {
    await web.db.sql`update users set uploaded = ${3 * GIB}, downloaded = ${2 * GIB} where id = ${ids.carol}`;
    const { cookie } = await web.login("carol");
    const html = await (await web.request("/", { cookie })).text();
    expect(html).toContain('<p class="big">1.50</p>');
    expect(html).toContain("<dt>Uploaded</dt><dd>3.00 GiB</dd>");
    expect(html).toContain('<a href="/users/carol">Your profile</a>');
  });
});

describe("site statistics", () => {
  test("counted now when no recent sample: active members, torrents, seeders, leechers", async () => {
    const now = Date.now();
    const stats = await siteStatistics(web.deps, now);
    const [expected] = await web.db.sql`
      select (select count(*)::int from users where not disabled) as members,
        (select count(*)::int from torrents) as torrents,
        (select coalesce(sum(seeders), 0)::int from torrent_counts) as seeders,
        (select coalesce(sum(leechers), 0)::int from torrent_counts) as leechers
    `;
    expect(stats).toMatchObject(expected!);
    expect(stats.members).toBe(3); // the disabled member is not counted
    expect(stats.asOf.getTime()).toBe(now);
    expect(stats.today).toBeNull();
  });

  test("traffic from the latest sample when recent, today's from the last sample before midnight; counts stay live", async () => {
    const midnight = Math.floor(Date.now() / DAY) * DAY;
    const now = midnight + 10 * 3_600_000;
    const totals = {
      members: 40,
      torrents: 500,
      seeders: 90,
      leechers: 12,
      uploaded: 10 * GIB,
      downloaded: 8 * GIB,
    };
    await recordSiteSample(web.db.sql, new Date(midnight - 5 * 60_000), totals);
    await recordSiteSample(web.db.sql, new Date(now - 60_000), {
      ...totals,
      seeders: 95,
      uploaded: 15 * GIB,
      downloaded: 9 * GIB,
    });
    const stats = await siteStatistics(web.deps, now);
    // The sample's members, torrents and peers are five minutes old: the page shows today's.
    const [live] = await web.db.sql`
      select (select count(*)::int from users where not disabled) as members,
        (select count(*)::int from torrents) as torrents,
        (select coalesce(sum(seeders), 0)::int from torrent_counts) as seeders,
        (select coalesce(sum(leechers), 0)::int from torrent_counts) as leechers
    `;
    expect(stats).toMatchObject(live!);
    expect(stats.members).toBe(3);
    expect(stats).toMatchObject({ uploaded: 15 * GIB, downloaded: 9 * GIB });
    expect(stats.today).toEqual({ uploaded: 5 * GIB, downloaded: GIB });
    expect(stats.asOf.getTime()).toBe(now - 60_000);
    // A stale sample is not used: the traffic is summed again, as of now.
    const later = await siteStatistics(web.deps, now + 3_600_000);
    expect(later.asOf.getTime()).toBe(now + 3_600_000);
    expect(later.members).toBe(3);
  });

  test("a baseline from long before midnight is not today's: the day's first sample is", async () => {
    const midnight = Math.floor(Date.now() / DAY) * DAY;
    const now = midnight + 6 * 3_600_000;
    const totals = { members: 1, torrents: 1, seeders: 0, leechers: 0, uploaded: GIB, downloaded: GIB };
    await recordSiteSample(web.db.sql, new Date(midnight - 3 * DAY), totals);
    await recordSiteSample(web.db.sql, new Date(midnight + 3_600_000), { ...totals, uploaded: 2 * GIB });
    await recordSiteSample(web.db.sql, new Date(now - 60_000), { ...totals, uploaded: 5 * GIB });
    expect((await siteStatistics(web.deps, now)).today).toEqual({ uploaded: 3 * GIB, downloaded: 0 });
  });

  test("shown on the home page and in the API: counts live, traffic with the time of its sample", async () => {
    const now = Date.now();
    await recordSiteSample(web.db.sql, new Date(now - 60_000), {
      members: 1234,
      torrents: 5678,
      seeders: 910,
      leechers: 111,
      uploaded: GIB,
      downloaded: GIB,
    });
    const { cookie } = await web.login("carol");
    const live = async () => {
      const [row] = await web.db.sql`
        select (select count(*)::int from users where not disabled) as members,
          (select count(*)::int from torrents) as torrents
      `;
      return row as { members: number; torrents: number };
    };
    const before = await live();
    let html = await (await web.request("/", { cookie })).text();
    expect(html).toContain(`<dt>Members</dt><dd>${before.members}</dd>`);
    expect(html).toContain(`<dt>Torrents</dt><dd>${before.torrents}</dd>`);
    expect(html).not.toContain("<dd>1234</dd>");
    const sampled = new Date(now - 60_000).toISOString();
    expect(html).toContain(`as sampled at <time datetime="${sampled}"`);
    // A member who registers now is counted on the next visit, not after the next sample.
    await web.member("newcomer-live");
    html = await (await web.request("/", { cookie })).text();
    expect(html).toContain(`<dt>Members</dt><dd>${before.members + 1}</dd>`);
    const body = await expectJson<{ members: number; torrents: number; as_of: string }>(
      await web.call("/api/v1/stats", { as: { token: carolToken } }),
    );
    expect(body).toMatchObject({ members: before.members + 1, torrents: before.torrents, as_of: sampled });
    await expectError(await web.call("/api/v1/stats"), 401, "unauthenticated");
  });
});

describe("what needs seeding", () => {
  test("the member's completed torrents with few seeders, fewest first; else the site's least seeded", async () => {
    await web.db.sql`delete from torrents`;
    const lonely = await torrent("Lonely", ids.bob, 0, 4);
    const few = await torrent("Few", ids.bob, FEW_SEEDERS - 1, 0);
    const healthy = await torrent("Healthy", ids.bob, FEW_SEEDERS + 5, 1);
    const waiting = await torrent("Waiting", ids.bob, 1, 9);
    const idle = await torrent("Idle", null, 0, 0);

    // Carol completed nothing: the site's least seeded, those with someone downloading first.
    const site = await needsSeeding(web.deps, ids.carol);
    expect(site.kind).toBe("site");
    expect(site.rows.map((r) => r.id)).toEqual([lonely, waiting, healthy, idle, few]);
    expect(site.rows.length).toBeLessThanOrEqual(HOME_LIMITS.seeding);

    await web.db.sql`
      insert into user_torrent_stats (user_id, torrent_id, downloaded, completed_at)
      values (${ids.carol}, ${few}, 1, now()), (${ids.carol}, ${healthy}, 1, now()), (${ids.carol}, ${lonely}, 1, null)
    `;
    const yours = await needsSeeding(web.deps, ids.carol);
    expect(yours).toMatchObject({ kind: "yours" });
    expect(yours.rows.map((r) => r.id)).toEqual([few]);
    // Live counts win over the stored ones.
    web.counts.apply([[few, 1, 2, 0]]);
    expect((await needsSeeding(web.deps, ids.carol)).rows[0]).toMatchObject({ seeders: 1, leechers: 2 });

    const { cookie } = await web.login("carol");
    const html = await (await web.request("/", { cookie })).text();
    expect(html).toContain("Your torrents that need seeding");
    expect(html).toContain(`href="/torrents/${few}"`);

    const api = await expectJson<{
      needs_seeding: { kind: string; items: { id: number }[] };
      me: { ratio: number };
    }>(await web.call("/api/v1/home", { as: { token: carolToken } }));
    expect(api.needs_seeding.kind).toBe("yours");
    expect(api.needs_seeding.items.map((i) => i.id)).toEqual([few]);

    const bob = await web.login("bob");
    const page = await (await web.request("/", { cookie: bob.cookie })).text();
    expect(page).toContain("Torrents that need seeders");
    const other = page.slice(page.indexOf("Torrents that need seeders"));
    expect(other.indexOf(`href="/torrents/${lonely}"`)).toBeLessThan(
      other.indexOf(`href="/torrents/${waiting}"`),
    );
  });
});
