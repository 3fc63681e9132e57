// The hit-and-run rule with a fixed clock, over real HTTP: a snatch at risk, seeding, then a
// hit-and-run, then satisfied after more seeding; the ratio and download exemptions; who may see what.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { applyStatBatch } from "../../src/db/queries/stats.ts";
import { DELTA_FIELDS } from "../../src/shared/channel.ts";
import { frontOptions, webFetch } from "../../src/web/app.tsx";
import { type ApiHarness, apiHarness, expectError, expectJson } from "../helpers/api.ts";
import { history, torrent } from "./fixtures.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const SIZE = 1_000_000;

let h: ApiHarness;
let server: ReturnType<typeof Bun.serve>;
let clock = 0;
let root: { id: number; token: string };
let alice: { id: number; token: string };
let bob: { id: number; token: string };
let aliceTorrent = 0;
let completedAt = 0;

/** A call over a real socket to the web app, as a script with a token would make it. */
function get(path: string, token?: string): Promise<Response> {
  return fetch(`http://127.0.0.1:${server.port}${path}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
}

interface Snatch {
  torrent: { id: number };
  status: string;
  settled_by: string | null;
  seconds_left: number;
  seed_seconds_owed: number;
}

async function snatchOf(userId: number, torrentId: number, token: string): Promise<Snatch> {
  const body = await expectJson<{ items: Snatch[] }>(
    await get(`/api/v1/users/${userId}/hit-and-runs`, token),
  );
  const found = body.items.find((s) => s.torrent.id === torrentId);
  if (!found) throw new Error(`no snatch of torrent ${torrentId}`);
  return found;
}

beforeAll(async () => {
  h = await apiHarness();
  root = await h.memberWithToken("root");
  alice = await h.memberWithToken("alice");
  bob = await h.memberWithToken("bob");
  Object.assign(h.deps, { clock: () => new Date(clock) });
  const front = webFetch(h.app, frontOptions(h.deps.config));
  server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (request, s) => front(request, s) });

  // Alice completes a torrent through the tracker's own credit batches.
  aliceTorrent = await torrent(h.db.sql, { title: "Quokka <Sunrise>", size: SIZE });
  // One credit row as the tracker packs it: member, torrent, up, down, completed, then what the
  // client reported, seed seconds, state and announce times (none here: see DELTA_FIELDS).
  const deltas = new Float64Array(DELTA_FIELDS);
  deltas.set([alice.id, aliceTorrent, 0, SIZE, 1, 0, SIZE]);
  await applyStatBatch(h.db.sql, { source: "run-a", seq: 1, deltas, refused: [] });
  const [row] = await h.db.sql<{ completedAt: Date }[]>`
    select completed_at from user_torrent_stats where user_id = ${alice.id} and torrent_id = ${aliceTorrent}
  `;
  expect(row!.completedAt).toBeInstanceOf(Date);
  // The database keeps microseconds, a Date milliseconds: make the fixed clock's arithmetic exact.
  completedAt = row!.completedAt.getTime();
  await history(h.db.sql, alice.id, aliceTorrent, { completed_at: new Date(completedAt) });
});

afterAll(async () => {
  server?.stop(true);
  await h?.close();
});

describe("a snatch under the default rule (168 h within 10 days, ratio 1, 3% downloaded)", () => {
  test("is at risk after completing, with the time left and the seed time owed", async () => {
    clock = completedAt + HOUR;
    const snatch = await snatchOf(alice.id, aliceTorrent, alice.token);
    expect(snatch.status).toBe("at_risk");
    expect(snatch.seconds_left).toBe((10 * DAY - HOUR) / 1000);
    expect(snatch.seed_seconds_owed).toBe(168 * 3600);
  });

  test("is seeding while its holder seeds (announced recently)", async () => {
    clock = completedAt + 2 * DAY;
    await history(h.db.sql, alice.id, aliceTorrent, {
      seeding: true,
      seed_seconds: 40 * 3600,
      last_announce_at: new Date(clock - 10 * 60_000),
    });
    const snatch = await snatchOf(alice.id, aliceTorrent, alice.token);
    expect(snatch.status).toBe("seeding");
    expect(snatch.seed_seconds_owed).toBe(128 * 3600);
    // An announce older than the peer timeout (45 min at the default interval) is not seeding now.
    clock = completedAt + 2 * DAY + 50 * 60_000;
    expect((await snatchOf(alice.id, aliceTorrent, alice.token)).status).toBe("at_risk");
  });

  test("becomes a hit-and-run once the window is over while short", async () => {
    clock = completedAt + 10 * DAY - 1000;
    await history(h.db.sql, alice.id, aliceTorrent, { seeding: false, seed_seconds: 100 * 3600 });
    expect((await snatchOf(alice.id, aliceTorrent, alice.token)).status).toBe("at_risk");
    clock = completedAt + 10 * DAY;
    const snatch = await snatchOf(alice.id, aliceTorrent, alice.token);
    expect(snatch.status).toBe("hit_and_run");
    expect(snatch.seconds_left).toBe(0);
    expect(snatch.seed_seconds_owed).toBe(68 * 3600);
    const body = await expectJson<{ hit_and_runs: number }>(
      await get(`/api/v1/users/${alice.id}/hit-and-runs`, alice.token),
    );
    expect(body.hit_and_runs).toBe(1);

    // Staff see her in the list, on the API and the page; she sees it on her own page.
    const list = await expectJson<{ items: { member: { id: number }; hit_and_runs: number }[] }>(
      await get("/api/v1/hit-and-runs", root.token),
    );
    expect(list.items).toEqual([
      expect.objectContaining({ member: { id: alice.id, name: "alice" }, hit_and_runs: 1 }),
    ]);
    const staff = await h.login("root");
    const admin = await fetch(`http://127.0.0.1:${server.port}/admin/hit-and-runs`, {
      headers: { cookie: staff.cookie },
    });
    expect(admin.status).toBe(200);
    const adminHtml = await admin.text();
    expect(adminHtml).toContain(`/admin/users/${alice.id}/hit-and-runs`);
    expect(adminHtml).toContain('data-label="Hit-and-runs">1<');
    const own = await h.login("alice");
    const page = await fetch(`http://127.0.0.1:${server.port}/account/hit-and-runs`, {
      headers: { cookie: own.cookie },
    });
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(html).toContain('<dd id="hnr-count">1</dd>');
    expect(html).toContain('data-status="hit_and_run"');
    expect(html).toContain("Quokka &lt;Sunrise&gt;");
    expect(html).not.toContain("Quokka <Sunrise>");
    // Every cell of the list is labelled for the phone layout.
    expect(html).toContain('data-label="Status"');
  });

  test("is satisfied once the seed time is reached, even after the deadline", async () => {
    clock = completedAt + 12 * DAY;
    await history(h.db.sql, alice.id, aliceTorrent, { seed_seconds: 168 * 3600 });
    const snatch = await snatchOf(alice.id, aliceTorrent, alice.token);
    expect(snatch.status).toBe("satisfied");
    expect(snatch.settled_by).toBe("seed_time");
    const list = await expectJson<{ items: unknown[] }>(await get("/api/v1/hit-and-runs", root.token));
    expect(list.items).toEqual([]);
  });

  test("upload of the torrent's size settles it without seeding; one byte less does not", async () => {
    const t = await torrent(h.db.sql, { size: SIZE });
    clock = Date.UTC(2030, 0, 20);
    await history(h.db.sql, bob.id, t, {
      completed_at: new Date(Date.UTC(2030, 0, 1)),
      downloaded: SIZE,
      uploaded: SIZE - 1,
    });
    expect((await snatchOf(bob.id, t, bob.token)).status).toBe("hit_and_run");
    await history(h.db.sql, bob.id, t, { uploaded: SIZE });
    const snatch = await snatchOf(bob.id, t, bob.token);
    expect(snatch).toMatchObject({ status: "satisfied", settled_by: "ratio" });
  });

  test("a completion with less than 3% downloaded here owes nothing", async () => {
    const t = await torrent(h.db.sql, { size: SIZE });
    clock = Date.UTC(2030, 0, 20);
    await history(h.db.sql, bob.id, t, {
      completed_at: new Date(Date.UTC(2030, 0, 1)),
      downloaded: SIZE * 0.03 - 1,
    });
    expect(await snatchOf(bob.id, t, bob.token)).toMatchObject({
      status: "satisfied",
      settled_by: "not_downloaded",
    });
    await history(h.db.sql, bob.id, t, { downloaded: SIZE * 0.03 });
    expect((await snatchOf(bob.id, t, bob.token)).status).toBe("hit_and_run");
  });
});

describe("who may see hit-and-runs", () => {
  test("members see only their own; staff see anyone's and the list", async () => {
    await expectError(await get(`/api/v1/users/${alice.id}/hit-and-runs`, bob.token), 403, "forbidden");
    await expectError(await get("/api/v1/hit-and-runs", bob.token), 403, "forbidden");
    await expectError(await get(`/api/v1/users/${alice.id}/hit-and-runs`), 401, "unauthenticated");
    await expectJson(await get(`/api/v1/users/${alice.id}/hit-and-runs`, root.token));
    await expectError(await get("/api/v1/users/999999/hit-and-runs", root.token), 404, "not_found");
    await expectError(
      await get(`/api/v1/users/${alice.id}/hit-and-runs?page=0`, alice.token),
      422,
      "validation",
    );
    await expectError(await get("/api/v1/users/1e3/hit-and-runs", root.token), 422, "validation");
    const plain = await h.login("bob");
    const page = await fetch(`http://127.0.0.1:${server.port}/admin/hit-and-runs`, {
      headers: { cookie: plain.cookie },
      redirect: "manual",
    });
    expect(page.status).toBe(403);
  });
});
