// History, seed time, factors and peer lists end to end, with a fixed clock: a Tracker served on a
// real socket (its clock is the test's), its batches written by the real batch writers into the
// database, and the web API reading them back. Messages the web side sends the tracker (a torrent's
// factors, the site-wide windows) are handed to the tracker as the Worker would.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import bencode from "bencode";
import { applyStatBatch, checkDeltas } from "../../src/db/queries/stats.ts";
import { trackerTorrents } from "../../src/db/queries/torrents.ts";
import { trackerUsers } from "../../src/db/queries/users.ts";
import { createTrackerApp } from "../../src/tracker/app.ts";
import { Tracker } from "../../src/tracker/tracker.ts";
import { clientName } from "../../src/web/peers/client.ts";
import { announceQuery } from "../helpers/announce.ts";
import { type ApiHarness, apiHarness, expectError, expectJson } from "../helpers/api.ts";
import { testPolicy } from "../helpers/policy.ts";

const INTERVAL = 1800;
/** The default peer timeout at that interval: 1.5 × the interval. */
const TIMEOUT = 2700;
const POLICY = testPolicy({
  announceIntervalSeconds: INTERVAL,
  minAnnounceIntervalSeconds: 0,
  maxRateBytesPerSecond: 0,
  uploadNeedsLeecher: false,
  graceSeconds: 0,
  graceMaxPeers: 0,
});
const SIZE = 1_000_000;
/** A fixed clock near the real time: windows are read "not yet over" by the database's clock. */
const T0 = Math.floor(Date.now() / 1000);

/** A 20-byte peer_id from a client prefix. */
function peerId(prefix: string, fill = "x"): Uint8Array {
  return new TextEncoder().encode(prefix.padEnd(20, fill).slice(0, 20));
}

/** A tracker run: the pure tracker behind a real HTTP socket, on the test's clock. */
class Run {
  readonly tracker = new Tracker(POLICY, () => 0);
  readonly source = crypto.randomUUID();
  clock = T0;
  private server: ReturnType<typeof Bun.serve> | null = null;
  private readonly app = createTrackerApp(this.tracker, {
    pathDepth: 0,
    trustedProxies: [],
    now: () => this.clock,
  });

  constructor(private readonly h: ApiHarness) {}

  async start(): Promise<this> {
    const sql = this.h.db.sql;
    this.tracker.load(await trackerUsers(sql), await trackerTorrents(sql));
    // Peer lists are asked of this run's tracker, as the web side asks the Worker.
    this.h.tracker.peersOf = (id, limit) => this.tracker.peersOf(id, limit);
    this.app.listen({ hostname: "127.0.0.1", port: 0 });
    this.server = this.app.server as unknown as ReturnType<typeof Bun.serve>;
    this.pass();
    return this;
  }

  /** Hands the tracker what the web side sent it since the last call. */
  pass(): void {
    for (const m of this.h.sent.splice(0)) {
      if (m.kind === "torrent-upsert") this.tracker.upsertTorrent(m.torrent);
      if (m.kind === "windows") this.tracker.setWindows(m.windows);
    }
  }

  async announce(passkey: string, p: Parameters<typeof announceQuery>[0]): Promise<Record<string, unknown>> {
    const response = await fetch(
      `http://127.0.0.1:${this.server!.port}/${passkey}/announce?${announceQuery(p)}`,
    );
    const body = bencode.decode(Buffer.from(await response.arrayBuffer())) as Record<string, unknown>;
    if (body["failure reason"]) throw new Error(Buffer.from(body["failure reason"] as Uint8Array).toString());
    return body;
  }

  /** Writes the pending credit as the process running the tracker does. */
  async flush(): Promise<void> {
    const batch = this.tracker.takeDeltas();
    if (batch) {
      const outcome = await applyStatBatch(this.h.db.sql, {
        source: this.source,
        seq: batch.seq,
        ...checkDeltas(batch.deltas),
      });
      expect(outcome.deadLetters).toEqual([]);
    }
  }

  async stop(): Promise<void> {
    await this.app.stop(true);
  }
}

let h: ApiHarness;
let admin: { id: number; token: string };
let moderator: { id: number; token: string };
let alice: { id: number; token: string; passkey: string };
let bob: { id: number; token: string; passkey: string };
let carol: { id: number; token: string; passkey: string };

async function passkeyOf(id: number): Promise<string> {
  const [row] = await h.db.sql<{ passkey: string }[]>`select passkey from users where id = ${id}`;
  return row!.passkey;
}

async function newTorrent(n: number): Promise<{ id: number; hash: Uint8Array }> {
  const hash = new Uint8Array(20).fill(n);
  const [row] = await h.db.sql<{ id: number }[]>`
    insert into torrents (info_hash, title, size, files, metainfo, creator_id)
    values (${Buffer.from(hash)}, ${`Torrent ${n}`}, ${SIZE}, '[]', ${Buffer.from("de")}, ${alice.id})
    returning id
  `;
  return { id: row!.id, hash };
}

type Stats = {
  uploaded: number;
  downloaded: number;
  reportedUploaded: number;
  reportedDownloaded: number;
  seedSeconds: number;
  seeding: boolean;
  leeching: boolean;
  firstAnnounceAt: Date | null;
  lastAnnounceAt: Date | null;
};

async function stats(userId: number, torrentId: number): Promise<Stats> {
  const [row] = await h.db.sql<Stats[]>`
    select uploaded, downloaded, reported_uploaded, reported_downloaded, seed_seconds, seeding, leeching,
      first_announce_at, last_announce_at
    from user_torrent_stats where user_id = ${userId} and torrent_id = ${torrentId}
  `;
  return row!;
}

beforeAll(async () => {
  h = await apiHarness();
  admin = await h.memberWithToken("root"); // the first member holds every role
  moderator = await h.memberWithToken("mod", ["moderate"]);
  const a = await h.memberWithToken("alice", ["upload"]);
  const b = await h.memberWithToken("bob");
  const c = await h.memberWithToken("carol");
  alice = { ...a, passkey: await passkeyOf(a.id) };
  bob = { ...b, passkey: await passkeyOf(b.id) };
  carol = { ...c, passkey: await passkeyOf(c.id) };
}, 60_000);
afterAll(async () => {
  await h?.close();
});

describe("seed time", () => {
  test("accumulates across a tracker restart, each step capped by the peer timeout", async () => {
    const t = await newTorrent(1);
    const seeder = peerId("-qB4650-");
    const first = await new Run(h).start();
    await first.announce(alice.passkey, { infoHash: t.hash, peerId: seeder, left: 0, event: "started" });
    first.clock += 600;
    await first.announce(alice.passkey, { infoHash: t.hash, peerId: seeder, left: 0 });
    // Silent for four intervals: only the peer timeout counts (1.5 intervals, the reaper's).
    first.clock += 4 * INTERVAL;
    await first.announce(alice.passkey, { infoHash: t.hash, peerId: seeder, left: 0, uploaded: 5000 });
    await first.flush();
    await first.stop();
    let s = await stats(alice.id, t.id);
    expect(Number(s.seedSeconds)).toBe(600 + TIMEOUT);
    expect(s.seeding).toBe(true);
    expect(s.firstAnnounceAt!.getTime()).toBe(T0 * 1000);

    // A new run knows nothing of the peer: its first announce starts the count again, nothing lost.
    const second = await new Run(h).start();
    second.clock = first.clock + 100;
    await second.announce(alice.passkey, { infoHash: t.hash, peerId: seeder, left: 0, uploaded: 5000 });
    second.clock += 900;
    await second.announce(alice.passkey, { infoHash: t.hash, peerId: seeder, left: 0, uploaded: 7000 });
    await second.flush();
    s = await stats(alice.id, t.id);
    expect(Number(s.seedSeconds)).toBe(600 + TIMEOUT + 900);
    expect(s.firstAnnounceAt!.getTime()).toBe(T0 * 1000);
    expect(s.lastAnnounceAt!.getTime()).toBe(second.clock * 1000);
    expect(Number(s.reportedUploaded)).toBe(5000 + 2000);

    second.clock += 60;
    await second.announce(alice.passkey, {
      infoHash: t.hash,
      peerId: seeder,
      left: 0,
      uploaded: 7000,
      event: "stopped",
    });
    await second.flush();
    s = await stats(alice.id, t.id);
    expect(s.seeding).toBe(false);
    expect(Number(s.seedSeconds)).toBe(600 + TIMEOUT + 900 + 60);
    await second.stop();
  });
});

describe("factors", () => {
  test("a site-wide freeleech window zeroes download credit only inside it; the reported figure stays raw", async () => {
    const t = await newTorrent(2);
    const run = await new Run(h).start();
    const leecher = peerId("-TR4000-");
    const windowStart = T0 + 1000;
    const windowEnd = T0 + 2000;
    const created = await h.call("/api/v1/freeleech/windows", {
      as: { token: admin.token },
      json: {
        starts_at: new Date(windowStart * 1000).toISOString(),
        ends_at: new Date(windowEnd * 1000).toISOString(),
        download_factor: 0,
        upload_factor: 1,
        note: "weekend",
      },
    });
    await expectJson(created, 201);
    run.pass();
    await run.announce(bob.passkey, { infoHash: t.hash, peerId: leecher, left: SIZE, event: "started" });
    run.clock = windowStart - 100;
    await run.announce(bob.passkey, {
      infoHash: t.hash,
      peerId: leecher,
      left: SIZE - 1000,
      downloaded: 1000,
    });
    await run.flush();
    expect(Number((await stats(bob.id, t.id)).downloaded)).toBe(1000);
    // Inside: nothing credited, by the tracker's own clock (no message at the start).
    run.clock = windowStart + 10;
    await run.announce(bob.passkey, {
      infoHash: t.hash,
      peerId: leecher,
      left: SIZE - 3000,
      downloaded: 3000,
    });
    run.clock = windowEnd - 1;
    await run.announce(bob.passkey, {
      infoHash: t.hash,
      peerId: leecher,
      left: SIZE - 4000,
      downloaded: 4000,
    });
    await run.flush();
    let s = await stats(bob.id, t.id);
    expect(Number(s.downloaded)).toBe(1000);
    expect(Number(s.reportedDownloaded)).toBe(4000);
    expect(s.leeching).toBe(true);
    // After its end, credit is whole again, with no message either.
    run.clock = windowEnd + 5;
    await run.announce(bob.passkey, {
      infoHash: t.hash,
      peerId: leecher,
      left: SIZE - 4500,
      downloaded: 4500,
    });
    await run.flush();
    s = await stats(bob.id, t.id);
    expect(Number(s.downloaded)).toBe(1500);
    expect(Number(s.reportedDownloaded)).toBe(4500);
    // The state the API shows inside the window: freeleech, with its end.
    const windows = await expectJson<{ items: { id: number }[] }>(
      await h.call("/api/v1/freeleech/windows", { as: { token: admin.token } }),
    );
    for (const w of windows.items)
      expect(
        (await h.call(`/api/v1/freeleech/windows/${w.id}`, { method: "DELETE", as: { token: admin.token } }))
          .status,
      ).toBe(204);
    await run.stop();
  });

  test("double upload set by a moderator reaches the tracker: upload credited twice, reported once", async () => {
    const t = await newTorrent(3);
    const run = await new Run(h).start();
    const refused = await h.call(`/api/v1/torrents/${t.id}/freeleech`, {
      method: "PUT",
      as: { token: bob.token },
      json: { download_factor: 1, upload_factor: 2 },
    });
    await expectError(refused, 403, "forbidden");
    const set = await h.call(`/api/v1/torrents/${t.id}/freeleech`, {
      method: "PUT",
      as: { token: moderator.token },
      json: { download_factor: 1, upload_factor: 2 },
    });
    const state = await expectJson<{ badge: string; upload_factor: number }>(set);
    expect(state).toMatchObject({ badge: "double upload", upload_factor: 2 });
    run.pass();
    const seeder = peerId("-DE13F0-");
    await run.announce(alice.passkey, { infoHash: t.hash, peerId: seeder, left: 0, event: "started" });
    run.clock += 60;
    await run.announce(alice.passkey, { infoHash: t.hash, peerId: seeder, left: 0, uploaded: 1000 });
    await run.flush();
    const s = await stats(alice.id, t.id);
    expect(Number(s.uploaded)).toBe(2000);
    expect(Number(s.reportedUploaded)).toBe(1000);
    // The API and the torrent list show the state as a badge.
    const shown = await expectJson<{ freeleech: { badge: string; until: string | null } | null }>(
      await h.call(`/api/v1/torrents/${t.id}`, { as: { token: bob.token } }),
    );
    expect(shown.freeleech).toEqual({ badge: "double upload", until: null });
    const { cookie } = await h.login("bob");
    const list = await (await h.request("/torrents?q=Torrent", { cookie })).text();
    expect(list).toMatch(
      /Torrent 3<\/span><\/a>\s*<span class="badge freeleech"><span>double upload<\/span>/,
    );
    await run.stop();
  });
});

describe("factors of one's own torrent", () => {
  test("a moderator may not set them on a torrent they uploaded (page and API); an admin may", async () => {
    const hash = new Uint8Array(20).fill(0x6d);
    const [row] = await h.db.sql<{ id: number }[]>`
      insert into torrents (info_hash, title, size, files, metainfo, creator_id)
      values (${Buffer.from(hash)}, 'Moderator upload', ${SIZE}, '[]', ${Buffer.from("de")}, ${moderator.id})
      returning id
    `;
    const id = row!.id;
    const factors = async () =>
      (
        await h.db
          .sql`select download_factor::float8 as down, upload_factor::float8 as up from torrents where id = ${id}`
      )[0];
    const error = await expectError(
      await h.call(`/api/v1/torrents/${id}/freeleech`, {
        method: "PUT",
        as: { token: moderator.token },
        json: { download_factor: 0, upload_factor: 10 },
      }),
      403,
      "forbidden",
    );
    expect(error.message).toBe(
      "You uploaded this torrent: its factors (freeleech, upload credit) are set by an administrator.",
    );
    const { cookie, csrf } = await h.login("mod");
    const page = await h.request(`/torrents/${id}/freeleech`, {
      cookie,
      form: { _csrf: csrf, download_factor: "0", upload_factor: "10" },
    });
    expect(page.status).toBe(403);
    expect(await page.text()).toContain("set by an administrator");
    expect(await factors()).toEqual({ down: 1, up: 1 });
    // An administrator sets them; the moderator still sets those of other members' torrents.
    const set = await h.call(`/api/v1/torrents/${id}/freeleech`, {
      method: "PUT",
      as: { token: admin.token },
      json: { download_factor: 0, upload_factor: 1 },
    });
    expect((await expectJson<{ badge: string }>(set)).badge).toBe("freeleech");
    const other = await newTorrent(0x6e);
    const theirs = await h.call(`/api/v1/torrents/${other.id}/freeleech`, {
      method: "PUT",
      as: { token: moderator.token },
      json: { download_factor: 0, upload_factor: 1 },
    });
    expect((await expectJson<{ badge: string }>(theirs)).badge).toBe("freeleech");
  });
});

describe("peer list", () => {
  test("names clients, hides anonymous members from members but not from staff, shows no address", async () => {
    const t = await newTorrent(4);
    await h.db.sql`update users set anonymous = true where id = ${carol.id}`;
    const run = await new Run(h).start();
    await run.announce(alice.passkey, {
      infoHash: t.hash,
      peerId: peerId("-qB4650-"),
      left: 0,
      event: "started",
    });
    await run.announce(bob.passkey, {
      infoHash: t.hash,
      peerId: peerId("-TR4000-"),
      left: SIZE / 4,
      downloaded: 5,
    });
    await run.announce(carol.passkey, {
      infoHash: t.hash,
      peerId: peerId("A2-1-36-0-"),
      left: SIZE,
      event: "started",
    });
    await run.flush();

    type Peers = { seeders: Record<string, unknown>[]; leechers: Record<string, unknown>[] };
    const asBob = await expectJson<Peers>(
      await h.call(`/api/v1/torrents/${t.id}/peers`, { as: { token: bob.token } }),
    );
    expect(asBob.seeders.map((p) => [p.client, (p.member as { name: string } | null)?.name])).toEqual([
      ["qBittorrent 4.6.5", "alice"],
    ]);
    const leechers = asBob.leechers.map((p) => [
      p.client,
      (p.member as { name: string } | null)?.name ?? null,
      p.progress,
    ]);
    expect(leechers).toContainEqual(["Transmission 4.0.0", "bob", 0.75]);
    expect(leechers).toContainEqual(["aria2 1.36.0", null, 0]);
    const raw = JSON.stringify(asBob);
    expect(raw).not.toContain("127.0.0.1");
    expect(raw).not.toContain("carol");
    expect(raw).not.toMatch(/"ip"|address/);

    const asStaff = await expectJson<Peers>(
      await h.call(`/api/v1/torrents/${t.id}/peers`, { as: { token: moderator.token } }),
    );
    expect(asStaff.leechers.map((p) => (p.member as { name: string }).name).sort()).toEqual(["bob", "carol"]);
    expect(JSON.stringify(asStaff)).not.toContain("127.0.0.1");

    // The torrent's page section shows the same to a member, escaped, without an address.
    const { cookie } = await h.login("bob");
    const page = await (await h.request(`/torrents/${t.id}/swarm`, { cookie })).text();
    expect(page).toContain("qBittorrent 4.6.5");
    expect(page).toContain("anonymous");
    expect(page).not.toContain("carol");
    expect(page).not.toContain("127.0.0.1");

    // A peer that stops leaves the list.
    run.clock += 10;
    await run.announce(bob.passkey, {
      infoHash: t.hash,
      peerId: peerId("-TR4000-"),
      left: SIZE / 4,
      downloaded: 5,
      event: "stopped",
    });
    await run.flush();
    const after = await expectJson<Peers>(
      await h.call(`/api/v1/torrents/${t.id}/peers`, { as: { token: moderator.token } }),
    );
    expect(after.leechers.map((p) => (p.member as { name: string }).name)).toEqual(["carol"]);
    await run.stop();
  });
});

describe("peer list, asked when someone looks", () => {
  test("the tracker's own order and limits: seeders first, most recent first, up to the limit of each", async () => {
    const t = await newTorrent(5);
    const run = await new Run(h).start();
    for (let i = 0; i < 4; i++) {
      run.clock += 1;
      // At most three peers a member in one swarm (POLICY): two members seed.
      await run.announce((i < 2 ? alice : carol).passkey, {
        infoHash: t.hash,
        peerId: peerId(`-qB4650-s${i}`),
        left: 0,
      });
    }
    for (let i = 0; i < 3; i++) {
      run.clock += 1;
      await run.announce(bob.passkey, { infoHash: t.hash, peerId: peerId(`-TR4000-l${i}`), left: SIZE });
    }
    const list = run.tracker.peersOf(t.id, 2)!;
    const ids = [];
    for (let o = 0; o < list.peerIds.length; o += 20)
      ids.push(new TextDecoder().decode(list.peerIds.subarray(o, o + 10)));
    expect(ids).toEqual(["-qB4650-s3", "-qB4650-s2", "-TR4000-l2", "-TR4000-l1"]);
    expect(run.tracker.peersOf(999_999, 2)).toBeNull();
    await run.stop();
  });

  test("a tracker that does not answer: 503 with a JSON error from the API, a notice on the page", async () => {
    const t = await newTorrent(6);
    h.tracker.silent = true;
    try {
      const error = await expectError(
        await h.call(`/api/v1/torrents/${t.id}/peers`, { as: { token: bob.token } }),
        503,
        "unavailable",
      );
      expect(error.message).toContain("tracker did not answer");
      const { cookie } = await h.login("bob");
      const page = await h.request(`/torrents/${t.id}/swarm`, { cookie });
      expect(page.status).toBe(200);
      const html = await page.text();
      expect(html).toContain("The tracker did not answer in time");
      expect(html).not.toContain("Nobody is seeding.");
    } finally {
      h.tracker.silent = false;
    }
    // Once it answers again, so does the list.
    expect((await h.call(`/api/v1/torrents/${t.id}/peers`, { as: { token: bob.token } })).status).toBe(200);
  });
});

describe("history and snatches", () => {
  test("a member sees their own history, not another's; snatches are for staff", async () => {
    const mine = await expectJson<{ items: { torrent: { title: string }; seed_seconds: number }[] }>(
      await h.call(`/api/v1/users/${alice.id}/history?sort=seeded`, { as: { token: alice.token } }),
    );
    expect(mine.items[0]!.torrent.title).toBe("Torrent 1");
    expect(mine.items[0]!.seed_seconds).toBe(600 + TIMEOUT + 900 + 60);
    await expectError(
      await h.call(`/api/v1/users/${alice.id}/history`, { as: { token: bob.token } }),
      403,
      "forbidden",
    );
    const staff = await h.call(`/api/v1/users/${alice.id}/history`, { as: { token: moderator.token } });
    expect(staff.status).toBe(200);
    const [t] = await h.db.sql<{ id: number }[]>`select id from torrents where title = 'Torrent 1'`;
    await expectError(
      await h.call(`/api/v1/torrents/${t!.id}/snatches`, { as: { token: bob.token } }),
      403,
      "forbidden",
    );
    const snatches = await expectJson<{ items: { member: { name: string } }[] }>(
      await h.call(`/api/v1/torrents/${t!.id}/snatches`, { as: { token: moderator.token } }),
    );
    // Alice announced as a seeder from the start: no completion was reported, so no snatch.
    expect(snatches.items).toEqual([]);
  });
});

describe("client names", () => {
  test("Azureus, Shadow and other conventions", () => {
    const cases: [string, string][] = [
      ["-qB4650-", "qBittorrent 4.6.5"],
      ["-TR4000-", "Transmission 4.0.0"],
      ["-TR4050-", "Transmission 4.0.5"],
      ["-lt0D80-", "rTorrent (libtorrent) 0.13.8"],
      ["-LT1270-", "libtorrent 1.2.7"],
      ["-DE13F0-", "Deluge 1.3.15"],
      ["A2-1-36-0-", "aria2 1.36.0"],
      ["S58B-----", "Shadow 5.8.11"],
      ["M7-4-3--", "BitTorrent 7.4.3"],
      ["-CD0303-", "Enhanced CTorrent 3.3"],
      ["-CT3000-", "CTorrent 3.0.0"],
      ["-MO3000-", "MonoTorrent 3.0.0"],
      ["-SZ2210-", "Shareaza 2.2.1"],
      ["\u0001\u0002garbage", "unknown"],
    ];
    for (const [prefix, name] of cases) expect(clientName(peerId(prefix, "\u0000"))).toBe(name);
  });
});
