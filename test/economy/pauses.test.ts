// Download pauses with a fixed clock, over real sockets: a member whose snatch became a
// hit-and-run has new downloads refused by the tracker (with a failure reason) once the hourly
// check runs with `hitAndRun.pauseDownloadsAfter` set, keeps seeding meanwhile, sees why on the
// site, and gets downloads back once the snatch is settled.
import { afterAll, beforeAll, expect, test } from "bun:test";
import bencode from "bencode";
import type { Config } from "../../src/config.ts";
import { trackerTorrents } from "../../src/db/queries/torrents.ts";
import { trackerUsers } from "../../src/db/queries/users.ts";
import { createTrackerApp } from "../../src/tracker/app.ts";
import { Tracker } from "../../src/tracker/tracker.ts";
import { checkDownloadPauses } from "../../src/web/economy/service.ts";
import { announceQuery } from "../helpers/announce.ts";
import { type ApiHarness, apiHarness, expectJson } from "../helpers/api.ts";
import { history, torrent } from "./fixtures.ts";

const DAY = 86_400_000;
const SIZE = 1_000_000;
const COMPLETED = Date.UTC(2030, 0, 1);

let h: ApiHarness;
let config: Config;
let alice: { id: number; token: string; passkey: string };
let owed = 0;
let fresh = 0;
let seeded = 0;
let tracker: Tracker;
let app: ReturnType<typeof createTrackerApp>;
/** The site's clock, as the pages and the API judge the rule. */
let clock = COMPLETED;
const now = Math.floor(Date.now() / 1000);

/** Hands the tracker the member changes the web side sent it, as the Worker would apply them. */
function pass(): void {
  for (const m of h.sent.splice(0)) if (m.kind === "user-upsert") tracker.upsertUser(m.user);
}

async function announce(torrentId: number, left: number, peer: string): Promise<string | null> {
  const [row] = await h.db.sql<
    { infoHash: Uint8Array }[]
  >`select info_hash from torrents where id = ${torrentId}`;
  const query = announceQuery({
    infoHash: row!.infoHash,
    peerId: new TextEncoder().encode(peer.padEnd(20, "x")),
    left,
  });
  const response = await fetch(`http://127.0.0.1:${app.server!.port}/${alice.passkey}/announce?${query}`);
  const body = bencode.decode(Buffer.from(await response.arrayBuffer())) as Record<string, unknown>;
  const reason = body["failure reason"];
  return reason ? Buffer.from(reason as Uint8Array).toString() : null;
}

beforeAll(async () => {
  h = await apiHarness();
  await h.memberWithToken("root");
  const a = await h.memberWithToken("alice");
  const [row] = await h.db.sql<{ passkey: string }[]>`select passkey from users where id = ${a.id}`;
  alice = { ...a, passkey: row!.passkey };
  Object.assign(h.deps, { clock: () => new Date(clock) });
  config = { ...h.deps.config, hitAndRun: { ...h.deps.config.hitAndRun, pauseDownloadsAfter: 1 } };
  owed = await torrent(h.db.sql, { size: SIZE });
  fresh = await torrent(h.db.sql, { size: SIZE });
  seeded = await torrent(h.db.sql, { size: SIZE });
  // Completed on 1 January 2030 with 100 of the 168 hours seeded: a hit-and-run from the 11th.
  await history(h.db.sql, alice.id, owed, {
    completed_at: new Date(COMPLETED),
    downloaded: SIZE,
    seed_seconds: 100 * 3600,
  });
  tracker = new Tracker({ ...config.tracker, minAnnounceIntervalSeconds: 0 }, () => 0);
  tracker.load(await trackerUsers(h.db.sql), await trackerTorrents(h.db.sql));
  app = createTrackerApp(tracker, { pathDepth: 0, trustedProxies: [], now: () => now });
  app.listen({ hostname: "127.0.0.1", port: 0 });
  h.sent.splice(0);
}, 60_000);

afterAll(async () => {
  await app?.stop(true);
  await h?.close();
});

test("nothing is paused while the snatch is only at risk, or with the setting at 0", async () => {
  expect(await checkDownloadPauses(h.db.sql, config, h.deps.sync, new Date(COMPLETED + 9 * DAY))).toEqual([]);
  const off = { ...config, hitAndRun: { ...config.hitAndRun, pauseDownloadsAfter: 0 } };
  expect(await checkDownloadPauses(h.db.sql, off, h.deps.sync, new Date(COMPLETED + 20 * DAY))).toEqual([]);
  expect(await announce(fresh, SIZE, "-qB4650-a")).toBeNull();
});

test("a hit-and-run pauses downloads: the tracker refuses every announce with left > 0 and keeps seeding", async () => {
  clock = COMPLETED + 11 * DAY;
  const at = new Date(clock);
  expect(await checkDownloadPauses(h.db.sql, config, h.deps.sync, at)).toEqual([alice.id]);
  // The tracker heard of it through the usual member change, before the check returned.
  expect(h.sent.filter((m) => m.kind === "user-upsert").map((m) => m.user)).toEqual([
    { id: alice.id, passkey: alice.passkey, disabled: false, downloadsPaused: true, warningsPaused: false },
  ]);
  pass();
  expect(await announce(owed, SIZE, "-qB4650-b")).toBe(
    "New downloads are paused: you have too many hit-and-runs. Seed what you owe (see your hit-and-runs page on the site) and they resume within the hour.",
  );
  // Seeding goes on; the download already running is refused at its next announce.
  expect(await announce(seeded, 0, "-qB4650-c")).toBeNull();
  expect(await announce(fresh, SIZE / 2, "-qB4650-a")).toStartWith("New downloads are paused");
  // A second check changes nothing and tells the tracker nothing.
  expect(await checkDownloadPauses(h.db.sql, config, h.deps.sync, at)).toEqual([]);
  expect(h.sent).toEqual([]);

  // The member sees why on the site and in the API.
  const body = await expectJson<{ downloads_paused: boolean; hit_and_runs: number }>(
    await h.call(`/api/v1/users/${alice.id}/hit-and-runs`, { as: { token: alice.token } }),
  );
  expect(body).toMatchObject({ downloads_paused: true, hit_and_runs: 1 });
  const { cookie } = await h.login("alice");
  const html = await (await h.request("/account/hit-and-runs", { cookie })).text();
  expect(html).toContain('id="downloads-paused"');
  expect(html).toContain("Your new downloads are paused");
});

test("settling the hit-and-run lifts the pause at the next check", async () => {
  await history(h.db.sql, alice.id, owed, { seed_seconds: 168 * 3600 });
  clock = COMPLETED + 12 * DAY;
  const at = new Date(clock);
  expect(await checkDownloadPauses(h.db.sql, config, h.deps.sync, at)).toEqual([alice.id]);
  pass();
  expect(await announce(owed, SIZE, "-qB4650-b")).toBeNull();
  const body = await expectJson<{ downloads_paused: boolean }>(
    await h.call(`/api/v1/users/${alice.id}/hit-and-runs`, { as: { token: alice.token } }),
  );
  expect(body.downloads_paused).toBe(false);
});
