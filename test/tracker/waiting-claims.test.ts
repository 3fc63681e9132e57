// Byte conservation's waiting claims in the database: written with a credit batch, in its
// transaction, replacing what was saved for the same torrents; read back whole at start; rows of
// torrents that are gone dropped before they are read.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { applyStatBatch } from "../../src/db/queries/stats.ts";
import { settleTrackerPeers, trackerClaims } from "../../src/db/queries/tracker-peers.ts";
import { createUser } from "../../src/db/queries/users.ts";
import { type SwarmChanges, WAITING_FIELDS } from "../../src/shared/channel.ts";
import { type TestDatabase, testDatabase } from "../helpers/database.ts";

const T0 = 1_800_000_000;

function changes(torrents: number[], rows: number[][]): SwarmChanges {
  return {
    peers: { rows: new Float64Array(0), peerIds: new Uint8Array(0), addresses: new Uint8Array(0) },
    removed: new Float64Array(0),
    removedIds: new Uint8Array(0),
    waiting: { torrents: Float64Array.from(torrents), rows: Float64Array.from(rows.flat()) },
  };
}

function unpack(rows: Float64Array): number[][] {
  const out: number[][] = [];
  for (let o = 0; o < rows.length; o += WAITING_FIELDS)
    out.push(Array.from(rows.subarray(o, o + WAITING_FIELDS)));
  return out;
}

describe("waiting claims saved with the credit", () => {
  let db: TestDatabase;
  let alice = 0;
  let bob = 0;
  const torrents: number[] = [];
  const source = crypto.randomUUID();
  let seq = 0;
  const batch = (swarm: SwarmChanges) =>
    applyStatBatch(db.sql, { source, seq: ++seq, deltas: new Float64Array(0), refused: [], swarm });

  beforeAll(async () => {
    db = await testDatabase();
    alice = (await createUser(db.sql, { name: "alice", passwordHash: "x" })).user.id;
    bob = (await createUser(db.sql, { name: "bob", passwordHash: "x" })).user.id;
    for (const n of [1, 2]) {
      const [row] = await db.sql<{ id: number }[]>`
        insert into torrents (info_hash, title, size, files, metainfo)
        values (${Buffer.alloc(20, n)}, ${`t${n}`}, 1000, '[]', ${Buffer.from("de")})
        returning id
      `;
      torrents.push(Number(row!.id));
    }
  });
  afterAll(async () => {
    await db?.close();
  });

  test("a batch replaces the rows of the torrents it names and leaves the others", async () => {
    const [one, two] = torrents as [number, number];
    await batch(
      changes(
        [one, two],
        [
          [one, alice, 0, 400, 0, T0, 0],
          [one, bob, 1, 250.5, 200, T0 + 1, T0 - 5],
          [two, alice, 0, 70, 0, T0 + 2, 0],
        ],
      ),
    );
    expect(unpack(await trackerClaims(db.sql))).toEqual([
      [one, alice, 0, 400, 0, T0, 0],
      [one, bob, 1, 250.5, 200, T0 + 1, T0 - 5],
      [two, alice, 0, 70, 0, T0 + 2, 0],
    ]);
    // Alice's claim on the first torrent is paid: the batch names the torrent with what is left.
    await batch(changes([one], [[one, bob, 1, 0.5, 200, T0 + 3, T0 - 5]]));
    expect(unpack(await trackerClaims(db.sql))).toEqual([
      [one, bob, 1, 0.5, 200, T0 + 3, T0 - 5],
      [two, alice, 0, 70, 0, T0 + 2, 0],
    ]);
    // A batch applied again (same sequence number) changes nothing.
    await applyStatBatch(db.sql, {
      source,
      seq,
      deltas: new Float64Array(0),
      refused: [],
      swarm: changes([one, two], []),
    });
    expect((await trackerClaims(db.sql)).length).toBe(2 * WAITING_FIELDS);
  });

  test("rows of a torrent deleted meanwhile are dropped at start", async () => {
    const [one, two] = torrents as [number, number];
    await db.sql`delete from torrents where id = ${two}`;
    await settleTrackerPeers(db.sql, 0);
    expect(unpack(await trackerClaims(db.sql)).map((r) => r[0])).toEqual([one]);
  });
});
