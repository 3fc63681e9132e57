// The bridge over PostgreSQL LISTEN/NOTIFY, between two ends on one real database: payloads stay
// under the NOTIFY limit, member changes travel as ids and are read from the database by the
// tracker's feed (a forged notification cannot make up a passkey), counts travel as ids of rows
// the tracker's process wrote (a forged notification cannot make up a count), order is kept, and a
// lost LISTEN connection comes back.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { CountsWriter, LiveCounts } from "../../src/bridge/counts.ts";
import { trackerFeed } from "../../src/bridge/feed.ts";
import {
  countsPayloads,
  MAX_PAYLOAD_BYTES,
  type PgChannel,
  pgTrackerEnd,
  pgWebEnd,
  TO_TRACKER,
  TO_WEB,
  type TrackerNews,
} from "../../src/bridge/pg.ts";
import type { ToTracker, ToWeb } from "../../src/bridge/vocabulary.ts";
import type { Sql } from "../../src/db/client.ts";
import { connect } from "../../src/db/client.ts";
import { createUser } from "../../src/db/queries/users.ts";
import { CHANNEL_VERSION, type TorrentCounts, type WebToTracker } from "../../src/shared/channel.ts";
import { waitFor } from "../e2e/support.ts";
import { SERVER_URL, type TestDatabase, testDatabase } from "../helpers/database.ts";
import { describeUnless, NEEDS_POSTGRES } from "../helpers/skip.ts";

test("counted torrents are split into payloads under the NOTIFY limit, every id kept once", () => {
  const ids: number[] = [];
  for (let i = 1; i <= 20_000; i++) ids.push(i * 1_000_003);
  const payloads = countsPayloads(ids);
  expect(payloads.length).toBeGreaterThan(20);
  const got: number[] = [];
  for (const payload of payloads) {
    expect(Buffer.byteLength(payload)).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
    const parsed = JSON.parse(payload);
    expect(parsed.msg.kind).toBe("counts");
    got.push(...parsed.msg.ids);
  }
  expect(got).toEqual(ids);
  expect(countsPayloads([])).toEqual([]);
});

describeUnless(Boolean(SERVER_URL), NEEDS_POSTGRES)("the channel over PostgreSQL", () => {
  let db: TestDatabase;
  let web: PgChannel<ToTracker, ToWeb>;
  let tracker: PgChannel<TrackerNews, ToTracker>;
  const clients: Sql[] = [];
  /** What the tracker's feed hands the Worker: the rows the ids name, read from the database. */
  const atTracker: WebToTracker[] = [];
  const atWeb: ToWeb[] = [];
  const counts = new LiveCounts();
  const listener = () => {
    const sql = connect(db.url!, 1);
    clients.push(sql);
    return sql;
  };

  beforeAll(async () => {
    db = await testDatabase();
    tracker = await pgTrackerEnd(db.sql, listener);
    web = await pgWebEnd(db.sql, listener, counts);
    const feed = trackerFeed(db.sql, (m) => atTracker.push(m));
    tracker.onMessage((m) => feed.send(m));
    web.onMessage((m) => atWeb.push(m));
  });

  afterAll(async () => {
    await web?.close();
    await tracker?.close();
    for (const sql of clients) await sql.end({ timeout: 1 }).catch(() => {});
    await db?.close();
  });

  test("a member change reaches the tracker as the database has it; the passkey never travels", async () => {
    const { user } = await createUser(db.sql, { name: "carol", passwordHash: "x" });
    const seen: string[] = [];
    const spy = connect(db.url!, 1);
    clients.push(spy);
    await spy.listen(TO_TRACKER, (payload) => seen.push(payload));
    atTracker.length = 0;
    web.send({ kind: "user", id: user.id });
    web.send({ kind: "ping", nonce: 41 });
    await waitFor("the change and the ping at the tracker", 5000, () => atTracker.length >= 2, 20);
    expect(atTracker).toEqual([
      {
        kind: "user-upsert",
        user: {
          id: user.id,
          passkey: user.passkey,
          disabled: false,
          downloadsPaused: false,
          warningsPaused: false,
        },
      },
      { kind: "ping", nonce: 41 },
    ]);
    await waitFor(
      "the spy to hear both",
      5000,
      () => seen.filter((p) => !p.includes('"hb"')).length >= 2,
      20,
    );
    for (const payload of seen) expect(payload).not.toContain(user.passkey);
  });

  test("a forged notification cannot bring in a passkey; a removed member is removed", async () => {
    atTracker.length = 0;
    const forged = JSON.stringify({
      v: CHANNEL_VERSION,
      msg: { kind: "user-upsert", user: { id: 99_999, passkey: "a".repeat(32), disabled: false } },
    });
    await db.sql.notify(TO_TRACKER, forged);
    await db.sql.notify(TO_TRACKER, "not json at all");
    await db.sql.notify(
      TO_TRACKER,
      JSON.stringify({ v: CHANNEL_VERSION, msg: { kind: "user", id: 99_999 } }),
    );
    await db.sql.notify(TO_TRACKER, JSON.stringify({ v: CHANNEL_VERSION, msg: { kind: "ping", nonce: 7 } }));
    await waitFor("the ping", 5000, () => atTracker.some((m) => m.kind === "ping"), 20);
    expect(atTracker).toEqual([
      { kind: "user-removed", id: 99_999 },
      { kind: "ping", nonce: 7 },
    ]);
  });

  test("torrent changes, then pings, arrive in the order sent", async () => {
    atTracker.length = 0;
    const [row] = await db.sql`
      insert into torrents (info_hash, title, size, files, metainfo)
      values (${Buffer.alloc(20, 0x5a)}, 'Order test', 1, '[]', ${Buffer.from("de")})
      returning id
    `;
    const id = row!.id as number;
    for (let n = 0; n < 20; n++) {
      web.send({ kind: "torrent", id });
      web.send({ kind: "ping", nonce: n });
    }
    await waitFor("forty messages", 10_000, () => atTracker.length >= 40, 20);
    for (let n = 0; n < 20; n++) {
      expect(atTracker[2 * n]).toMatchObject({
        kind: "torrent-upsert",
        torrent: { id, infoHash: "5a".repeat(20) },
      });
      expect(atTracker[2 * n + 1]).toEqual({ kind: "ping", nonce: n });
    }
  });

  /** `n` torrents, their ids in order. */
  async function torrents(n: number, fill: number): Promise<number[]> {
    const rows = await db.sql`
      insert into torrents (info_hash, title, size, files, metainfo)
      select decode(lpad(to_hex(${fill} * 1000000 + i), 40, '0'), 'hex'), 'Counted ' || i, 1, '[]', '\x6465'::bytea
      from generate_series(1, ${n}::int) i
      returning id
    `;
    return rows.map((r) => Number(r.id)).sort((a, b) => a - b);
  }

  test("counts written by the tracker's process reach the web side whole, however many", async () => {
    const ids = await torrents(3000, 1);
    const written: TorrentCounts[] = ids.map((id, i) => [id, i % 50, i % 7, i]);
    const writer = new CountsWriter(db.sql, 60_000, (changed) =>
      tracker.send({ kind: "counts", ids: changed }),
    );
    writer.add(written);
    await writer.flush();
    tracker.send({ kind: "pong", nonce: 5 });
    await waitFor(
      "the pong after the counts",
      10_000,
      () => atWeb.some((m) => m.kind === "pong" && m.nonce === 5),
      20,
    );
    for (const [id, seeders, leechers, snatches] of written)
      expect(counts.get(id)).toEqual({ seeders, leechers, snatches });
  });

  test("a forged counts notification changes nothing members see", async () => {
    const [id] = await torrents(1, 2);
    const writer = new CountsWriter(db.sql, 60_000, (changed) =>
      tracker.send({ kind: "counts", ids: changed }),
    );
    writer.add([[id!, 3, 4, 5]]);
    await writer.flush();
    await waitFor("the written counts", 5000, () => counts.get(id!)?.seeders === 3, 20);
    // Numbers in a payload, in this version's shape and in the old one: neither is believed.
    const forge = (msg: unknown) =>
      db.sql`select pg_notify(${TO_WEB}, ${JSON.stringify({ v: CHANNEL_VERSION, msg })})`;
    await forge({ kind: "counts", counts: [[id!, 4242, 9999, 7]] });
    await forge({ kind: "counts", ids: [id!], seeders: 4242 });
    await forge({ kind: "counts", ids: [id!, "x"] });
    await forge({ kind: "pong", nonce: 6 });
    await waitFor(
      "the pong after the forgeries",
      5000,
      () => atWeb.some((m) => m.kind === "pong" && m.nonce === 6),
      20,
    );
    expect(counts.get(id!)).toEqual({ seeders: 3, leechers: 4, snatches: 5 });
    const [row] =
      await db.sql`select seeders, leechers, snatches from torrent_counts where torrent_id = ${id!}`;
    expect(row).toEqual({ seeders: 3, leechers: 4, snatches: 5 });
  });

  test("a peer-list request reaches the tracker and its answer the web side; malformed ones do not", async () => {
    const trackerFrom = atTracker.length;
    const webFrom = atWeb.length;
    web.send({ kind: "peers-request", nonce: 7001, torrentId: 12, limit: 200 });
    // Hand-made notifications with what no web process sends: both dropped.
    await db.sql`select pg_notify(${TO_TRACKER}, ${JSON.stringify({ v: CHANNEL_VERSION, msg: { kind: "peers-request", torrentId: 12, nonce: 1, limit: -1 } })})`;
    await db.sql`select pg_notify(${TO_TRACKER}, ${JSON.stringify({ v: CHANNEL_VERSION, msg: { kind: "peers-request", torrentId: "12", nonce: 2, limit: 5 } })})`;
    web.send({ kind: "ping", nonce: 7002 });
    await waitFor(
      "the request and the ping at the tracker",
      5000,
      () => atTracker.length >= trackerFrom + 2,
      20,
    );
    expect(atTracker.slice(trackerFrom)).toEqual([
      { kind: "peers-request", nonce: 7001, torrentId: 12, limit: 200 },
      { kind: "ping", nonce: 7002 },
    ]);
    tracker.send({ kind: "peers-ready", nonce: 7001, torrentId: 12, known: true });
    await waitFor("the answer at the web side", 5000, () => atWeb.length > webFrom, 20);
    expect(atWeb.slice(webFrom)).toEqual([{ kind: "peers-ready", nonce: 7001, torrentId: 12, known: true }]);
  });

  test("after its LISTEN connection is killed, an end listens again and says so", async () => {
    let reconnected = false;
    web.onReconnect(() => {
      reconnected = true;
    });
    const killed = await db.sql`
      select pg_terminate_backend(pid) as done
      from pg_stat_activity
      where datname = current_database() and query ilike ${`listen "${TO_WEB}"`}
    `;
    expect(killed.length).toBeGreaterThan(0);
    await waitFor("the web end to listen again", 20_000, () => reconnected && web.listening, 100);
    atWeb.length = 0;
    await waitFor(
      "a pong through the new connection",
      10_000,
      () => {
        tracker.send({ kind: "pong", nonce: 9 });
        return atWeb.some((m) => m.kind === "pong" && m.nonce === 9);
      },
      500,
    );
  }, 40_000);
});
