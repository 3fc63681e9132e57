// The channel over PostgreSQL LISTEN/NOTIFY, between two ends on one real database: payloads stay
// under the NOTIFY limit, member changes travel as ids and are read from the database (a forged
// notification cannot make up a passkey), order is kept, and a lost LISTEN connection comes back.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Sql } from "../../src/db/client.ts";
import { connect } from "../../src/db/client.ts";
import { createUser } from "../../src/db/queries/users.ts";
import {
  CHANNEL_VERSION,
  type TorrentCounts,
  type TrackerToWeb,
  type WebToTracker,
} from "../../src/shared/channel.ts";
import {
  countsPayloads,
  MAX_PAYLOAD_BYTES,
  type PgChannel,
  pgTrackerEnd,
  pgWebEnd,
  TO_TRACKER,
  TO_WEB,
} from "../../src/shared/pg-channel.ts";
import { waitFor } from "../e2e/support.ts";
import { SERVER_URL, type TestDatabase, testDatabase } from "../helpers/database.ts";

test("counts are split into payloads under the NOTIFY limit, every row kept once", () => {
  const counts: TorrentCounts[] = [];
  for (let i = 1; i <= 20_000; i++) counts.push([i * 1_000_003, i % 5000, i % 777, i * 13]);
  const payloads = countsPayloads(counts);
  expect(payloads.length).toBeGreaterThan(50);
  const rows: TorrentCounts[] = [];
  for (const payload of payloads) {
    expect(Buffer.byteLength(payload)).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
    const parsed = JSON.parse(payload);
    expect(parsed.msg.kind).toBe("counts");
    rows.push(...parsed.msg.counts);
  }
  expect(rows).toEqual(counts);
  expect(countsPayloads([])).toEqual([]);
});

describe.skipIf(!SERVER_URL)("the channel over PostgreSQL", () => {
  let db: TestDatabase;
  let web: PgChannel<WebToTracker, TrackerToWeb>;
  let tracker: PgChannel<TrackerToWeb, WebToTracker>;
  const clients: Sql[] = [];
  const atTracker: WebToTracker[] = [];
  const atWeb: TrackerToWeb[] = [];
  const listener = () => {
    const sql = connect(db.url!, 1);
    clients.push(sql);
    return sql;
  };

  beforeAll(async () => {
    db = await testDatabase();
    tracker = await pgTrackerEnd(db.sql, listener);
    web = await pgWebEnd(db.sql, listener);
    tracker.onMessage((m) => atTracker.push(m));
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
    // The sender's copy says the member is disabled with another passkey; the database says neither.
    web.send({ kind: "user-upsert", user: { id: user.id, passkey: "f".repeat(32), disabled: true } });
    web.send({ kind: "ping", nonce: 41 });
    await waitFor("the change and the ping at the tracker", 5000, () => atTracker.length >= 2, 20);
    expect(atTracker).toEqual([
      {
        kind: "user-upsert",
        user: { id: user.id, passkey: user.passkey, disabled: false, downloadsPaused: false },
      },
      { kind: "ping", nonce: 41 },
    ]);
    await waitFor(
      "the spy to hear both",
      5000,
      () => seen.filter((p) => !p.includes('"hb"')).length >= 2,
      20,
    );
    for (const payload of seen) {
      expect(payload).not.toContain(user.passkey);
      expect(payload).not.toContain("f".repeat(32));
    }
  });

  test("a forged notification cannot bring in a passkey; a removed member is removed", async () => {
    atTracker.length = 0;
    const forged = JSON.stringify({
      v: 2,
      msg: { kind: "user-upsert", user: { id: 99_999, passkey: "a".repeat(32), disabled: false } },
    });
    await db.sql.notify(TO_TRACKER, forged);
    await db.sql.notify(TO_TRACKER, "not json at all");
    await db.sql.notify(TO_TRACKER, JSON.stringify({ v: 2, msg: { kind: "user", id: 99_999 } }));
    await db.sql.notify(TO_TRACKER, JSON.stringify({ v: 2, msg: { kind: "ping", nonce: 7 } }));
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
      web.send({ kind: "torrent-removed", id });
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

  test("counts from the tracker reach the web side whole, however many", async () => {
    atWeb.length = 0;
    const counts: TorrentCounts[] = [];
    for (let i = 1; i <= 3000; i++) counts.push([i, i % 50, i % 7, i]);
    tracker.send({ kind: "counts", counts });
    tracker.send({ kind: "pong", nonce: 5 });
    await waitFor("the pong after the counts", 10_000, () => atWeb.some((m) => m.kind === "pong"), 20);
    const got = atWeb.flatMap((m) => (m.kind === "counts" ? m.counts : []));
    expect(got).toEqual(counts);
    expect(atWeb.at(-1)).toEqual({ kind: "pong", nonce: 5 });
  });

  test("a peer-list request reaches the tracker and its answer the web side; malformed ones do not", async () => {
    const trackerFrom = atTracker.length;
    const webFrom = atWeb.length;
    web.send({ kind: "peers-request", nonce: 7001, torrentId: 12, limit: 200 });
    // Hand-made notifications with what no web process sends: both dropped.
    await db.sql`select pg_notify(${TO_TRACKER}, ${JSON.stringify({ v: CHANNEL_VERSION, msg: { kind: "peers", id: 12, nonce: 1, limit: -1 } })})`;
    await db.sql`select pg_notify(${TO_TRACKER}, ${JSON.stringify({ v: CHANNEL_VERSION, msg: { kind: "peers", id: "12", nonce: 2, limit: 5 } })})`;
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
