// Credit rows the database cannot take, against the real database (embedded, or PostgreSQL when
// DATABASE_URL is set): a member's forged claims are kept aside and never hold up anyone else's
// credit or the swarm counts; totals are exact up to their ceiling; credit the database cannot
// take at shutdown is saved and replayed once.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CountsWriter } from "../../src/bridge/counts.ts";
import { StatsWriter } from "../../src/bridge/credit.ts";
import { SpillUnreadableError, spillPath } from "../../src/bridge/spill.ts";
import { connect } from "../../src/db/client.ts";
import { applyStatBatch, MAX_DELTA_BYTES, MAX_TOTAL_BYTES } from "../../src/db/queries/stats.ts";
import { createUser } from "../../src/db/queries/users.ts";
import { DELTA_FIELDS, SWARM_FIELDS, SWARM_FLAG, SWARM_ROW } from "../../src/shared/channel.ts";
import { announceQuery, bytes20 } from "../helpers/announce.ts";
import { apiHarness } from "../helpers/api.ts";
import { type TestDatabase, testDatabase } from "../helpers/database.ts";
import { startTestServer } from "../helpers/server.ts";

const TORRENTS = 1100;
const CEILING = MAX_TOTAL_BYTES;

let db: TestDatabase;
let alice = 0;
let bob = 0;
let mallory = 0;
/** Torrent ids, TORRENTS of them. */
let t: number[] = [];

/** Credit rows of the first five fields packed as full rows (no history: its fields are 0). */
function packed(rows: number[][]): Float64Array {
  return Float64Array.from(rows.flatMap((r) => [...r, ...new Array(DELTA_FIELDS - r.length).fill(0)]));
}

async function totals(userId: number) {
  const [row] = await db.sql`select uploaded, downloaded from users where id = ${userId}`;
  return { uploaded: row!.uploaded, downloaded: row!.downloaded };
}

async function deadLetters(userId: number) {
  return db.sql`
    select torrent_id, uploaded::text as uploaded, downloaded::text as downloaded, completed, error
    from stat_dead_letters where user_id = ${userId} order by id
  `;
}

beforeAll(async () => {
  db = await testDatabase();
  for (const name of ["alice", "bob", "mallory"]) {
    const { user } = await createUser(db.sql, { name, passwordHash: "x" });
    if (name === "alice") alice = user.id;
    else if (name === "bob") bob = user.id;
    else mallory = user.id;
  }
  const rows = await db.sql`
    insert into torrents (info_hash, title, size, files, metainfo)
    select decode(lpad(to_hex(g), 40, '0'), 'hex'), 'Torrent ' || g, 1, '[]', '\\x6465'
    from generate_series(1, ${TORRENTS}) as g
    returning id
  `;
  t = rows.map((r) => r.id as number).sort((a, b) => a - b);
});
afterAll(async () => {
  await db?.close();
});

describe("credit the database refuses", () => {
  test("a member claiming 2^53 - 1 on every torrent is kept aside; everyone else's credit and the swarm counts are written", async () => {
    const counts = new CountsWriter(db.sql, 60_000);
    const writer = new StatsWriter(db.sql, 60_000);
    counts.add([[t[0]!, 3, 4, 0]]);
    // What the tracker credits for `uploaded=0` then `uploaded=9007199254740991` on each torrent:
    // together far past bigint, which once jammed every later batch.
    const forged = t.map((id) => [mallory, id, Number.MAX_SAFE_INTEGER, 0, 0]);
    writer.add("run-a", 1, packed([[alice, t[0]!, 1000, 500, 1], ...forged, [bob, t[1]!, 70, 0, 0]]));
    writer.add(
      "run-a",
      2,
      packed([
        [alice, t[1]!, 2000, 0, 0],
        [mallory, t[2]!, 2 ** 63, 0, 0],
      ]),
    );
    writer.add("run-a", 3, packed([[alice, t[0]!, 1, 0, 0]]));
    await writer.flush();
    await counts.flush();

    expect(writer.pending).toEqual({ batches: 0, deltas: 0 });
    expect(await totals(alice)).toEqual({ uploaded: 3001, downloaded: 500 });
    expect(await totals(bob)).toEqual({ uploaded: 70, downloaded: 0 });
    expect(await totals(mallory)).toEqual({ uploaded: 0, downloaded: 0 });
    const [pair] = await db.sql`
      select uploaded, downloaded, completed_at from user_torrent_stats
      where user_id = ${alice} and torrent_id = ${t[0]!}
    `;
    expect(pair).toEqual({ uploaded: 1001, downloaded: 500, completedAt: expect.any(Date) });
    const [snatches] = await db.sql`select snatches from torrents where id = ${t[0]!}`;
    expect(snatches!.snatches).toBe(1);
    const [swarm] = await db.sql`select seeders, leechers from torrent_counts where torrent_id = ${t[0]!}`;
    expect(swarm).toEqual({ seeders: 3, leechers: 4 });

    const kept = await deadLetters(mallory);
    expect(kept).toHaveLength(TORRENTS + 1);
    expect(kept[0]).toEqual({
      torrentId: t[0]!,
      uploaded: "9007199254740991",
      downloaded: "0",
      completed: false,
      error: expect.stringContaining(`above ${MAX_DELTA_BYTES} bytes`),
    });
    expect(kept.at(-1)!.uploaded).toBe("9223372036854775808");
    expect(writer.deadLetters).toBe(TORRENTS + 1);
  });

  test("a total stops at the ceiling: the batch that would pass it is kept aside whole, the one reaching it is credited exactly", async () => {
    await db.sql`update users set uploaded = ${String(CEILING - 10n)} where id = ${bob}`;
    const writer = new StatsWriter(db.sql, 60_000);
    writer.add(
      "run-b",
      1,
      packed([
        [bob, t[3]!, 11, 0, 0],
        [bob, t[4]!, 0, 5, 0],
        [alice, t[3]!, 9, 0, 0],
      ]),
    );
    writer.add("run-b", 2, packed([[bob, t[3]!, 10, 0, 0]]));
    await writer.flush();

    expect(writer.pending.batches).toBe(0);
    // Above 2^53 the total comes back as a BigInt, to the byte.
    expect(await totals(bob)).toEqual({ uploaded: CEILING, downloaded: 0 });
    expect((await totals(alice)).uploaded).toBe(3010);
    const kept = (await deadLetters(bob))
      .map((r) => [r.torrentId, r.uploaded, r.downloaded])
      .sort((a, b) => a[0] - b[0]);
    expect(kept).toEqual([
      [t[3]!, "11", "0"],
      [t[4]!, "0", "5"],
    ]);
    expect(writer.deadLetters).toBe(2);
  });

  test("a batch the database refuses is halved until the refused rows stand alone; every other row is written, once", async () => {
    await db.sql`update users set uploaded = 0 where id = ${bob}`;
    // Per-torrent totals at the edge of the ceiling while the member's total is low: the
    // database's own check refuses the rows that would pass it.
    await db.sql`
      insert into user_torrent_stats (user_id, torrent_id, uploaded)
      values (${mallory}, ${t[10]!}, ${String(CEILING - 5n)}), (${mallory}, ${t[20]!}, ${String(CEILING)})
    `;
    const rows: number[][] = [];
    for (let i = 100; i < 400; i++) rows.push([i % 2 ? alice : bob, t[i]!, i, 1, 0]);
    rows.splice(37, 0, [mallory, t[10]!, 6, 0, 0]);
    rows.splice(250, 0, [mallory, t[20]!, 1, 0, 1]);
    rows.push([mallory, t[30]!, 7, 0, 0]);
    const before = { alice: await totals(alice), bob: await totals(bob) };
    const writer = new StatsWriter(db.sql, 60_000);
    writer.add("run-c", 1, packed(rows));
    await writer.flush();

    expect(writer.pending.batches).toBe(0);
    const credited = (who: number) => rows.filter((r) => r[0] === who).reduce((n, r) => n + r[2]!, 0);
    const after = { alice: await totals(alice), bob: await totals(bob) };
    expect(after.alice.uploaded).toBe((before.alice.uploaded as number) + credited(alice));
    expect(after.bob.uploaded).toBe(credited(bob));
    expect(await totals(mallory)).toEqual({ uploaded: 7, downloaded: 0 });
    const pairs = await db.sql`
      select count(*)::int as n from user_torrent_stats
      where user_id = ${alice} and torrent_id = any(${`{${t.slice(100, 400).join(",")}}`}::bigint[])
    `;
    expect(pairs[0]!.n).toBe(150);
    const kept = (await deadLetters(mallory)).slice(TORRENTS + 1);
    expect(kept.map((r) => [r.torrentId, r.uploaded, r.completed])).toEqual([
      [t[10]!, "6", false],
      [t[20]!, "1", true],
    ]);
    expect(kept[0]!.error).toContain("user_torrent_stats_uploaded_ceiling");
    // Not a snatch: the row that carried it was not credited.
    const [snatches] = await db.sql`select snatches from torrents where id = ${t[20]!}`;
    expect(snatches!.snatches).toBe(0);

    // The same batch again (a retry whose commit was in doubt) changes nothing.
    const deadBefore = (await db.sql`select count(*)::int as n from stat_dead_letters`)[0]!.n;
    const again = await applyStatBatch(db.sql, {
      source: "run-c",
      seq: 1,
      deltas: packed(rows),
      refused: [],
    });
    expect(again).toEqual({ applied: false, deadLetters: [] });
    expect(await totals(alice)).toEqual(after.alice);
    expect((await db.sql`select count(*)::int as n from stat_dead_letters`)[0]!.n).toBe(deadBefore);
  });
});

describe("credit the database cannot take at shutdown", () => {
  test("is saved to the spill file and replayed exactly once", async () => {
    const dir = mkdtempSync(join(tmpdir(), "fw-spill-"));
    const file = spillPath(dir);
    // Nothing listens on port 1: every write fails as with a database that is down.
    const away = connect("postgres://postgres@127.0.0.1:1/none", 1);
    const down = new StatsWriter(away, 60_000);
    const before = await totals(alice);
    down.add("run-d", 1, packed([[alice, t[500]!, 4000, 40, 1]]));
    down.add(
      "run-d",
      2,
      packed([
        [alice, t[501]!, 5000, 0, 0],
        [mallory, t[501]!, -1, 0, 0],
      ]),
    );
    expect(await down.stop(2000)).toBe(3);
    expect(down.spill(file)).toBe(3);
    await away.end();
    expect(existsSync(file)).toBe(true);
    const copy = join(dir, "copy.json");
    copyFileSync(file, copy);

    const up = new StatsWriter(db.sql, 60_000);
    expect(up.restore(file)).toBe(3);
    await up.flush();
    expect(existsSync(file)).toBe(false);
    const expected = {
      uploaded: (before.uploaded as number) + 9000,
      downloaded: (before.downloaded as number) + 40,
    };
    expect(await totals(alice)).toEqual(expected);
    const refused =
      await db.sql`select uploaded::text as uploaded from stat_dead_letters where source = 'run-d'`;
    expect(refused.map((r) => r.uploaded)).toEqual(["-1"]);

    // A file replayed again (the process stopped before it could remove it) changes nothing.
    copyFileSync(copy, file);
    const again = new StatsWriter(db.sql, 60_000);
    expect(again.restore(file)).toBe(3);
    await again.flush();
    expect(existsSync(file)).toBe(false);
    expect(await totals(alice)).toEqual(expected);
    expect(
      (await db.sql`select count(*)::int as n from stat_dead_letters where source = 'run-d'`)[0]!.n,
    ).toBe(1);

    writeFileSync(file, '{"format":"fairywren-pending-credit","version":1,"batches":[{"source":"x"}]}');
    expect(() => new StatsWriter(db.sql, 60_000).restore(file)).toThrow(SpillUnreadableError);
  });
});

describe("the peers saved with the credit", () => {
  test("travel through the spill file with their batch and are written with it, once", async () => {
    const dir = mkdtempSync(join(tmpdir(), "fw-spill-"));
    const file = spillPath(dir);
    const away = connect("postgres://postgres@127.0.0.1:1/none", 1);
    const down = new StatsWriter(away, 60_000);
    const peerId = bytes20(0x66);
    const rows = new Float64Array(SWARM_FIELDS);
    rows[SWARM_ROW.torrentId] = t[600]!;
    rows[SWARM_ROW.userId] = alice;
    rows[SWARM_ROW.port] = 6881;
    rows[SWARM_ROW.flags] = SWARM_FLAG.seeder;
    rows[SWARM_ROW.lastSeen] = 1_800_000_000;
    rows[SWARM_ROW.uploaded] = 2 ** 40 + 3;
    rows[SWARM_ROW.downloaded] = 7;
    const swarm = {
      peers: { rows, peerIds: peerId, addresses: new Uint8Array([10, 1, 2, 3, ...new Array(12).fill(0)]) },
      removed: new Float64Array(0),
      removedIds: new Uint8Array(0),
    };
    // A batch with no credit row at all still carries its peers.
    down.add("run-p", 1, new Float64Array(0), swarm);
    expect(await down.stop(2000)).toBe(0);
    expect(down.pending.batches).toBe(1);
    down.spill(file);
    await away.end();

    const up = new StatsWriter(db.sql, 60_000);
    up.restore(file);
    await up.flush();
    expect(up.pending.batches).toBe(0);
    const saved = await db.sql<
      {
        userId: number;
        address: Buffer;
        port: number;
        seeder: boolean;
        uploaded: number;
        downloaded: number;
      }[]
    >`
      select user_id, address, port, seeder, uploaded, downloaded from tracker_peers
      where torrent_id = ${t[600]!} and peer_id = ${Buffer.from(peerId)}
    `;
    expect(saved.map((r) => ({ ...r, address: [...r.address] }))).toEqual([
      {
        userId: alice,
        address: [10, 1, 2, 3],
        port: 6881,
        seeder: true,
        uploaded: 2 ** 40 + 3,
        downloaded: 7,
      },
    ]);
    // Its removal in a later batch deletes it.
    await applyStatBatch(db.sql, {
      source: "run-p",
      seq: 2,
      deltas: new Float64Array(0),
      refused: [],
      swarm: {
        peers: { rows: new Float64Array(0), peerIds: new Uint8Array(0), addresses: new Uint8Array(0) },
        removed: Float64Array.from([t[600]!, alice]),
        removedIds: peerId,
      },
    });
    expect(
      (await db.sql`select count(*)::int as n from tracker_peers where torrent_id = ${t[600]!}`)[0]!.n,
    ).toBe(0);
  });
});

describe("the attack over real sockets", () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  beforeAll(async () => {
    server = await startTestServer({
      FAIRYWREN_MIN_ANNOUNCE_INTERVAL: "0",
      FAIRYWREN_LOG_LEVEL: "error",
      // The ceiling's tests: forged upload must reach it, so byte conservation (which credits the
      // forger nothing, see test/tracker/attacks.test.ts) is off here.
      FAIRYWREN_BYTE_CONSERVATION: "false",
    });
  });
  afterAll(async () => {
    await server?.stop();
  });

  test("forged totals past bigint stop neither an honest member's credit nor the swarm counts", async () => {
    const sql = server.running.db.sql;
    const ids: Record<string, { id: number; passkey: string }> = {};
    for (const name of ["honest", "forger"]) {
      const { user } = await createUser(sql, { name, passwordHash: "x" });
      await server.running.sync.user(user.id);
      ids[name] = user;
    }
    const hashes = [1, 2, 3, 4].map((n) => bytes20(n, 0x5a));
    const torrents: number[] = [];
    for (const hash of hashes) {
      const [row] = await sql`
        insert into torrents (info_hash, title, size, files, metainfo)
        values (${Buffer.from(hash)}, 'Attack test', 1, '[]', ${Buffer.from("de")}) returning id
      `;
      await server.running.sync.torrent(row!.id);
      torrents.push(row!.id);
    }
    const announce = async (who: string, hash: Uint8Array, peer: number, uploaded: number, left: number) => {
      const q = announceQuery({ infoHash: hash, peerId: bytes20(peer), uploaded, left, event: "started" });
      return (await fetch(`${server.tracker}/${ids[who]!.passkey}/announce?${q}`)).text();
    };
    // A leecher first: the swarm has someone to upload to.
    const { user: leecher } = await createUser(sql, { name: "leecher", passwordHash: "x" });
    await server.running.sync.user(leecher.id);
    ids.leecher = leecher;
    await announce("leecher", hashes[0]!, 3, 0, 100);
    // 0 then 2^53 - 1, again and again: 1,200 credits of 2^53 - 1 on four torrents.
    for (let round = 0; round < 300; round++)
      await Promise.all(
        hashes.map(async (hash, i) => {
          await announce("forger", hash, 60 + i, 0, 0);
          await announce("forger", hash, 60 + i, Number.MAX_SAFE_INTEGER, 0);
        }),
      );
    // Then an honest member seeds to the leecher (a second later: a transfer takes time) and
    // starts leeching another torrent: credit and counts that must get through.
    expect(await announce("honest", hashes[0]!, 1, 0, 0)).toContain("8:interval");
    await Bun.sleep(1100);
    await announce("honest", hashes[0]!, 1, 123_456, 0);
    await announce("honest", hashes[1]!, 2, 0, 100);

    const deadline = Date.now() + 15_000;
    let seen: unknown = null;
    while (Date.now() < deadline) {
      const [me] = await sql`select uploaded from users where id = ${ids.honest!.id}`;
      const [swarm] = await sql`select leechers from torrent_counts where torrent_id = ${torrents[1]!}`;
      seen = {
        uploaded: me!.uploaded,
        leechers: swarm!.leechers,
        queued: server.running.stats.pending.batches,
      };
      if (me!.uploaded === 123_456 && swarm!.leechers === 1 && server.running.stats.pending.batches === 0)
        break;
      await Bun.sleep(100);
    }
    expect(seen).toEqual({ uploaded: 123_456, leechers: 1, queued: 0 });
    const [forger] = await sql`select uploaded from users where id = ${ids.forger!.id}`;
    expect(BigInt(forger!.uploaded)).toBeLessThanOrEqual(CEILING);
  }, 90_000);
});

describe("totals above 2^53", () => {
  test("reach the API with every digit and the account page in EiB with the exact bytes beside", async () => {
    const api = await apiHarness();
    try {
      const big = await api.memberWithToken("big");
      // 2^60 - 1 and 2^53 + 1: neither is a JavaScript number.
      await api.db.sql`
        update users set uploaded = 1152921504606846975, downloaded = 9007199254740993 where id = ${big.id}
      `;
      const response = await api.call(`/api/v1/users/${big.id}`, { as: big });
      expect(response.status).toBe(200);
      const text = await response.text();
      expect(text).toContain('"uploaded":1152921504606846975');
      expect(text).toContain('"downloaded":9007199254740993');

      const session = await api.login("big");
      const page = await (await api.request("/account", { cookie: session.cookie })).text();
      expect(page).toContain('title="1,152,921,504,606,846,975 bytes"');
      expect(page).toContain("1.00 EiB");
      expect(page).toContain('title="9,007,199,254,740,993 bytes"');
    } finally {
      await api.close();
    }
  });
});
