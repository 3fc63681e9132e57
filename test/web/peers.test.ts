// The web side's peer source: a peer list is asked of the tracker when someone looks, shared by
// the requests of the same second, named from the database, and refused plainly when the tracker
// does not answer. Over a stand-in channel that counts what is asked, on a real database.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { PeersUnavailableError, peerSource } from "../../src/bridge/peers.ts";
import type { ToTracker, ToWeb } from "../../src/bridge/vocabulary.ts";
import { createUser } from "../../src/db/queries/users.ts";
import { PEER_FIELDS, type PeerList } from "../../src/shared/channel.ts";
import { type TestDatabase, testDatabase } from "../helpers/database.ts";

let db: TestDatabase;
let alice = 0;
let bob = 0;

beforeAll(async () => {
  db = await testDatabase();
  alice = (await createUser(db.sql, { name: "alice", passwordHash: "x" })).user.id;
  bob = (await createUser(db.sql, { name: "bob", passwordHash: "x" })).user.id;
  await db.sql`update users set anonymous = true where id = ${bob}`;
});
afterAll(async () => {
  await db?.close();
});

/** A list of peers of these members, as the tracker packs it (member 0 makes a row no tracker would). */
function list(members: number[]): PeerList {
  const rows = new Float64Array(members.length * PEER_FIELDS);
  const peerIds = new Uint8Array(members.length * 20);
  members.forEach((member, i) => {
    rows.set([member, 100 * i, 7, 0, 1, 1_800_000_000 + i], i * PEER_FIELDS);
    peerIds.set(new TextEncoder().encode(`-qB4650-${String(i).padStart(12, "0")}`), i * 20);
  });
  return { rows, peerIds };
}

/** A channel whose tracker answers with `answer` (or not at all, when it returns undefined). */
function channel(answer: (m: Extract<ToTracker, { kind: "peers-request" }>) => PeerList | null | undefined) {
  const asked: Extract<ToTracker, { kind: "peers-request" }>[] = [];
  const listeners: ((m: ToWeb) => void)[] = [];
  return {
    asked,
    send(m: ToTracker) {
      if (m.kind !== "peers-request") return;
      asked.push(m);
      const reply = answer(m);
      if (reply === undefined) return;
      queueMicrotask(() => {
        for (const l of listeners) l({ kind: "peers", nonce: m.nonce, torrentId: m.torrentId, list: reply });
      });
    },
    onMessage(handler: (m: ToWeb) => void) {
      listeners.push(handler);
    },
  };
}

test("names members from the database and drops rows the tracker could not have made", async () => {
  const ch = channel(() => list([alice, bob, 0, 987_654]));
  const rows = (await peerSource(db.sql, ch)(1, 200))!;
  // Member 0 is no member; 987654 does not exist (deleted since): both left out.
  expect(rows.map((r) => [r.name, r.anonymous, r.uploaded, r.seeder])).toEqual([
    ["alice", false, 0, true],
    ["bob", true, 100, true],
  ]);
  expect(rows[0]!.announcedAt.toISOString()).toBe(new Date(1_800_000_000_000).toISOString());
  expect(ch.asked).toEqual([{ kind: "peers-request", nonce: ch.asked[0]!.nonce, torrentId: 1, limit: 200 }]);
});

test("requests for the same list within a second share one question to the tracker", async () => {
  let now = 1_000_000;
  const ch = channel(() => list([alice]));
  const source = peerSource(db.sql, ch, { now: () => now });
  const [a, b] = await Promise.all([source(5, 200), source(5, 200)]);
  expect(a).toEqual(b);
  now += 999;
  await source(5, 200);
  expect(ch.asked.length).toBe(1);
  // Another torrent, or a second later, is asked anew.
  await source(6, 200);
  now += 1;
  await source(5, 200);
  expect(ch.asked.map((m) => m.torrentId)).toEqual([5, 6, 5]);
});

test("an unknown torrent is null; a silent tracker is PeersUnavailableError, not kept for later", async () => {
  let silent = true;
  const ch = channel((m) => (m.torrentId === 9 ? null : silent ? undefined : list([alice])));
  const source = peerSource(db.sql, ch, { timeoutMs: 50 });
  expect(await source(9, 200)).toBeNull();
  await expect(source(10, 200)).rejects.toBeInstanceOf(PeersUnavailableError);
  silent = false;
  expect((await source(10, 200))!.map((r) => r.name)).toEqual(["alice"]);
});
