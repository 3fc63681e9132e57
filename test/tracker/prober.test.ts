// The connectable prober over real sockets on loopback, with real PostgreSQL (or the embedded
// one): a port where nothing listens and a peer answering for another torrent are "no"; a peer
// answering the same torrent is "yes"; at most `probesPerSecond` probes start per tick, counted by
// the listening side; an outcome is kept until it is an hour old, then the peer is probed again.
// (A real BitTorrent client probed "yes" is in test/e2e/connectable.test.ts.)
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Socket, TCPSocketListener } from "bun";
import { ConnectableProber, handshake, probePeer } from "../../src/bridge/prober.ts";
import { dueProbes, torrentConnectable } from "../../src/db/queries/probes.ts";
import { createUser } from "../../src/db/queries/users.ts";
import { type TestDatabase, testDatabase } from "../helpers/database.ts";

const OURS = new TextEncoder().encode("-FW0001-000000000000");

/** A loopback TCP server answering every handshake with one for `infoHash` (null: for the one it got). */
function answering(infoHash: Uint8Array | null): TCPSocketListener<{ got: number }> & { accepted: number } {
  const state = { accepted: 0 };
  const server = Bun.listen<{ got: number }>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(socket) {
        state.accepted++;
        socket.data = { got: 0 };
      },
      data(socket: Socket<{ got: number }>, chunk) {
        socket.data.got += chunk.length;
        if (socket.data.got < 68) return;
        const theirs = chunk.subarray(28, 48);
        socket.write(handshake(infoHash ?? theirs, new TextEncoder().encode("-XX0001-abcdefghijkl")));
      },
    },
  });
  return Object.defineProperty(server, "accepted", { get: () => state.accepted }) as never;
}

/** A loopback server that accepts and closes every connection, counting them. */
function closing(): { port: number; accepted: number; stop(): void } {
  let accepted = 0;
  const server = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(socket) {
        accepted++;
        socket.end();
      },
      data() {},
    },
  });
  return {
    port: server.port,
    get accepted() {
      return accepted;
    },
    stop: () => server.stop(true),
  };
}

/** A port where nothing listens: bound, then released. */
async function deadPort(): Promise<number> {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return port;
}

const hash = (n: number) => {
  const b = new Uint8Array(20).fill(0xa0);
  b[0] = n;
  return b;
};

describe("one probe", () => {
  test("a peer answering the same info_hash is connectable", async () => {
    const server = answering(null);
    expect(await probePeer("127.0.0.1", server.port, hash(1), OURS, 3000)).toBe(true);
    server.stop(true);
  });

  test("a peer answering with another info_hash is not", async () => {
    const server = answering(hash(9));
    expect(await probePeer("127.0.0.1", server.port, hash(1), OURS, 3000)).toBe(false);
    expect(server.accepted).toBe(1);
    server.stop(true);
  });

  test("a port where nothing listens is not", async () => {
    expect(await probePeer("127.0.0.1", await deadPort(), hash(1), OURS, 3000)).toBe(false);
  });

  test("a peer that closes without answering is not", async () => {
    const server = closing();
    expect(await probePeer("127.0.0.1", server.port, hash(1), OURS, 3000)).toBe(false);
    server.stop();
  });
});

describe("the prober", () => {
  let db: TestDatabase;
  let member = 0;
  const torrents: number[] = [];

  /** Saves a member's peer in a torrent's swarm, as the tracker would with its credit. */
  async function peer(torrentId: number, port: number, seeder: boolean, n: number): Promise<void> {
    await db.sql`
      insert into tracker_peers (torrent_id, user_id, peer_id, kept, address, port, seeder, last_seen, uploaded,
        downloaded, left_bytes)
      values (${torrentId}, ${member}, ${Buffer.alloc(20, n)}, false, ${Buffer.from([127, 0, 0, 1])}, ${port},
        ${seeder}, ${Math.floor(Date.now() / 1000)}, 0, 0, ${seeder ? 0 : 100})
    `;
  }

  beforeAll(async () => {
    db = await testDatabase();
    member = (await createUser(db.sql, { name: "mia", passwordHash: "x" })).user.id;
    for (let n = 1; n <= 7; n++) {
      const [row] = await db.sql<{ id: number }[]>`
        insert into torrents (info_hash, title, size, files, metainfo)
        values (${Buffer.from(hash(n))}, ${`t${n}`}, 1000, '[]', ${Buffer.from("de")})
        returning id
      `;
      torrents.push(Number(row!.id));
    }
  });
  afterAll(async () => {
    await db?.close();
  });

  test("probes at most its rate a tick, seeders first, and keeps each outcome an hour", async () => {
    const server = closing();
    // Seven peers at one address and port, each for its own torrent: seven probes due, two leechers.
    for (let i = 0; i < 7; i++) await peer(torrents[i]!, server.port, i >= 2, i + 1);
    expect((await dueProbes(db.sql, 100, 3600)).length).toBe(7);
    const prober = new ConnectableProber(db.sql, { probesPerSecond: 3, timeoutMs: 3000 });
    expect(await prober.tick()).toBe(3);
    expect(server.accepted).toBe(3);
    expect(prober.made).toBe(3);
    // The seeders went first: the leechers are still due.
    const due = await dueProbes(db.sql, 100, 3600);
    expect(due.length).toBe(4);
    expect(due.filter((p) => !p.seeder).length).toBe(2);
    expect(await prober.tick()).toBe(3);
    expect(await prober.tick()).toBe(1);
    expect(await prober.tick()).toBe(0);
    expect(server.accepted).toBe(7);
    const [count] = await db.sql<{ n: number; yes: number }[]>`
      select count(*)::int as n, count(*) filter (where connectable)::int as yes from peer_probes
    `;
    expect(count).toEqual({ n: 7, yes: 0 });
    // An hour later they are due again (a prober that found nothing due reads again 5 s later: a
    // fresh one here).
    await db.sql`update peer_probes set probed_at = probed_at - interval '61 minutes'`;
    const later = new ConnectableProber(db.sql, { probesPerSecond: 3, timeoutMs: 3000 });
    expect(await later.tick()).toBe(3);
    expect(server.accepted).toBe(10);
    server.stop();
    await db.sql`delete from tracker_peers`;
    await db.sql`delete from peer_probes`;
  });

  test("the peer list's connectable state: yes, no, or absent (unknown) per saved peer", async () => {
    const yes = answering(null);
    const wrong = answering(hash(99));
    const t = torrents[0]!;
    await peer(t, yes.port, true, 1);
    await peer(t, wrong.port, true, 2);
    await peer(t, await deadPort(), true, 3);
    const prober = new ConnectableProber(db.sql, { probesPerSecond: 2, timeoutMs: 3000 });
    expect(await prober.tick()).toBe(2);
    // Two probed, one not yet: three states.
    const states = await torrentConnectable(db.sql, t);
    expect(states.size).toBe(2);
    expect(await prober.tick()).toBe(1);
    const all = await torrentConnectable(db.sql, t);
    const byPeer = (n: number) => all.get(`${member}:${Buffer.alloc(20, n).toString("hex")}`);
    expect([byPeer(1), byPeer(2), byPeer(3)]).toEqual([true, false, false]);
    yes.stop(true);
    wrong.stop(true);
  });
});
